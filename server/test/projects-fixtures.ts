import type { TRPCClient } from "@trpc/client";
import type { Database } from "@viper/db/client";
import { chains } from "@viper/db/schema/chains";
import { mailOutbox } from "@viper/db/schema/mail-outbox";
import { type ChainSeed, upsertChains } from "@viper/db/seed";
import { keyInvalidatedChannel } from "@viper/shared/key-invalidation";
import type { KeyValueStore } from "@viper/shared/store";
import { and, desc, eq } from "drizzle-orm";
import type { AppRouter } from "../src/router.ts";
import {
  goodPassword,
  signInForTokens,
  signUpWithTokens,
  startTestServer,
  type TestServer,
  uniqueEmail,
} from "./helpers/harness.ts";

/** The chains every project test can choose from; "0099" exists but is switched off. */
export const testChains: ChainSeed[] = [
  { id: "0021", slug: "eth-mainnet", name: "Ethereum", evmChainId: 1, supportsWebsocket: true },
  { id: "0022", slug: "polygon", name: "Polygon", evmChainId: 137, supportsWebsocket: false },
  { id: "0023", slug: "base", name: "Base", evmChainId: 8453, supportsWebsocket: true },
];

export const relayPublicUrl = "https://rpc.viper.example";

/** A test server with the test chains, a public relay URL and cheap password hashing. */
export async function startProjectServer(): Promise<TestServer> {
  const server = await startTestServer({
    PASSWORD_HASH_MEMORY_KIB: "1024",
    PASSWORD_HASH_TIME_COST: "1",
    RELAY_PUBLIC_URL: `${relayPublicUrl}/`,
  });
  await upsertChains(server.db, [
    ...testChains,
    { id: "0099", slug: "retired", name: "Retired chain" },
  ]);
  await server.db.update(chains).set({ enabled: false }).where(eq(chains.id, "0099"));
  return server;
}

/** A signed-in, verified user and a client acting as them. */
export interface TestUser {
  id: string;
  email: string;
  api: TRPCClient<AppRouter>;
}

export async function signUp(server: TestServer, label = "user"): Promise<TestUser> {
  const { email, user, tokens } = await signUpWithTokens(server, uniqueEmail(label));
  return { id: user.id, email, api: server.client({ token: tokens.accessToken }) };
}

/** A signed-in user who has not verified their address. */
export async function signUpUnverified(
  server: TestServer,
  label = "unverified",
): Promise<TestUser> {
  const email = uniqueEmail(label);
  const anonymous = server.client();
  await anonymous.auth.register.mutate({ email, password: goodPassword });
  const { user, tokens } = await signInForTokens(anonymous, email);
  return { id: user.id, email, api: server.client({ token: tokens.accessToken }) };
}

/** The token in the newest invitation mail to an address, as the invitee clicks it. */
export async function inviteTokenFor(db: Database, email: string): Promise<string> {
  const [mail] = await db
    .select()
    .from(mailOutbox)
    .where(and(eq(mailOutbox.recipient, email), eq(mailOutbox.kind, "project-invite")))
    .orderBy(desc(mailOutbox.createdAt))
    .limit(1);
  const link = mail ? /https?:\/\/\S+/.exec(mail.bodyText)?.[0] : undefined;
  const token = link ? new URL(link).searchParams.get("token") : null;
  if (!token) {
    throw new Error(`no invitation mail for ${email}`);
  }
  return token;
}

/** Invites a user into a project with a role and has them accept, as they would by mail. */
export async function addMember(
  server: TestServer,
  inviter: TestUser,
  projectId: string,
  member: TestUser,
  role: "admin" | "developer" | "viewer",
): Promise<void> {
  await inviter.api.members.invite.mutate({ projectId, email: member.email, role });
  await member.api.members.acceptInvite.mutate({
    token: await inviteTokenFor(server.db, member.email),
  });
}

/** Records every key-invalidation message, so a test can wait for the ones it expects. */
export async function watchInvalidations(store: KeyValueStore) {
  const seen: string[] = [];
  const stop = await store.subscribe(keyInvalidatedChannel, (keyHash) => {
    seen.push(keyHash);
  });
  return {
    seen,
    /** Resolves once every hash has been seen; fails after a generous deadline. */
    async waitFor(hashes: string[]): Promise<void> {
      const deadline = Date.now() + 5_000;
      while (!hashes.every((hash) => seen.includes(hash))) {
        if (Date.now() > deadline) {
          throw new Error(
            `invalidations not seen: ${hashes.filter((hash) => !seen.includes(hash)).join(", ")}`,
          );
        }
        await Bun.sleep(10);
      }
    },
    stop,
  };
}

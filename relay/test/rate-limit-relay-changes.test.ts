import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { createTRPCClient, httpLink, type TRPCClient, TRPCClientError } from "@trpc/client";
import { projectMembers } from "@viper/db/schema/project-members";
import { users } from "@viper/db/schema/users";
import { loadServerConfig } from "@viper/server/config";
import { type RunningServer, startServer } from "@viper/server/main";
import type { AppRouter } from "@viper/server/router";
import { publishRateLimitConfig } from "@viper/shared/rate-limit-config";
import type { KeyValueStore } from "@viper/shared/store";
import { eq } from "drizzle-orm";
import type { RelayApp } from "../src/app.ts";
import { parseRateLimitConfig } from "../src/rate-limit/config.ts";
import { captureLogger, type Harness, rpc, startHarness, storeDriver } from "./harness.ts";
import {
  addProject,
  call,
  firstKey,
  type LimitError,
  limitHeaders,
  relayInstance,
  secondStoreFor,
  type TestKey,
  type TestProject,
  waitFor,
} from "./rate-limit-relay-fixtures.ts";

const plenty = { perSecond: 1_000_000 };
const unlimited = { project: plenty, key: plenty };

/** The relays' own RATE_LIMITS; the admin's configuration replaces it at run time. */
const rates = parseRateLimitConfig({
  defaultTier: "unlimited",
  tiers: {
    unlimited,
    "hundred-a-second": { project: plenty, key: { perSecond: 100 } },
    small: { project: plenty, key: { perSecond: 0.001, burst: 7 } },
  },
});

let harness: Harness;
let serverStore: KeyValueStore;
let secondStore: KeyValueStore;
let second: RelayApp;
let server: RunningServer;
let api: TRPCClient<AppRouter>;
let userId: string;

beforeAll(async () => {
  harness = await startHarness({ rateLimit: rates });
  secondStore = secondStoreFor(harness);
  second = relayInstance(harness, secondStore, rates);
  await second.decorator.relay.ready;
  // The server talks to the relays only through the database and the store, as in production.
  serverStore = secondStoreFor(harness);
  server = await startServer(
    loadServerConfig({
      NODE_ENV: "test",
      SERVER_HOST: "127.0.0.1",
      SERVER_PORT: "0",
      MAIL_TRANSPORT: "outbox",
    }),
    { db: harness.testDb.db, store: serverStore, logger: captureLogger().logger },
  );
  ({ api, userId } = await signedInUser(server.url));
}, 60_000);

afterAll(async () => {
  await server.stop();
  await second.decorator.relay.close();
  for (const store of new Set([serverStore, secondStore])) {
    if (store !== harness.store) {
      await store.close();
    }
  }
  await harness.close();
});

/** Registers and signs in a user through the server, as an API client (bearer token). */
async function signedInUser(url: string) {
  const client = (token?: string) =>
    createTRPCClient<AppRouter>({
      links: [
        httpLink({
          url: `${url}/trpc`,
          headers: () => (token ? { authorization: `Bearer ${token}` } : {}),
        }),
      ],
    });
  const email = `limits-admin-${randomBytes(4).toString("hex")}@example.com`;
  const password = "a long and unguessable test password";
  await client().auth.register.mutate({ email, password });
  const signedIn = await client().auth.signIn.mutate({ email, password, mode: "token" });
  if (!signedIn.tokens) {
    throw new Error("token mode returned no tokens");
  }
  return { api: client(signedIn.tokens.accessToken), userId: signedIn.user.id };
}

async function joinAsDeveloper(project: TestProject): Promise<void> {
  await harness.testDb.db
    .insert(projectMembers)
    .values({ projectId: project.projectId, userId, role: "developer" });
}

async function setPlatformRole(role: "admin" | "user"): Promise<void> {
  await harness.testDb.db.update(users).set({ role }).where(eq(users.id, userId));
}

/** The RateLimit-Limit a relay instance answers a key with now. */
async function limitSeenBy(app: RelayApp, key: TestKey): Promise<string | undefined> {
  const answer = await call(app, key, rpc("eth_chainId", 1));
  return limitHeaders(answer.headers)["ratelimit-limit"];
}

/**
 * Asks every instance until each answers with `expected`, for at most one second from now;
 * returns what each answered last.
 */
async function limitsWithinOneSecond(apps: RelayApp[], key: TestKey, expected: string) {
  const deadline = Date.now() + 1_000;
  let seen: (string | undefined)[] = [];
  do {
    seen = await Promise.all(apps.map((app) => limitSeenBy(app, key)));
    if (seen.every((limit) => limit === expected)) {
      break;
    }
    await Bun.sleep(20);
  } while (Date.now() < deadline);
  return seen;
}

describe(`limits changed at run time, relays on the ${storeDriver} store`, () => {
  test("a key's new rate set through the server is obeyed by running relays within a second", async () => {
    const project = await addProject(harness, "hundred-a-second");
    const key = firstKey(project);
    await joinAsDeveloper(project);
    const before = await Promise.all([harness.app, second].map((app) => limitSeenBy(app, key)));

    await api.keys.updateRules.mutate({
      projectId: project.projectId,
      keyId: key.keyId,
      rules: { ratePerSecond: 5 },
    });
    const after = await limitsWithinOneSecond([harness.app, second], key, "10");
    const burst = [];
    for (let index = 0; index < 15; index++) {
      burst.push(await call(harness.app, key, rpc("eth_chainId", index)));
    }

    // 100 a second with two seconds of burst, then 5 a second: a burst of 10.
    expect(before).toEqual(["200", "200"]);
    expect(after).toEqual(["10", "10"]);
    const refused = burst.find((answer) => answer.status === 429);
    expect((refused?.json as LimitError | undefined)?.error.message).toContain(
      "key limit of 5 compute units per second",
    );
  });

  test("a tier configuration put in force by an admin applies on every relay within a second", async () => {
    const project = await addProject(harness, "gold");
    const key = firstKey(project);
    await setPlatformRole("admin");
    const before = await limitSeenBy(harness.app, key);

    await api.admin.setRateLimitConfig.mutate({
      config: {
        defaultTier: "unlimited",
        tiers: { unlimited, gold: { project: plenty, key: { perSecond: 0.001, burst: 3 } } },
      },
    });
    const changed = await limitsWithinOneSecond([harness.app, second], key, "3");
    const stored = await api.admin.rateLimitConfig.query();
    await api.admin.setRateLimitConfig.mutate({ config: null });
    const restored = await limitsWithinOneSecond([harness.app, second], key, "2000000");

    // "gold" is not a tier of the relays' own configuration, so it gets their default tier.
    expect(before).toBe("2000000");
    expect(changed).toEqual(["3", "3"]);
    expect(stored.config).toMatchObject({ tiers: { gold: { key: { burst: 3 } } } });
    expect(restored).toEqual(["2000000", "2000000"]);
  });

  test("moving a project to another tier through the server applies within a second", async () => {
    const project = await addProject(harness, "unlimited");
    const key = firstKey(project);
    await setPlatformRole("admin");
    const before = await limitSeenBy(harness.app, key);

    const moved = await api.admin.setProjectTier.mutate({
      projectId: project.projectId,
      tier: "small",
    });
    const after = await limitsWithinOneSecond([harness.app, second], key, "7");

    expect(before).toBe("2000000");
    expect(moved).toEqual({ id: project.projectId, tier: "small" });
    expect(after).toEqual(["7", "7"]);
  });

  test("a configuration the relays cannot read is reported and the limits in force stay", async () => {
    const key = firstKey(await addProject(harness, "small"));
    const reported = () =>
      harness.logLines.filter((line) => line.includes("rate limit config in the store is invalid"));

    // Written past the server's validation, as a hand-edited store entry would be.
    await publishRateLimitConfig(serverStore, JSON.stringify({ defaultTier: "nowhere" }));
    await waitFor(() => reported().length > 0);
    const during = await limitSeenBy(harness.app, key);
    await publishRateLimitConfig(serverStore, null);

    expect(reported()).toHaveLength(1);
    expect(JSON.parse(reported()[0] ?? "{}")).toMatchObject({ level: 50 });
    expect(during).toBe("7");
  });

  test("the server refuses an invalid configuration, and a non-admin's change", async () => {
    await setPlatformRole("admin");
    const invalid = await api.admin.setRateLimitConfig
      .mutate({ config: { defaultTier: "missing", tiers: { unlimited } } })
      .catch((error: unknown) => error);
    await setPlatformRole("user");
    const forbidden = await api.admin.setRateLimitConfig
      .mutate({ config: null })
      .catch((error: unknown) => error);

    expect(invalid).toBeInstanceOf(TRPCClientError);
    expect((invalid as TRPCClientError<AppRouter>).data).toMatchObject({
      appCode: "INVALID_INPUT",
    });
    expect(forbidden).toBeInstanceOf(TRPCClientError);
    expect((forbidden as TRPCClientError<AppRouter>).data).toMatchObject({
      appCode: "ADMIN_REQUIRED",
    });
    expect(await limitSeenBy(harness.app, firstKey(await addProject(harness, "small")))).toBe("7");
  });
});

import { afterAll, beforeAll, expect } from "bun:test";
import { randomBytes } from "node:crypto";
import {
  createTRPCClient,
  httpBatchLink,
  httpLink,
  type TRPCClient,
  TRPCClientError,
  type TRPCLink,
} from "@trpc/client";
import type { AnyRouter } from "@trpc/server";
import type { Database } from "@viper/db/client";
import { mailOutbox } from "@viper/db/schema/mail-outbox";
import { createTestDatabase, type TestDatabase, testDriver } from "@viper/db/testing";
import { createLogger } from "@viper/shared/logger";
import { type KeyValueStore, MemoryStore, RedisStore } from "@viper/shared/store";
import { and, desc, eq } from "drizzle-orm";
import type { JWK } from "jose";
import { generateSigningJwk } from "../../src/auth/access-tokens.ts";
import { loadServerConfig, type ServerConfig } from "../../src/config.ts";
import { type ServerOverrides, startServer } from "../../src/main.ts";
import type { AppRouter } from "../../src/router.ts";
import type { AppErrorData } from "../../src/trpc.ts";
import { CookieJar } from "./cookie-jar.ts";
import { LogCapture } from "./logs.ts";

export const testStoreKind: "memory" | "redis" =
  process.env.TEST_STORE === "redis" ? "redis" : "memory";
export const dashboardUrl = "http://localhost:5173";

/** One database, store and server for a whole test file. */
export interface TestServer {
  url: string;
  db: Database;
  store: KeyValueStore;
  config: ServerConfig;
  logs: LogCapture;
  /** The private JWK the server signs access tokens with, for tests that forge tokens. */
  signingJwk: JWK;
  /** A client as the dashboard (cookies) or an API client (bearer token) would use it. */
  client(options?: ClientOptions): TRPCClient<AppRouter>;
  stop(): Promise<void>;
}

export interface ClientOptions {
  token?: string;
  jar?: CookieJar;
  /** One HTTP request per call instead of batches. */
  unbatched?: boolean;
  headers?: Record<string, string>;
}

function openTestStore(): KeyValueStore {
  if (testStoreKind === "redis") {
    const prefix = `vp-test-${randomBytes(6).toString("hex")}:`;
    return new RedisStore({ url: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379", prefix });
  }
  return new MemoryStore();
}

/** Starts the server on a free port with a fresh database (TEST_DB) and store (TEST_STORE). */
export async function startTestServer(
  env: Record<string, string> = {},
  overrides: ServerOverrides & { router?: AnyRouter } = {},
): Promise<TestServer> {
  const database: TestDatabase = await createTestDatabase();
  const store = openTestStore();
  const logs = new LogCapture();
  const signingJwk = await generateSigningJwk("test-key-1");
  const config = loadServerConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "trace",
    SERVER_HOST: "127.0.0.1",
    SERVER_PORT: "0",
    PUBLIC_URL: "http://127.0.0.1:3000",
    DASHBOARD_URL: dashboardUrl,
    JWT_SIGNING_KEY: JSON.stringify(signingJwk),
    MAIL_TRANSPORT: "outbox",
    REGISTRATIONS_PER_IP_PER_HOUR: "1000",
    ...env,
  });
  const logger = createLogger({
    service: "server",
    level: "trace",
    environment: "test",
    destination: logs,
  });
  const server = await startServer(config, { db: database.db, store, logger, ...overrides });

  return {
    url: server.url,
    db: database.db,
    store,
    config,
    logs,
    signingJwk,
    client: (options = {}) => createClient(server.url, options),
    async stop() {
      await server.stop();
      await store.close();
      await database.close();
    },
  };
}

/**
 * Starts a test server before the tests of the enclosing describe and stops it after them. The
 * server returned reads through to the started one, so it is used only inside tests and hooks.
 */
export function useTestServer(
  env: Record<string, string> = {},
  overrides: ServerOverrides & { router?: AnyRouter } = {},
  timeoutMs?: number,
): TestServer {
  return useServer(() => startTestServer(env, overrides), timeoutMs);
}

/** As useTestServer, for a server that `start` makes (seeded, say) before the tests run. */
export function useServer(start: () => Promise<TestServer>, timeoutMs?: number): TestServer {
  let started: TestServer | null = null;
  beforeAll(async () => {
    started = await start();
  }, timeoutMs);
  afterAll(async () => {
    await started?.stop();
  });
  return new Proxy({} as TestServer, {
    get(_target, name) {
      if (started === null) {
        throw new Error("the test server is used before beforeAll started it");
      }
      return Reflect.get(started, name);
    },
  });
}

/** A typed client for the app router, or for a test router given as type argument. */
export function createClient<TRouter extends AnyRouter = AppRouter>(
  url: string,
  options: ClientOptions = {},
): TRPCClient<TRouter> {
  const linkOptions = {
    url: `${url}/trpc`,
    headers: (): Record<string, string> => ({
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    }),
    ...(options.jar ? { fetch: options.jar.fetch } : {}),
  };
  const link = options.unbatched
    ? httpLink<AppRouter>(linkOptions)
    : httpBatchLink<AppRouter>(linkOptions);
  // Test routers extend the app router on the same tRPC root (no transformer), so its link fits.
  return createTRPCClient<TRouter>({ links: [link as unknown as TRPCLink<TRouter>] });
}

/** Awaits a call that must fail and returns its error data, checking the fields given. */
export async function expectError(
  call: Promise<unknown>,
  expected: Partial<AppErrorData>,
): Promise<AppErrorData> {
  const error = await call.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TRPCClientError);
  const data = (error as TRPCClientError<AppRouter>).data as AppErrorData;
  expect(data).toMatchObject(expected);
  return data;
}

/** The link in the newest verification mail to an address, exactly as mailed. */
export async function verificationLinkFor(db: Database, email: string): Promise<URL> {
  const [mail] = await db
    .select()
    .from(mailOutbox)
    .where(and(eq(mailOutbox.recipient, email), eq(mailOutbox.kind, "verify-email")))
    .orderBy(desc(mailOutbox.createdAt))
    .limit(1);
  const link = mail ? /https?:\/\/\S+/.exec(mail.bodyText)?.[0] : undefined;
  if (!link) {
    throw new Error(`no verification mail for ${email}`);
  }
  return new URL(link);
}

/** The token from the newest verification mail to an address, as a user clicks it. */
export async function verificationTokenFor(db: Database, email: string): Promise<string> {
  const token = (await verificationLinkFor(db, email)).searchParams.get("token");
  if (!token) {
    throw new Error(`the verification mail for ${email} has no token`);
  }
  return token;
}

let counter = 0;
/** A unique address per call, so tests in one file never collide. */
export function uniqueEmail(label = "user"): string {
  counter += 1;
  return `${label}-${counter}-${randomBytes(3).toString("hex")}@example.com`;
}

export const goodPassword = "correct horse battery staple";

/** Registers, verifies and signs in with tokens: an API client's usual start. */
export async function signUpWithTokens(server: TestServer, email = uniqueEmail()) {
  const anonymous = server.client();
  await anonymous.auth.register.mutate({ email, password: goodPassword });
  await anonymous.auth.verifyEmail.mutate({ token: await verificationTokenFor(server.db, email) });
  return { email, ...(await signInForTokens(anonymous, email)) };
}

/** Signs in with `goodPassword` in token mode, as an API client does; fails without tokens. */
export async function signInForTokens(client: TRPCClient<AppRouter>, email: string) {
  const signedIn = await client.auth.signIn.mutate({
    email,
    password: goodPassword,
    mode: "token",
  });
  if (!signedIn.tokens) {
    throw new Error("token mode returned no tokens");
  }
  return { user: signedIn.user, tokens: signedIn.tokens };
}

export { CookieJar, testDriver };

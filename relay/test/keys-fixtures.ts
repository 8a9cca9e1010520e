/**
 * What the keys-*.test.ts files share: a real server (keys are made and changed through its
 * typed tRPC client) and relay instances, all on one test database and one store, against the
 * devnet. Each relay counts its own SQL, so a test can say a request cost no database query.
 */
import { randomBytes } from "node:crypto";
import type { PGlite } from "@electric-sql/pglite";
import type { TRPCClient } from "@trpc/client";
import { type Database, openDatabase, schema } from "@viper/db/client";
import { upsertChains } from "@viper/db/seed";
import { createTestDatabase, type TestDatabase } from "@viper/db/testing";
import { type Devnet, startDevnet } from "@viper/devnet/devnet";
import type { AppRouter } from "@viper/server/router";
import { type KeyValueStore, MemoryStore, RedisStore } from "@viper/shared/store";
import { drizzle } from "drizzle-orm/pglite";
import {
  goodPassword,
  signInForTokens,
  startTestServer,
  type TestServer,
  uniqueEmail,
  verificationTokenFor,
} from "../../server/test/helpers/harness.ts";
import { createRelayApp, type RelayApp } from "../src/app.ts";
import {
  BLOCKS_PER_SESSION,
  CHAIN_ID,
  CHAIN_SLUG,
  captureLogger,
  defaultLimits,
  devnetViper,
  storeDriver,
} from "./harness.ts";

/** An enabled chain a project may pick; the devnet does not serve it. */
export const OTHER_CHAIN_ID = "0022";

/** Opens connections onto one store's data: the server's and each relay's. */
export interface StoreSource {
  open(): KeyValueStore;
}

/** Connections to one Redis under one fresh prefix (`prefix`, to reach it by another way). */
export function redisStoreSource(url: string): StoreSource & { prefix: string } {
  const prefix = `vp-keys-test-${randomBytes(4).toString("hex")}:`;
  return { prefix, open: () => new RedisStore({ url, prefix }) };
}

/** The store TEST_STORE names: Redis connections sharing a prefix, or one in-process store. */
export function testStoreSource(): StoreSource {
  if (storeDriver === "redis") {
    return redisStoreSource(process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379");
  }
  const shared = new MemoryStore();
  // The server and every relay use this one instance, as processes share one Redis.
  return { open: () => shared };
}

/** One relay instance: its app, the SQL it sent, and its log lines. */
export interface RelayInstance {
  app: RelayApp;
  /** Every SQL statement this instance sent, in order; a test may empty it. */
  queries: string[];
  logLines: string[];
  /** Its store connection. */
  store: KeyValueStore;
  /** The base URL when started with `listen`, for requests over a real socket. */
  url: string | null;
  close(): Promise<void>;
}

export interface RelayInstanceOptions {
  /** Listen on a loopback port, so the caller's address is known. */
  listen?: boolean;
  /** The store connection to use; a new one from the world's source otherwise. */
  store?: KeyValueStore;
}

export interface KeysWorld {
  devnet: Devnet;
  database: TestDatabase;
  server: TestServer;
  /** The server's store connection. */
  store: KeyValueStore;
  /** A signed-in, verified user acting through the typed client. */
  owner: TRPCClient<AppRouter>;
  /** A project of `owner` on the devnet chain and OTHER_CHAIN_ID; returns its id. */
  createProject(settings?: { allowedOrigins?: string[] }): Promise<string>;
  startRelay(options?: RelayInstanceOptions): Promise<RelayInstance>;
  /** Stops every relay started here, the server, the stores, the database and the devnet. */
  close(): Promise<void>;
}

/**
 * Starts devnet, database, store and server; relays are started with `startRelay`. When a step
 * fails, what was already started is stopped before the error goes on.
 */
export async function startKeysWorld(stores: StoreSource = testStoreSource()): Promise<KeysWorld> {
  // Undone in reverse order by close().
  const stops: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const stop of stops.splice(0).reverse()) {
      await stop();
    }
  };
  try {
    return await buildWorld(stores, stops, close);
  } catch (error) {
    await close();
    throw error;
  }
}

async function buildWorld(
  stores: StoreSource,
  stops: Array<() => Promise<void>>,
  close: () => Promise<void>,
): Promise<KeysWorld> {
  const devnet = await startDevnet({
    anvil: true,
    chains: [{ id: CHAIN_ID }],
    servicerCount: 5,
    blocksPerSession: BLOCKS_PER_SESSION,
    blockTimeMs: 3_600_000,
  });
  stops.push(() => devnet.stop());
  const database = await createTestDatabase();
  stops.push(() => database.close());
  await upsertChains(database.db, [
    { id: CHAIN_ID, slug: CHAIN_SLUG, name: "Ethereum devnet", evmChainId: devnet.anvil?.chainId },
    { id: OTHER_CHAIN_ID, slug: "other-devnet", name: "A chain the devnet does not serve" },
  ]);
  // The memory source hands out one store every time; it is closed once.
  const opened = new Set<KeyValueStore>();
  stops.push(async () => {
    for (const each of opened) {
      await each.close();
    }
  });
  const store = stores.open();
  opened.add(store);
  const server = await startTestServer(
    { PASSWORD_HASH_MEMORY_KIB: "1024", PASSWORD_HASH_TIME_COST: "1" },
    { db: database.db, store },
  );
  stops.push(() => server.stop());
  const owner = await signUp(server, database.db);

  let projects = 0;
  const createProject: KeysWorld["createProject"] = async (settings = {}) => {
    projects += 1;
    const project = await owner.projects.create.mutate({
      name: `keys test ${projects}`,
      chains: [CHAIN_ID, OTHER_CHAIN_ID],
      allowedOrigins: settings.allowedOrigins ?? [],
    });
    return project.id;
  };

  const startRelay: KeysWorld["startRelay"] = async (options = {}) => {
    const relayStore = options.store ?? stores.open();
    opened.add(relayStore);
    const relay = await startRelayInstance(devnet, database, relayStore, options.listen ?? false);
    stops.push(() => relay.close());
    return relay;
  };

  return { devnet, database, server, store, owner, createProject, startRelay, close };
}

/**
 * Registers, verifies and signs in a user. The server was given the world's database, so the
 * verification mail is read there (server.db is the harness's own, unused one).
 */
async function signUp(server: TestServer, db: Database): Promise<TRPCClient<AppRouter>> {
  const email = uniqueEmail("keys-owner");
  const anonymous = server.client();
  await anonymous.auth.register.mutate({ email, password: goodPassword });
  await anonymous.auth.verifyEmail.mutate({ token: await verificationTokenFor(db, email) });
  const { tokens } = await signInForTokens(anonymous, email);
  return server.client({ token: tokens.accessToken });
}

/**
 * A relay with its own database connection: a pool of its own on Postgres, a second drizzle
 * instance over the same PGlite otherwise, so that its queries are counted apart.
 */
async function startRelayInstance(
  devnet: Devnet,
  database: TestDatabase,
  store: KeyValueStore,
  listen: boolean,
): Promise<RelayInstance> {
  const queries: string[] = [];
  const onQuery = (query: string) => {
    queries.push(query);
  };
  const own = database.url ? await openDatabase({ url: database.url, poolSize: 3, onQuery }) : null;
  const db = own?.db ?? pgliteTwin(database.db, onQuery);
  const { logger, lines } = captureLogger();
  const app = createRelayApp({
    db,
    store,
    logger,
    viper: devnetViper([devnet.dispatcherUrl], { heightPollMs: 100 }),
    limits: defaultLimits,
  });
  await app.decorator.relay.ready;
  if (listen) {
    app.listen({ hostname: "127.0.0.1", port: 0 });
  }
  const url = listen && app.server ? `http://127.0.0.1:${app.server.port}` : null;
  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      if (listen) {
        await app.stop();
      }
      await app.decorator.relay.close();
      await own?.close();
    })();
    return closing;
  };
  return { app, queries, logLines: lines, store, url, close };
}

function pgliteTwin(db: Database, onQuery: (query: string) => void): Database {
  const client = (db as unknown as { $client?: unknown }).$client;
  if (client === undefined) {
    throw new Error("the test database exposes no client to share");
  }
  const twin = drizzle({ client: client as PGlite, schema, logger: { logQuery: onQuery } });
  return twin as unknown as Database;
}

/** The relay path of a key on a chain (the devnet chain by default). */
export function rpcPath(apiKey: string, chain = CHAIN_SLUG): string {
  return `/v1/${chain}/${apiKey}`;
}

/** The portal's error code in a single (non-batch) answer, or null for a chain answer. */
export function errorCodeOf(text: string): number | null {
  const body = JSON.parse(text) as { error?: { code?: number } };
  return body.error?.code ?? null;
}

/**
 * Polls `check` until it holds, and fails once `withinMs` have passed: for effects that must
 * show within a promised time (a revocation reaching every relay).
 */
export async function holdsWithin(
  withinMs: number,
  what: string,
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await check()) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`not within ${withinMs} ms: ${what}`);
    }
    await Bun.sleep(20);
  }
}

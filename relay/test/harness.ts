/**
 * What every relay test file needs: a devnet with anvil, a migrated test database with the
 * devnet chain and a project holding a key, a store chosen by TEST_STORE, and a relay app built
 * on them whose log lines are captured for inspection.
 */
import { afterAll, beforeAll } from "bun:test";
import { randomBytes } from "node:crypto";
import { createProjectWithKey, type ProjectWithKey, upsertChains } from "@viper/db/seed";
import { createTestDatabase, type TestDatabase } from "@viper/db/testing";
import { freePort } from "@viper/devnet/anvil";
import { type Devnet, startDevnet } from "@viper/devnet/devnet";
import { generateKeyPair } from "@viper/shared/protocol";
import { type KeyValueStore, MemoryStore, RedisStore } from "@viper/shared/store";
import pino, { type Logger } from "pino";
import {
  createRelayApp,
  type RelayApp,
  type RelayDeps,
  type RelayLimits,
  type ViperSettings,
} from "../src/app.ts";
import { parseRateLimitConfig, type RateLimitConfig } from "../src/rate-limit/config.ts";

export const CHAIN_ID = "0021";
export const CHAIN_SLUG = "eth-devnet";
export const BLOCKS_PER_SESSION = 4;

export const storeDriver: "memory" | "redis" =
  process.env.TEST_STORE === "redis" ? "redis" : "memory";

/** A store of the kind TEST_STORE names; Redis keys get a random prefix per test file. */
export function createTestStore(): KeyValueStore {
  if (storeDriver === "redis") {
    return new RedisStore({
      url: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
      prefix: `vp-relay-test-${randomBytes(4).toString("hex")}:`,
    });
  }
  return new MemoryStore();
}

/** A pino logger at trace level whose lines are kept in memory. */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: "trace" }, { write: (line: string) => lines.push(line) });
  return { logger, lines };
}

export interface HarnessOptions {
  servicerCount?: number;
  limits?: Partial<RelayLimits>;
  onQuery?: (query: string) => void;
  /** Project chains; the devnet chain when omitted. */
  projectChains?: string[];
  heightPollMs?: number;
  relayLog?: { flushIntervalMs?: number; batchSize?: number; spoolDir?: string | null };
  /** Rate limits; unlimitedRates when omitted, so tests about other things are never limited. */
  rateLimit?: RateLimitConfig;
  /** Chains to add besides the devnet chain and "other-chain" (give them in projectChains too). */
  extraChains?: { id: string; slug: string; name: string }[];
  /** Plain JSON-RPC endpoints per chain id (RELAY_PLAIN_UPSTREAMS). */
  plainUpstreams?: Record<string, string[]>;
}

export interface Harness {
  devnet: Devnet;
  anvil: { url: string; chainId: number };
  testDb: TestDatabase;
  store: KeyValueStore;
  app: RelayApp;
  logLines: string[];
  project: ProjectWithKey;
  /** The raw key of `project`. */
  apiKey: string;
  /** The relay path of the devnet chain with `apiKey`. */
  rpcPath: string;
  close(): Promise<void>;
}

/** Limits no test reaches: every project tier falls back to this one. */
export const unlimitedRates: RateLimitConfig = parseRateLimitConfig({
  defaultTier: "unlimited",
  tiers: {
    unlimited: { project: { perSecond: 1_000_000 }, key: { perSecond: 1_000_000 } },
  },
});

export const defaultLimits: RelayLimits = {
  maxBodyBytes: 64 * 1024,
  deadlineMs: 10_000,
  servicerTimeoutMs: 2_500,
};

/** Starts devnet, database, store and app; `close()` stops them all. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const devnet = await startDevnet({
    anvil: true,
    chains: [{ id: CHAIN_ID }],
    servicerCount: options.servicerCount ?? 5,
    blocksPerSession: BLOCKS_PER_SESSION,
    // Blocks move only when a test calls advance(), so relays never go stale by accident.
    blockTimeMs: 3_600_000,
  });
  const anvil = devnet.anvil;
  if (anvil === null) {
    throw new Error("the devnet started without anvil");
  }
  const testDb = await createTestDatabase({ onQuery: options.onQuery });
  await upsertChains(testDb.db, [
    { id: CHAIN_ID, slug: CHAIN_SLUG, name: "Ethereum devnet", evmChainId: anvil.chainId },
    { id: "0099", slug: "other-chain", name: "A chain the test project did not pick" },
    ...(options.extraChains ?? []),
  ]);
  const project = await createProjectWithKey(testDb.db, {
    email: `relay-${randomBytes(4).toString("hex")}@example.com`,
    projectName: "relay tests",
    chainIds: options.projectChains ?? [CHAIN_ID],
  });
  const store = createTestStore();
  const { logger, lines } = captureLogger();
  const app = createRelayApp({
    db: testDb.db,
    store,
    logger,
    viper: devnetViper([devnet.dispatcherUrl], {
      numServicers: options.servicerCount ?? 5,
      heightPollMs: options.heightPollMs ?? 100,
    }),
    limits: { ...defaultLimits, ...options.limits },
    relayLog: options.relayLog,
    rateLimit: options.rateLimit ?? unlimitedRates,
    plainUpstreams: options.plainUpstreams,
  });
  await app.decorator.relay.ready;
  const close = async () => {
    await app.decorator.relay.close();
    await store.close();
    await testDb.close();
    await devnet.stop();
  };
  return {
    devnet,
    anvil,
    testDb,
    store,
    app,
    logLines: lines,
    project,
    apiKey: project.apiKey.key,
    rpcPath: `/v1/${CHAIN_SLUG}/${project.apiKey.key}`,
    close,
  };
}

/**
 * Starts a harness before a file's tests and closes it after them. The harness returned reads
 * through to the started one, so it is used only inside tests and hooks.
 */
export function useHarness(options: HarnessOptions = {}, timeoutMs?: number): Harness {
  let started: Harness | null = null;
  beforeAll(async () => {
    started = await startHarness(options);
  }, timeoutMs);
  afterAll(async () => {
    await started?.close();
  });
  return new Proxy({} as Harness, {
    get(_target, name) {
      if (started === null) {
        throw new Error("the harness is used before beforeAll started it");
      }
      return Reflect.get(started, name);
    },
  });
}

/** Viper settings for the devnet: five servicers and a fresh requestor that signs as client. */
export function devnetViper(
  dispatchUrls: string[],
  overrides: Partial<ViperSettings> = {},
): ViperSettings {
  const requestor = generateKeyPair();
  return {
    dispatchUrls,
    requestor,
    client: requestor,
    numServicers: 5,
    blocksPerSession: BLOCKS_PER_SESSION,
    defaultZone: "0001",
    ...overrides,
  };
}

/** What a relay app beside the harness's own may change; the rest comes from the harness. */
export interface SecondRelayOptions {
  logger?: Logger;
  /** Another connection to the store, or another store; the harness's own when omitted. */
  store?: KeyValueStore;
  /** The harness's dispatcher when omitted. */
  dispatchUrls?: string[];
  viper?: Partial<ViperSettings>;
  relayLog?: RelayDeps["relayLog"];
  rateLimit?: RateLimitConfig;
}

/** Another relay app on the harness's database and devnet, as a second relay process runs. */
export function secondRelayApp(harness: Harness, options: SecondRelayOptions = {}): RelayApp {
  return createRelayApp({
    db: harness.testDb.db,
    store: options.store ?? harness.store,
    logger: options.logger ?? captureLogger().logger,
    viper: devnetViper(options.dispatchUrls ?? [harness.devnet.dispatcherUrl], options.viper),
    limits: defaultLimits,
    relayLog: options.relayLog,
    rateLimit: options.rateLimit,
  });
}

/** A JSON-RPC request object. */
export function rpc(method: string, id: number | string | null = 1, params: unknown[] = []) {
  return { jsonrpc: "2.0", id, method, params };
}

/** POSTs a body to the relay app in process and returns status, headers and text. */
export async function post(
  app: RelayApp,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await app.handle(
    new Request(`http://relay.test${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  );
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Asks anvil directly, for the values the relay must reproduce. */
export async function askAnvil(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return response.json();
}

/** The URL of a loopback port nobody listens on: a dispatcher that is down. */
export async function freePortUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

import { type Database, openDatabase } from "@viper/db/client";
import { createLogger, type Logger } from "@viper/shared/logger";
import { keyPairFromPrivateKey } from "@viper/shared/protocol";
import { createStore, type KeyValueStore } from "@viper/shared/store";
import { createRelayApp, type RelayApp } from "./app.ts";
import {
  loadRelayConfig,
  plainUpstreamsOf,
  type RelayConfig,
  rateLimitConfigOf,
} from "./config.ts";

/** Things a caller (a test, the dev launcher) already has and wants the relay to use. */
export interface RelayOverrides {
  db?: Database;
  store?: KeyValueStore;
  logger?: Logger;
  /** Height poll interval in ms; VIPER_HEIGHT_POLL_MS otherwise. */
  heightPollMs?: number;
}

/** A listening relay. */
export interface RunningRelay {
  /** Base URL, e.g. http://127.0.0.1:8545 (RPC at `${url}/v1/{chain}/{apiKey}`). */
  url: string;
  port: number;
  app: RelayApp;
  /** Stops listening, writes buffered relay logs, and closes what startRelay opened. */
  stop(): Promise<void>;
}

/**
 * Starts the relay on RELAY_HOST:RELAY_PORT (port 0 picks a free one). Opens the database and
 * store from the config unless the overrides bring them; those it did not open it leaves open.
 * The database must already be migrated (the server owns migrations).
 */
export async function startRelay(
  config: RelayConfig,
  overrides: RelayOverrides = {},
): Promise<RunningRelay> {
  const logger =
    overrides.logger ??
    createLogger({
      service: "relay",
      level: config.LOG_LEVEL,
      format: config.LOG_FORMAT,
      environment: config.NODE_ENV,
    });
  const ownedDb = overrides.db
    ? null
    : await openDatabase({
        url: config.DATABASE_URL,
        pgliteDir: config.PGLITE_DIR,
        poolSize: config.DATABASE_POOL_SIZE,
      });
  const db = overrides.db ?? ownedDb?.db;
  if (!db) {
    throw new Error("no database: neither an override nor a configured one opened");
  }
  const ownedStore = overrides.store ? null : createStore(config.REDIS_URL);
  const store = overrides.store ?? ownedStore;
  if (!store) {
    throw new Error("no store: neither an override nor a configured one opened");
  }
  const requestor = keyPairFromPrivateKey(config.VIPER_REQUESTOR_PRIVATE_KEY);
  const app = createRelayApp({
    db,
    store,
    logger,
    viper: {
      dispatchUrls: config.VIPER_DISPATCH_URLS,
      requestor,
      client: config.VIPER_CLIENT_PRIVATE_KEY
        ? keyPairFromPrivateKey(config.VIPER_CLIENT_PRIVATE_KEY)
        : requestor,
      numServicers: config.VIPER_NUM_SERVICERS,
      blocksPerSession: config.VIPER_BLOCKS_PER_SESSION,
      defaultZone: config.VIPER_DEFAULT_ZONE,
      heightPollMs: overrides.heightPollMs ?? config.VIPER_HEIGHT_POLL_MS,
    },
    limits: {
      maxBodyBytes: config.RELAY_MAX_BODY_BYTES,
      deadlineMs: config.RELAY_DEADLINE_MS,
      servicerTimeoutMs: config.SERVICER_TIMEOUT_MS,
    },
    keyCacheTtlMs: config.KEY_CACHE_TTL_MS,
    // Under load a flush every 1,000 rows rather than 200 costs the relay half as much CPU per
    // row (each insert has a fixed cost); below 2,000 requests a second the 500 ms timer flushes.
    relayLog: { spoolDir: config.RELAY_LOG_SPOOL_DIR || null, batchSize: 1_000 },
    rateLimit: rateLimitConfigOf(config),
    plainUpstreams: plainUpstreamsOf(config),
  });
  await app.decorator.relay.ready;
  if (ownedDb) {
    app.decorator.relay.metrics.watchDatabase({
      kind: ownedDb.kind,
      poolSize: config.DATABASE_POOL_SIZE,
      ping: () => ownedDb.ping(),
    });
  }
  app.listen({
    hostname: config.RELAY_HOST,
    port: config.RELAY_PORT,
    maxRequestBodySize: serverBodyCapBytes(config.RELAY_MAX_BODY_BYTES),
  });
  const port = app.server?.port ?? config.RELAY_PORT;
  const url = `http://${hostForUrl(config.RELAY_HOST)}:${port}`;
  logger.info({ url }, "relay listening");

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await app.stop();
      await app.decorator.relay.close();
      await ownedStore?.close();
      await ownedDb?.close();
    })();
    return stopping;
  };
  return { url, port, app, stop };
}

const BODY_HARD_CAP_BYTES = 1024 * 1024 * 1024;

/**
 * The size past which Bun itself refuses a body, with a bare 413 before the relay sees it. The
 * relay refuses anything over RELAY_MAX_BODY_BYTES with a JSON-RPC -32010 answer, reading no
 * more than the limit, so Bun's cap sits far above it: only a declared length over 1 GiB (or
 * twice the relay's limit, if that is more) gets Bun's bare answer (docs/relay-errors.md).
 */
export function serverBodyCapBytes(maxBodyBytes: number): number {
  return Math.max(BODY_HARD_CAP_BYTES, maxBodyBytes * 2);
}

function hostForUrl(host: string): string {
  if (host === "0.0.0.0" || host === "::") {
    return "127.0.0.1";
  }
  return host.includes(":") ? `[${host}]` : host;
}

if (import.meta.main) {
  const config = loadRelayConfig();
  const relay = await startRelay(config);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      relay.stop().finally(() => process.exit(0));
    });
  }
}

import { RefusedKeyWatch } from "@viper/db/analytics/refused-key-watch";
import type { Database } from "@viper/db/client";
import type { Logger } from "@viper/shared/logger";
import { RelayMetrics } from "@viper/shared/metrics/relay-metrics";
import type { KeyPair } from "@viper/shared/protocol";
import { signAat } from "@viper/shared/protocol";
import type { KeyValueStore } from "@viper/shared/store";
import { ChainDirectory } from "./chain-directory.ts";
import { DispatcherClient } from "./dispatcher-client.ts";
import { KeyCache } from "./key-cache.ts";
import { type PlainUpstreamMap, PlainUpstreams } from "./plain-upstreams.ts";
import { parseRateLimitConfig, type RateLimitConfig } from "./rate-limit/config.ts";
import { createRateLimiting, type RateLimiting } from "./rate-limiting.ts";
import { RelayLogWriter } from "./relay-log-writer.ts";
import { Relayer } from "./relayer.ts";
import { ServicerHealth } from "./servicer-health.ts";
import { SessionCache } from "./session-cache.ts";

/** The Viper side of the relay: where sessions come from and which keys sign. */
export interface ViperSettings {
  dispatchUrls: string[];
  requestor: KeyPair;
  /** Signs the AAT and every relay proof; the requestor itself when the portal has no client key. */
  client: KeyPair;
  numServicers: number;
  blocksPerSession: number;
  /** The geo zone used when a project names none. */
  defaultZone: string;
  /** How often the chain height is polled; 1000 ms when omitted. */
  heightPollMs?: number;
}

/** Request limits, all in bytes or milliseconds. */
export interface RelayLimits {
  maxBodyBytes: number;
  /** The whole request, retries included. */
  deadlineMs: number;
  /** One attempt on one servicer (and one dispatcher call). */
  servicerTimeoutMs: number;
}

/** Everything the relay app is built from; tests pass real ones made for the test. */
export interface RelayDeps {
  db: Database;
  store: KeyValueStore;
  logger: Logger;
  viper: ViperSettings;
  limits: RelayLimits;
  /** How long key records live in the shared store; 30 s when omitted. */
  keyCacheTtlMs?: number;
  /**
   * Relay log batching; defaults flush every 500 ms or 200 rows. With `spoolDir`, rows wait on
   * disk while the database is away instead of in memory.
   */
  relayLog?: { flushIntervalMs?: number; batchSize?: number; spoolDir?: string | null };
  /** Where the relay's metrics go; a registry of its own when omitted. */
  metrics?: RelayMetrics;
  /** Tiers, costs and bursts (RATE_LIMITS); every default when omitted. */
  rateLimit?: RateLimitConfig;
  /** Plain JSON-RPC endpoints per chain id (RELAY_PLAIN_UPSTREAMS); none when omitted. */
  plainUpstreams?: PlainUpstreamMap;
}

/** The relay's long-lived services, shared by every request of one app. */
export interface RelayRuntime {
  deps: RelayDeps;
  keys: KeyCache;
  chains: ChainDirectory;
  dispatcher: DispatcherClient;
  sessions: SessionCache;
  health: ServicerHealth;
  relayer: Relayer;
  relayLogs: RelayLogWriter;
  metrics: RelayMetrics;
  /** Counts refused keys per client IP and records a security event past a threshold. */
  refusedKeys: RefusedKeyWatch;
  rateLimit: RateLimiting;
  /** Resolves once the key-invalidation subscription is live and the limits are read. */
  ready: Promise<void>;
  /** Stops timers and subscriptions and writes the buffered relay logs. */
  close(): Promise<void>;
}

/** Builds the relay's services from its dependencies; starts no network server. */
export function createRelayRuntime(deps: RelayDeps): RelayRuntime {
  const { db, store, logger, viper, limits } = deps;
  const metrics = deps.metrics ?? new RelayMetrics();
  const keys = new KeyCache({ db, store, logger, metrics, ttlMs: deps.keyCacheTtlMs ?? 30_000 });
  const dispatcher = new DispatcherClient({
    urls: viper.dispatchUrls,
    timeoutMs: limits.servicerTimeoutMs,
  });
  const sessions = new SessionCache({
    dispatcher,
    store,
    logger,
    requestorPublicKey: viper.requestor.publicKeyHex,
    numServicers: viper.numServicers,
    blocksPerSession: viper.blocksPerSession,
    pollIntervalMs: viper.heightPollMs ?? 1_000,
    metrics,
  });
  const health = new ServicerHealth();
  const relayer = new Relayer({
    sessions,
    health,
    aat: signAat(viper.requestor.publicKeyHex, viper.client),
    client: viper.client,
    servicerTimeoutMs: limits.servicerTimeoutMs,
    metrics,
    plain: new PlainUpstreams({
      upstreams: deps.plainUpstreams ?? {},
      timeoutMs: limits.servicerTimeoutMs,
      metrics,
    }),
  });
  const relayLogs = new RelayLogWriter({ db, logger, ...deps.relayLog });
  metrics.watchLogWriter(() => relayLogs.stats());
  metrics.watchServicerHealth(() => sessions.healthyServicers(health));
  const rateLimit = createRateLimiting({
    db,
    store,
    logger,
    config: deps.rateLimit ?? parseRateLimitConfig(),
  });
  const listening = keys.listen().catch((error: unknown) => {
    logger.error({ err: error }, "key invalidation subscription failed");
  });
  const ready = Promise.all([listening, rateLimit.ready]).then(() => undefined);
  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      sessions.close();
      await keys.close();
      await rateLimit.close();
      await relayLogs.stop();
    })();
    return closing;
  };
  return {
    deps,
    keys,
    chains: new ChainDirectory(db),
    dispatcher,
    sessions,
    health,
    relayer,
    relayLogs,
    metrics,
    refusedKeys: new RefusedKeyWatch({ db, store, logger }),
    rateLimit,
    ready,
    close,
  };
}

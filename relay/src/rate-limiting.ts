import type { Database } from "@viper/db/client";
import type { Logger } from "@viper/shared/logger";
import type { KeyValueStore } from "@viper/shared/store";
import type { KeyRecord } from "./key-record.ts";
import type { RateLimitConfig } from "./rate-limit/config.ts";
import { createRateLimiter } from "./rate-limit/create-limiter.ts";
import { rateLimitHeaders } from "./rate-limit/headers.ts";
import { LimitEventRecorder, reachedThresholds } from "./rate-limit/limit-events.ts";
import type { RateLimiter } from "./rate-limit/limiter.ts";
import { bypassesRateLimit, LimitPolicy } from "./rate-limit/policy.ts";
import { type RateLimitRefusal, refusalFor } from "./rate-limit/refusal.ts";
import type { RedisDownPolicy } from "./rate-limit/resilient-limiter.ts";
import { ThrottleCounter } from "./rate-limit/throttle-counter.ts";
import { RateLimitConfigSync } from "./rate-limit-config-sync.ts";

export interface RateLimitingDeps {
  db: Database;
  store: KeyValueStore;
  logger: Logger;
  config: RateLimitConfig;
  /** How often the admin's configuration is read from the store besides its messages. */
  configPollMs?: number;
}

/** The relay's rate limiting services, one set per app. */
export interface RateLimiting {
  policy: LimitPolicy;
  limiter: RateLimiter;
  recorder: LimitEventRecorder;
  /** Refused calls per key and method; drained into a log line every minute. */
  throttled: ThrottleCounter;
  configSync: RateLimitConfigSync;
  /** What the limiter does while Redis is down; fixed at start. */
  onRedisDown: RedisDownPolicy;
  /** Resolves once the admin's configuration, if any, was read from the store. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/** What the limiter said about one request: headers for its answer, and the refusal if any. */
export interface RateLimitVerdict {
  headers: Record<string, string>;
  refusal: RateLimitRefusal | null;
}

const THROTTLE_REPORT_MS = 60_000;
// One log line lists at most this many key/method pairs, the most refused first.
const THROTTLE_REPORT_PAIRS = 100;

/**
 * Builds the limiter for the relay's store (shared buckets in Redis, in-process buckets on the
 * memory store), the policy that turns config and key into buckets, the 80%/100% event
 * recorder, the throttle counter, and the follower of the admin's configuration.
 */
export function createRateLimiting(deps: RateLimitingDeps): RateLimiting {
  const { db, store, logger, config } = deps;
  const policy = new LimitPolicy(config);
  const limiter = createRateLimiter({ store, config, logger });
  const recorder = new LimitEventRecorder({
    db,
    store,
    logger,
    windowSeconds: config.eventWindowSeconds,
  });
  const throttled = new ThrottleCounter();
  const configSync = new RateLimitConfigSync({
    store,
    policy,
    baseline: config,
    logger,
    pollIntervalMs: deps.configPollMs,
  });
  const ready = configSync.start();
  const timer = setInterval(() => reportThrottled(throttled, logger), THROTTLE_REPORT_MS);
  timer.unref();
  const close = async () => {
    clearInterval(timer);
    reportThrottled(throttled, logger);
    await configSync.close();
    await limiter.close();
  };
  const { onRedisDown } = config;
  return { policy, limiter, recorder, throttled, configSync, onRedisDown, ready, close };
}

/**
 * Charges an authorized request to its key, project and methods (one entry per JSON-RPC call
 * that will be relayed). Null for internal keys, which skip the limiter. A refused request is
 * counted per key and method; the 80%/100% events are recorded off the request's path.
 */
export async function checkRateLimit(
  rateLimiting: RateLimiting,
  key: KeyRecord,
  methods: string[],
): Promise<RateLimitVerdict | null> {
  if (bypassesRateLimit(key)) {
    return null;
  }
  const { policy, limiter, recorder, throttled } = rateLimiting;
  const subject = {
    keyId: key.keyId,
    projectId: key.projectId,
    tier: key.tier,
    keyRatePerSecond: key.rules.ratePerSecond,
  };
  const decision = await limiter.take(policy.requestFor(subject, methods));
  // Most requests leave every bucket below 80%: nothing to record, so no call at all.
  if (decision.buckets.some((bucket) => reachedThresholds(bucket).length > 0)) {
    void recorder.observe(decision, { projectId: key.projectId, apiKeyId: key.keyId });
  }
  const refusal = refusalFor(decision);
  if (refusal?.errorName === "rate_limited") {
    throttled.count(key.keyId, methods);
  }
  return { headers: rateLimitHeaders(decision), refusal };
}

function reportThrottled(throttled: ThrottleCounter, logger: Logger): void {
  const counts = throttled.drain();
  if (counts.length === 0) {
    return;
  }
  counts.sort((a, b) => b.count - a.count);
  const calls = counts.reduce((sum, entry) => sum + entry.count, 0);
  logger.info(
    { calls, pairs: counts.length, counts: counts.slice(0, THROTTLE_REPORT_PAIRS) },
    "rate limited calls",
  );
}

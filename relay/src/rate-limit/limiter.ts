import type { TakeRequest } from "./bucket-spec.ts";
import type { LimitDecision } from "./decision.ts";

/**
 * redis: every instance shares the buckets in Redis. memory: one process, no Redis configured
 * (the embedded default). degraded-memory: Redis is configured but failing, each instance counts
 * alone. degraded-refusing: Redis is failing and the configuration says to refuse meanwhile.
 */
export type LimiterMode = "redis" | "memory" | "degraded-memory" | "degraded-refusing";

/** Checks and charges token buckets, one call per relayed request (a batch is one call). */
export interface RateLimiter {
  /**
   * Charges every bucket of the request its cost, or none of them when any lacks room. Throws
   * BucketSpecError for a malformed request; store failures are the implementation's concern.
   */
  take(request: TakeRequest): Promise<LimitDecision>;
  /** How the limiter is answering now; readiness checks report anything but redis or memory. */
  mode(): LimiterMode;
  /** Stops timers; connections passed in by the caller stay open (the caller owns them). */
  close(): Promise<void>;
}

/** True when the limiter answers as configured (not from a fallback); for readiness probes. */
export function isHealthyMode(mode: LimiterMode): boolean {
  return mode === "redis" || mode === "memory";
}

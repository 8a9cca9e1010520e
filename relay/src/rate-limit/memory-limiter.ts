import { bucketCost, bucketName, type TakeRequest, validateTakeRequest } from "./bucket-spec.ts";
import { assembleDecision, type BucketReading, type LimitDecision } from "./decision.ts";
import type { LimiterMode, RateLimiter } from "./limiter.ts";

interface StoredBucket {
  /** Units in use at `at`; drains at the bucket's current rate. */
  level: number;
  at: number;
  /** When the bucket is full again and the entry carries no information. */
  fullAt: number;
}

export interface MemoryLimiterOptions {
  /** Reported by mode(): "memory" when it is the configured limiter, or the degraded fallback. */
  mode?: Extract<LimiterMode, "memory" | "degraded-memory">;
  /** The clock, epoch ms; tests may pass their own. */
  now?: () => number;
}

/**
 * The token buckets in this process: exact for one instance, the embedded default, and the
 * fallback while Redis is down. Same arithmetic as the Lua script in redis-limiter.ts; take()
 * runs to completion without awaiting, so concurrent calls cannot interleave.
 */
export class MemoryLimiter implements RateLimiter {
  private readonly buckets = new Map<string, StoredBucket>();
  private readonly sweeper: ReturnType<typeof setInterval>;
  private readonly now: () => number;
  private currentMode: Extract<LimiterMode, "memory" | "degraded-memory">;

  constructor(options: MemoryLimiterOptions = {}) {
    this.now = options.now ?? Date.now;
    this.currentMode = options.mode ?? "memory";
    // Full buckets are dropped once a minute, so idle keys do not hold memory forever. "Full" is
    // judged at the rate of the last charge; after a rate cut a bucket may be dropped early.
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  async take(request: TakeRequest): Promise<LimitDecision> {
    validateTakeRequest(request);
    const now = this.now();
    const readings: BucketReading[] = request.buckets.map((spec) => {
      const stored = this.buckets.get(bucketName(spec));
      const level = stored ? drained(stored, spec.refillPerSecond, now) : 0;
      return { level, sufficient: level + bucketCost(spec, request) <= spec.capacity };
    });
    if (readings.every((reading) => reading.sufficient)) {
      request.buckets.forEach((spec, index) => {
        const level = (readings[index]?.level ?? 0) + bucketCost(spec, request);
        const fullAt = now + (level / spec.refillPerSecond) * 1000;
        this.buckets.set(bucketName(spec), { level, at: now, fullAt });
      });
    }
    return assembleDecision(request, readings, now, "memory");
  }

  mode(): LimiterMode {
    return this.currentMode;
  }

  /** Switches what mode() reports; the resilient limiter marks its fallback degraded with it. */
  setMode(mode: Extract<LimiterMode, "memory" | "degraded-memory">): void {
    this.currentMode = mode;
  }

  /** Forgets every bucket, so a later fallback starts from full buckets, not stale ones. */
  reset(): void {
    this.buckets.clear();
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.buckets.clear();
  }

  private sweep(): void {
    const now = this.now();
    for (const [name, bucket] of this.buckets) {
      if (bucket.fullAt <= now) {
        this.buckets.delete(name);
      }
    }
  }
}

/** The level now: the stored level less what the current rate refilled since it was stored. */
function drained(stored: StoredBucket, refillPerSecond: number, now: number): number {
  const elapsedMs = Math.max(0, now - stored.at);
  return Math.max(0, stored.level - (elapsedMs * refillPerSecond) / 1000);
}

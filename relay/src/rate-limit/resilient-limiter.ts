import type { Logger } from "@viper/shared/logger";
import type { RedisStore } from "@viper/shared/store";
import { withTimeLimit } from "@viper/shared/time-limit";
import type { Redis } from "ioredis";
import { BucketSpecError, type TakeRequest } from "./bucket-spec.ts";
import { type LimitDecision, unavailableDecision } from "./decision.ts";
import type { LimiterMode, RateLimiter } from "./limiter.ts";
import { MemoryLimiter } from "./memory-limiter.ts";
import { RedisLimiter, type RedisLimiterOptions, redisClientOf } from "./redis-limiter.ts";

/** What to do while Redis is down: count per instance (approximate), or refuse every request. */
export type RedisDownPolicy = "degrade" | "refuse";

export interface ResilientLimiterOptions extends RedisLimiterOptions {
  logger: Logger;
  onRedisDown?: RedisDownPolicy;
  /** A Redis answer slower than this counts as Redis being down. */
  redisTimeoutMs?: number;
  /** How often a degraded limiter asks Redis whether it is back. */
  probeIntervalMs?: number;
}

/**
 * Redis first; when Redis fails or is slow, the in-process limiter answers (or, with
 * onRedisDown "refuse", every request is refused with outcome "unavailable") until a background
 * ping finds Redis again. The switch is logged once each way.
 *
 * TODO: while degraded each instance counts alone, so N relay instances let up to N times the
 * limit through; divide the limits by the instance count once the relay knows it.
 */
export class ResilientLimiter implements RateLimiter {
  private readonly redis: Redis;
  private readonly primary: RedisLimiter;
  private readonly fallback = new MemoryLimiter({ mode: "degraded-memory" });
  private readonly logger: Logger;
  private readonly onRedisDown: RedisDownPolicy;
  private readonly redisTimeoutMs: number;
  private readonly probeIntervalMs: number;
  private degraded = false;
  private probe: ReturnType<typeof setInterval> | null = null;
  private probing = false;
  private closed = false;

  constructor(connection: RedisStore | Redis, options: ResilientLimiterOptions) {
    this.redis = redisClientOf(connection);
    this.redisTimeoutMs = options.redisTimeoutMs ?? 250;
    // The Redis limiter times its script calls itself, one timer per call rather than per request.
    this.primary = new RedisLimiter(this.redis, { ...options, timeoutMs: this.redisTimeoutMs });
    this.logger = options.logger;
    this.onRedisDown = options.onRedisDown ?? "degrade";
    this.probeIntervalMs = options.probeIntervalMs ?? 1000;
  }

  async take(request: TakeRequest): Promise<LimitDecision> {
    if (!this.degraded) {
      try {
        return await this.primary.take(request);
      } catch (error) {
        if (error instanceof BucketSpecError) {
          throw error;
        }
        this.enterDegraded(error);
      }
    }
    if (this.onRedisDown === "refuse") {
      return unavailableDecision(request, Date.now());
    }
    return this.fallback.take(request);
  }

  mode(): LimiterMode {
    if (!this.degraded) {
      return "redis";
    }
    return this.onRedisDown === "refuse" ? "degraded-refusing" : "degraded-memory";
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopProbe();
    await this.fallback.close();
  }

  private enterDegraded(error: unknown): void {
    if (this.degraded || this.closed) {
      return;
    }
    this.degraded = true;
    // Buckets left from an earlier outage would be stale; start this one from full.
    this.fallback.reset();
    this.logger.warn(
      { err: error, mode: this.mode(), onRedisDown: this.onRedisDown },
      "rate limiter lost redis",
    );
    this.probe = setInterval(() => void this.checkRedis(), this.probeIntervalMs);
    this.probe.unref();
  }

  private async checkRedis(): Promise<void> {
    if (this.probing) {
      return;
    }
    this.probing = true;
    try {
      const ms = this.redisTimeoutMs;
      const answer = await withTimeLimit(
        this.redis.ping(),
        ms,
        () => new Error(`redis did not answer within ${ms} ms`),
      );
      if (answer === "PONG" && this.degraded && !this.closed) {
        this.degraded = false;
        this.stopProbe();
        this.logger.info({ mode: this.mode() }, "rate limiter back on redis");
      }
    } catch {
      // Still down; the next tick asks again.
    } finally {
      this.probing = false;
    }
  }

  private stopProbe(): void {
    if (this.probe) {
      clearInterval(this.probe);
      this.probe = null;
    }
  }
}

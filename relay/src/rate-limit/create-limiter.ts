import type { Logger } from "@viper/shared/logger";
import { type KeyValueStore, RedisStore } from "@viper/shared/store";
import type { RateLimitConfig } from "./config.ts";
import type { RateLimiter } from "./limiter.ts";
import { MemoryLimiter } from "./memory-limiter.ts";
import { ResilientLimiter } from "./resilient-limiter.ts";

export interface CreateRateLimiterOptions {
  /** The relay's store: a RedisStore makes the limiter shared, the memory store keeps it local. */
  store: KeyValueStore;
  config: Pick<RateLimitConfig, "onRedisDown" | "redisTimeoutMs" | "probeIntervalMs">;
  logger: Logger;
}

/**
 * The limiter for the relay's store: Redis with the in-process fallback when the store is Redis,
 * the in-process limiter alone otherwise (the embedded default, one instance).
 */
export function createRateLimiter(options: CreateRateLimiterOptions): RateLimiter {
  if (options.store instanceof RedisStore) {
    return new ResilientLimiter(options.store, {
      logger: options.logger,
      onRedisDown: options.config.onRedisDown,
      redisTimeoutMs: options.config.redisTimeoutMs,
      probeIntervalMs: options.config.probeIntervalMs,
    });
  }
  return new MemoryLimiter({ mode: "memory" });
}

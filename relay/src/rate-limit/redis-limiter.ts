import { createHash } from "node:crypto";
import { RedisStore } from "@viper/shared/store";
import type { Redis } from "ioredis";
import { bucketCost, bucketName, type TakeRequest, validateTakeRequest } from "./bucket-spec.ts";
import { assembleDecision, type BucketReading, type LimitDecision } from "./decision.ts";
import type { LimiterMode, RateLimiter } from "./limiter.ts";

/**
 * Checks and charges every bucket of one request in one step. Each bucket is a hash holding its
 * level (units in use) `l` and the Redis time of the last charge `t` in ms. The level drains at
 * the rate passed in this call, so a changed rate or capacity applies at once: a raised capacity
 * gives room immediately, a lowered one keeps what was already used. A refused request writes
 * nothing. Time comes from Redis so instances with skewed clocks agree.
 *
 * KEYS: the buckets. ARGV: capacity, refill per second, cost, for each bucket in turn.
 * Returns the Redis time, then a level and a 1/0 "had room" flag per bucket, as strings so that
 * fractions survive (Redis truncates Lua numbers to integers).
 */
const takeScript = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local levels = {}
local admitted = true
local reply = {tostring(now)}
for i = 1, #KEYS do
  local capacity = tonumber(ARGV[i * 3 - 2])
  local rate = tonumber(ARGV[i * 3 - 1])
  local cost = tonumber(ARGV[i * 3])
  local stored = redis.call('HMGET', KEYS[i], 'l', 't')
  local level = tonumber(stored[1]) or 0
  local at = tonumber(stored[2]) or now
  level = math.max(0, level - math.max(0, now - at) * rate / 1000)
  levels[i] = level
  local room = level + cost <= capacity
  if not room then
    admitted = false
  end
  reply[#reply + 1] = tostring(level)
  reply[#reply + 1] = room and '1' or '0'
end
if admitted then
  for i = 1, #KEYS do
    local rate = tonumber(ARGV[i * 3 - 1])
    local level = levels[i] + tonumber(ARGV[i * 3])
    redis.call('HSET', KEYS[i], 'l', tostring(level), 't', tostring(now))
    redis.call('PEXPIRE', KEYS[i], math.ceil(level / rate * 1000) + 1000)
  end
end
return reply
`;

/** The SHA1 EVALSHA runs the script by; exported for diagnostics and tests. */
export const takeScriptSha = createHash("sha1").update(takeScript).digest("hex");

export interface RedisLimiterOptions {
  /** Put before every bucket key, after the connection's own keyPrefix. */
  keyPrefix?: string;
}

/** The Redis limiter's failure: the command failed or Redis gave an answer it cannot read. */
export class RedisLimiterError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RedisLimiterError";
  }
}

/**
 * Token buckets shared by every relay instance through Redis: one EVALSHA round trip per
 * request. Accepts the shared RedisStore (its keyPrefix applies) or a bare ioredis client; the
 * connection stays the caller's. Throws RedisLimiterError when Redis fails; resilient-limiter.ts
 * turns that into a fallback.
 *
 * TODO: bucket keys carry no hash tag, so one request's buckets may live on different Redis
 * Cluster slots and the script would be refused; tag keys with the project id before using a
 * Cluster (a single Redis or a primary with replicas is fine).
 */
export class RedisLimiter implements RateLimiter {
  private readonly redis: Redis;
  private readonly keyPrefix: string;

  constructor(connection: RedisStore | Redis, options: RedisLimiterOptions = {}) {
    this.redis = redisClientOf(connection);
    this.keyPrefix = options.keyPrefix ?? "rl:";
  }

  async take(request: TakeRequest): Promise<LimitDecision> {
    validateTakeRequest(request);
    const keys = request.buckets.map((spec) => this.keyPrefix + bucketName(spec));
    const args = request.buckets.flatMap((spec) => [
      String(spec.capacity),
      String(spec.refillPerSecond),
      String(bucketCost(spec, request)),
    ]);
    const reply = await this.run(keys, args);
    const [at, readings] = parseReply(reply, request.buckets.length);
    return assembleDecision(request, readings, at, "redis");
  }

  mode(): LimiterMode {
    return "redis";
  }

  async close(): Promise<void> {
    // The connection belongs to the caller.
  }

  /** EVALSHA by the script's hash; after a Redis restart or flush, EVAL reloads it. */
  private async run(keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.redis.evalsha(takeScriptSha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) {
        throw new RedisLimiterError("rate limit script failed", { cause: error });
      }
    }
    try {
      return await this.redis.eval(takeScript, keys.length, ...keys, ...args);
    } catch (error) {
      throw new RedisLimiterError("rate limit script failed", { cause: error });
    }
  }
}

/** The ioredis connection behind the shared store, or the client itself. */
export function redisClientOf(connection: RedisStore | Redis): Redis {
  return connection instanceof RedisStore ? connection.client : connection;
}

function parseReply(reply: unknown, bucketCount: number): [number, BucketReading[]] {
  if (!Array.isArray(reply) || reply.length !== 1 + bucketCount * 2) {
    throw new RedisLimiterError("unexpected reply from the rate limit script");
  }
  const values = reply.map((value) => String(value));
  const readings: BucketReading[] = [];
  for (let index = 0; index < bucketCount; index++) {
    readings.push({
      level: Number(values[1 + index * 2]),
      sufficient: values[2 + index * 2] === "1",
    });
  }
  return [Number(values[0]), readings];
}

import { createHash } from "node:crypto";
import { RedisStore } from "@viper/shared/store";
import { withTimeLimit } from "@viper/shared/time-limit";
import type { Redis } from "ioredis";
import { bucketCost, bucketName, type TakeRequest, validateTakeRequest } from "./bucket-spec.ts";
import { assembleDecision, type BucketReading, type LimitDecision } from "./decision.ts";
import type { LimiterMode, RateLimiter } from "./limiter.ts";

/**
 * Checks and charges the buckets of a batch of requests in one step, each request in turn as if
 * it came alone: a request is charged on all its buckets or on none, and the next one sees what
 * the earlier ones left. Each bucket is a hash holding its level (units in use) `l` and the Redis
 * time of the last charge `t` in ms. The level drains at the rate passed for the request that
 * reads it first, so a changed rate or capacity applies at once: a raised capacity gives room
 * immediately, a lowered one keeps what was already used. A bucket no request charged is not
 * written. Time comes from Redis so instances with skewed clocks agree.
 *
 * KEYS: the distinct buckets of the batch. ARGV: for each request, its bucket count, then for each
 * of its buckets the index into KEYS, capacity, refill per second and cost.
 * Returns the Redis time, then for each request and bucket a level and a 1/0 "had room" flag, as
 * strings so that fractions survive (Redis truncates Lua numbers to integers).
 */
const takeScript = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local levels = {}
local rates = {}
local charged = {}
local reply = {tostring(now)}
local arg = 1
while arg <= #ARGV do
  local count = tonumber(ARGV[arg])
  local first = arg + 1
  local admitted = true
  for b = 0, count - 1 do
    local at = first + b * 4
    local key = tonumber(ARGV[at])
    local capacity = tonumber(ARGV[at + 1])
    local rate = tonumber(ARGV[at + 2])
    local cost = tonumber(ARGV[at + 3])
    if levels[key] == nil then
      local stored = redis.call('HMGET', KEYS[key], 'l', 't')
      local level = tonumber(stored[1]) or 0
      local since = tonumber(stored[2]) or now
      levels[key] = math.max(0, level - math.max(0, now - since) * rate / 1000)
    end
    local room = levels[key] + cost <= capacity
    if not room then
      admitted = false
    end
    reply[#reply + 1] = tostring(levels[key])
    reply[#reply + 1] = room and '1' or '0'
  end
  if admitted then
    for b = 0, count - 1 do
      local at = first + b * 4
      local key = tonumber(ARGV[at])
      levels[key] = levels[key] + tonumber(ARGV[at + 3])
      rates[key] = tonumber(ARGV[at + 2])
      charged[key] = true
    end
  end
  arg = first + count * 4
end
for key, _ in pairs(charged) do
  redis.call('HSET', KEYS[key], 'l', tostring(levels[key]), 't', tostring(now))
  redis.call('PEXPIRE', KEYS[key], math.ceil(levels[key] / rates[key] * 1000) + 1000)
end
return reply
`;

/** The SHA1 EVALSHA runs the script by; exported for diagnostics and tests. */
export const takeScriptSha = createHash("sha1").update(takeScript).digest("hex");

// One script call checks at most this many requests; more wait for the next call.
const MAX_BATCH = 128;

export interface RedisLimiterOptions {
  /** Put before every bucket key, after the connection's own keyPrefix. */
  keyPrefix?: string;
  /**
   * A script call that has not answered by then fails with RedisLimiterError, and so does every
   * request waiting behind it: Redis is slow or gone. 1000 ms when omitted.
   */
  timeoutMs?: number;
}

/** The Redis limiter's failure: the command failed or Redis gave an answer it cannot read. */
export class RedisLimiterError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RedisLimiterError";
  }
}

interface PendingTake {
  request: TakeRequest;
  resolve(decision: LimitDecision): void;
  reject(error: unknown): void;
}

/**
 * Token buckets shared by every relay instance through Redis. Requests that arrive while a script
 * call is under way wait and go together in the next one: a script call costs Redis about twenty
 * microseconds whatever it does, and one per request was most of Redis's work under load, while
 * a batch reads and writes each shared bucket (a project's, a busy key's) once. Accepts the shared
 * RedisStore (its keyPrefix applies) or a bare ioredis client; the connection stays the
 * caller's. Throws RedisLimiterError when Redis fails; resilient-limiter.ts turns that into a
 * fallback.
 *
 * TODO: bucket keys carry no hash tag, so one request's buckets may live on different Redis
 * Cluster slots and the script would be refused; tag keys with the project id before using a
 * Cluster (a single Redis or a primary with replicas is fine).
 */
export class RedisLimiter implements RateLimiter {
  private readonly redis: Redis;
  private readonly keyPrefix: string;
  private readonly timeoutMs: number;
  private queue: PendingTake[] = [];
  private running = false;

  constructor(connection: RedisStore | Redis, options: RedisLimiterOptions = {}) {
    this.redis = redisClientOf(connection);
    this.keyPrefix = options.keyPrefix ?? "rl:";
    this.timeoutMs = options.timeoutMs ?? 1_000;
  }

  async take(request: TakeRequest): Promise<LimitDecision> {
    validateTakeRequest(request);
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      if (!this.running) {
        this.running = true;
        // The requests that reach this point in the same tick go in the same call.
        process.nextTick(() => void this.drain());
      }
    });
  }

  mode(): LimiterMode {
    return "redis";
  }

  async close(): Promise<void> {
    // The connection belongs to the caller.
  }

  /** Sends the waiting requests, a batch at a time, until none is left. */
  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, MAX_BATCH);
      this.queue = this.queue.slice(batch.length);
      try {
        const ms = this.timeoutMs;
        const decisions = await withTimeLimit(
          this.takeBatch(batch.map((pending) => pending.request)),
          ms,
          () => new RedisTimeoutError(`redis did not answer within ${ms} ms`),
        );
        batch.forEach((pending, index) => {
          const decision = decisions[index];
          if (decision) {
            pending.resolve(decision);
          } else {
            pending.reject(new RedisLimiterError("no decision for a request of the batch"));
          }
        });
      } catch (error) {
        // The requests still waiting would wait on the same Redis: they fail now as well.
        const failed = error instanceof RedisTimeoutError ? batch.concat(this.queue) : batch;
        if (failed !== batch) {
          this.queue = [];
        }
        for (const pending of failed) {
          pending.reject(error);
        }
      }
    }
    this.running = false;
  }

  private async takeBatch(requests: TakeRequest[]): Promise<LimitDecision[]> {
    const keyIndex = new Map<string, number>();
    const args: string[] = [];
    for (const request of requests) {
      args.push(String(request.buckets.length));
      for (const spec of request.buckets) {
        const key = this.keyPrefix + bucketName(spec);
        let index = keyIndex.get(key);
        if (index === undefined) {
          index = keyIndex.size + 1;
          keyIndex.set(key, index);
        }
        args.push(
          String(index),
          String(spec.capacity),
          String(spec.refillPerSecond),
          String(bucketCost(spec, request)),
        );
      }
    }
    const reply = await this.run([...keyIndex.keys()], args);
    const counts = requests.map((request) => request.buckets.length);
    const [at, readings] = parseReply(reply, counts);
    return requests.map((request, index) =>
      assembleDecision(request, readings[index] ?? [], at, "redis"),
    );
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

/** Redis did not answer a script call in time. */
class RedisTimeoutError extends RedisLimiterError {}

/** The ioredis connection behind the shared store, or the client itself. */
export function redisClientOf(connection: RedisStore | Redis): Redis {
  return connection instanceof RedisStore ? connection.client : connection;
}

/** The Redis time and, per request, the readings of its buckets in request order. */
function parseReply(reply: unknown, bucketCounts: number[]): [number, BucketReading[][]] {
  const total = bucketCounts.reduce((sum, count) => sum + count, 0);
  if (!Array.isArray(reply) || reply.length !== 1 + total * 2) {
    throw new RedisLimiterError("unexpected reply from the rate limit script");
  }
  let position = 1;
  const readings = bucketCounts.map((count) => {
    const own: BucketReading[] = [];
    for (let bucket = 0; bucket < count; bucket++) {
      own.push({
        level: Number(String(reply[position])),
        sufficient: String(reply[position + 1]) === "1",
      });
      position += 2;
    }
    return own;
  });
  return [Number(String(reply[0])), readings];
}

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { silentLogger } from "@viper/shared/logger";
import { MemoryStore, RedisStore } from "@viper/shared/store";
import { Redis } from "ioredis";
import type { BucketSpec, TakeRequest } from "../src/rate-limit/bucket-spec.ts";
import { BucketSpecError } from "../src/rate-limit/bucket-spec.ts";
import { parseRateLimitConfig } from "../src/rate-limit/config.ts";
import { CostTable, createCostTable } from "../src/rate-limit/costs.ts";
import { createRateLimiter } from "../src/rate-limit/create-limiter.ts";
import { rateLimitHeaders } from "../src/rate-limit/headers.ts";
import { isHealthyMode, type RateLimiter } from "../src/rate-limit/limiter.ts";
import { MemoryLimiter } from "../src/rate-limit/memory-limiter.ts";
import { bypassesRateLimit, LimitPolicy } from "../src/rate-limit/policy.ts";
import { RedisLimiter } from "../src/rate-limit/redis-limiter.ts";
import { refusalFor } from "../src/rate-limit/refusal.ts";
import { ThrottleCounter } from "../src/rate-limit/throttle-counter.ts";

const redisUrl = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** Two limiters that should share buckets: two Redis connections, or one process twice. */
interface LimiterPair {
  first: RateLimiter;
  second: RateLimiter;
  close(): Promise<void>;
}

function memoryPair(): LimiterPair {
  const limiter = new MemoryLimiter();
  return { first: limiter, second: limiter, close: () => limiter.close() };
}

function redisPair(): LimiterPair {
  const prefix = `vp-test-rl-${randomBytes(4).toString("hex")}:`;
  const stores = [
    new RedisStore({ url: redisUrl, prefix }),
    new RedisStore({ url: redisUrl, prefix }),
  ];
  const [one, two] = stores.map((store) => new RedisLimiter(store));
  if (!one || !two) {
    throw new Error("two limiters expected");
  }
  return {
    first: one,
    second: two,
    async close() {
      const cleaner = new Redis(redisUrl);
      const keys = await cleaner.keys(`${prefix}*`);
      if (keys.length > 0) {
        await cleaner.del(...keys);
      }
      cleaner.disconnect();
      await Promise.all(stores.map((store) => store.close()));
    },
  };
}

const bucketId = () => randomBytes(6).toString("hex");

/** A bucket whose refill is too slow to matter during a test. */
function slowBucket(kind: BucketSpec["kind"], capacity: number, extra: Partial<BucketSpec> = {}) {
  return { kind, id: bucketId(), capacity, refillPerSecond: 0.001, ...extra } as BucketSpec;
}

const costs = new CostTable();

describe.each([
  ["memory", memoryPair],
  ["redis", redisPair],
] as const)("rate limiter on %s", (_name, makePair) => {
  let pair: LimiterPair;

  beforeAll(() => {
    pair = makePair();
  });

  afterAll(async () => {
    await pair.close();
  });

  test("1,000 concurrent requests over two instances on a bucket of 100 let exactly 100 through", async () => {
    const bucket = slowBucket("key", 100);

    const decisions = await Promise.all(
      Array.from({ length: 1000 }, (_, index) =>
        (index % 2 === 0 ? pair.first : pair.second).take({ buckets: [bucket], cost: 1 }),
      ),
    );

    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(100);
    expect(decisions.filter((decision) => decision.outcome === "refuse")).toHaveLength(900);
  });

  test("a project bucket smaller than the sum of its keys holds across its keys", async () => {
    const project = slowBucket("project", 15);
    const keyA = slowBucket("key", 10);
    const keyB = slowBucket("key", 10);

    const fromA = await takeMany(pair.first, 10, { buckets: [keyA, project], cost: 1 });
    const fromB = await takeMany(pair.second, 10, { buckets: [keyB, project], cost: 1 });

    expect(fromA.filter((d) => d.allowed)).toHaveLength(10);
    expect(fromB.filter((d) => d.allowed)).toHaveLength(5);
    const refused = fromB.at(-1);
    expect(refused?.binding?.kind).toBe("project");
    // Key B was charged only for the five requests the project let through.
    expect(Math.round(refused?.buckets[0]?.remaining ?? -1)).toBe(5);
  });

  test("a method bucket on eth_getLogs refuses while a request without it still passes", async () => {
    const key = slowBucket("key", 100);
    const getLogs = slowBucket("method", 20, { method: "eth_getLogs" });
    const logsRequest: TakeRequest = {
      buckets: [key, getLogs],
      cost: costs.costOf(["eth_getLogs"]),
    };

    const logs = await takeMany(pair.first, 3, logsRequest);
    const plain = await pair.second.take({
      buckets: [key],
      cost: costs.costOf(["eth_blockNumber"]),
    });

    expect(logs.map((d) => d.allowed)).toEqual([true, true, false]);
    expect(logs[2]?.binding).toMatchObject({ kind: "method", method: "eth_getLogs" });
    expect(plain.allowed).toBe(true);
    // 2 x eth_getLogs (10 each) + 1 eth_blockNumber: the refused call took nothing from the key.
    expect(Math.round(plain.buckets[0]?.remaining ?? -1)).toBe(100 - 21);
  });

  test("a batch of 10 costs 10 and is refused whole, taking nothing, when it does not fit", async () => {
    const key = slowBucket("key", 15);
    const project = slowBucket("project", 100);
    const batch = Array.from({ length: 10 }, () => "eth_blockNumber");
    const request: TakeRequest = { buckets: [key, project], cost: costs.costOf(batch) };

    const first = await pair.first.take(request);
    const second = await pair.second.take(request);
    const single = await pair.first.take({ buckets: [key, project], cost: 1 });

    expect(request.cost).toBe(10);
    expect(first.allowed).toBe(true);
    expect(second.outcome).toBe("refuse");
    expect(second.binding?.kind).toBe("key");
    expect(single.allowed).toBe(true);
    expect(single.buckets.map((bucket) => Math.round(bucket.remaining))).toEqual([4, 89]);
  });

  test("a raised or lowered capacity is obeyed on the next request", async () => {
    const bucket = slowBucket("key", 5);

    const filled = await takeMany(pair.first, 6, { buckets: [bucket], cost: 1 });
    const raised = await pair.second.take({ buckets: [{ ...bucket, capacity: 10 }], cost: 1 });
    const lowered = await pair.first.take({ buckets: [{ ...bucket, capacity: 3 }], cost: 1 });

    expect(filled.filter((d) => d.allowed)).toHaveLength(5);
    expect(raised.allowed).toBe(true);
    expect(lowered.outcome).toBe("refuse");
  });

  test("a raised refill rate is obeyed on the next request", async () => {
    const bucket = slowBucket("key", 2);
    await takeMany(pair.first, 2, { buckets: [bucket], cost: 1 });

    const before = await pair.first.take({ buckets: [bucket], cost: 1 });
    await Bun.sleep(30);
    const after = await pair.second.take({
      buckets: [{ ...bucket, refillPerSecond: 1000 }],
      cost: 1,
    });

    expect(before.outcome).toBe("refuse");
    expect(after.allowed).toBe(true);
  });

  test("headers tell the limit, what is left and when it resets, and warn in the burst band", async () => {
    const bucket = slowBucket("key", 10, { refillPerSecond: 1, warnBelow: 5 });

    const allowed = await pair.first.take({ buckets: [bucket], cost: 4 });
    const warned = await pair.second.take({ buckets: [bucket], cost: 2 });
    const refused = await pair.first.take({ buckets: [bucket], cost: 10 });

    expect(allowed.outcome).toBe("allow");
    expect(rateLimitHeaders(allowed)).toEqual({
      "RateLimit-Limit": "10",
      "RateLimit-Remaining": "6",
      "RateLimit-Reset": "4",
      "X-RateLimit-Limit": "10",
      "X-RateLimit-Remaining": "6",
      "X-RateLimit-Reset": "4",
    });
    expect(warned.outcome).toBe("warn");
    const warnedHeaders = rateLimitHeaders(warned);
    expect(warnedHeaders["RateLimit-Remaining"]).toBe("4");
    expect(warnedHeaders["X-RateLimit-Warning"]).toContain("key limit");
    expect(warnedHeaders["Retry-After"]).toBeUndefined();
    expect(refused.outcome).toBe("refuse");
    const refusedHeaders = rateLimitHeaders(refused);
    expect(refusedHeaders["RateLimit-Remaining"]).toBe("4");
    expect(refusedHeaders["X-RateLimit-Remaining"]).toBe("4");
    // 6 units in use, 10 asked for, capacity 10: 6 must drain at 1 per second.
    expect(refusedHeaders["Retry-After"]).toBe("6");
  });

  test("a refusal names the limit that refused and carries -32005 with HTTP 429", async () => {
    const key = slowBucket("key", 100);
    const project = slowBucket("project", 3);

    const [first, , , fourth] = await takeMany(pair.first, 4, { buckets: [key, project], cost: 1 });
    const refusal = fourth ? refusalFor(fourth) : null;

    expect(first && refusalFor(first)).toBeNull();
    expect(refusal).toMatchObject({ status: 429, code: -32005, data: { limit: "project" } });
    expect(refusal?.message).toContain("project limit");
    expect(refusal?.data.retryAfter).toBeGreaterThan(0);
  });

  test("the same bucket twice in one request is a programming error", async () => {
    const bucket = slowBucket("key", 10);

    await expect(pair.first.take({ buckets: [bucket, bucket], cost: 1 })).rejects.toThrow(
      BucketSpecError,
    );
  });
});

async function takeMany(limiter: RateLimiter, count: number, request: TakeRequest) {
  const decisions = [];
  for (let index = 0; index < count; index++) {
    decisions.push(await limiter.take(request));
  }
  return decisions;
}

describe("choosing a limiter for the relay's store", () => {
  const config = parseRateLimitConfig(undefined);
  const logger = silentLogger();

  test("the in-process store (embedded default) gets the in-process limiter", async () => {
    const store = new MemoryStore();
    const limiter = createRateLimiter({ store, config, logger });

    const decision = await limiter.take({ buckets: [slowBucket("key", 1)], cost: 1 });

    expect(limiter.mode()).toBe("memory");
    expect(isHealthyMode(limiter.mode())).toBe(true);
    expect(decision.source).toBe("memory");
    await limiter.close();
    await store.close();
  });

  test("a Redis store gets the shared limiter", async () => {
    const store = new RedisStore({ url: redisUrl, prefix: `vp-test-rl-${bucketId()}:` });
    const limiter = createRateLimiter({ store, config, logger });
    const bucket = slowBucket("key", 1);

    const decision = await limiter.take({ buckets: [bucket], cost: 1 });

    expect(limiter.mode()).toBe("redis");
    expect(decision.source).toBe("redis");
    await store.client.del(`rl:key:${bucket.id}`);
    await limiter.close();
    await store.close();
  });
});

describe("compute unit costs", () => {
  test("cheap reads cost 1, logs and traces more, unknown methods the default", () => {
    expect(costs.costOf(["eth_blockNumber"])).toBe(1);
    expect(costs.costOf(["eth_getLogs"])).toBe(10);
    expect(costs.costOf(["debug_traceTransaction", "trace_block"])).toBe(40);
    expect(costs.costOf(["made_up_method"])).toBe(costs.unknownCost);
  });

  test("a batch costs the sum of its items", () => {
    expect(costs.costOf(["eth_blockNumber", "eth_getLogs", "eth_chainId"])).toBe(12);
  });

  test("the config JSON overrides methods, prefixes and the default", () => {
    const table = createCostTable(
      '{"default": 7, "methods": {"eth_call": 3}, "prefixes": {"debug_": 50}}',
    );

    expect(table.costOf(["eth_call", "debug_traceCall", "unknown_x", "eth_getLogs"])).toBe(
      3 + 50 + 7 + 10,
    );
  });

  test("a negative cost in the config is refused", () => {
    expect(() => createCostTable({ methods: { eth_call: -1 } })).toThrow();
  });
});

describe("limit policy", () => {
  const policy = new LimitPolicy(
    parseRateLimitConfig({
      burstSeconds: 2,
      tiers: {
        free: {
          project: { perSecond: 100 },
          key: { perSecond: 50 },
          methods: { eth_getLogs: { perSecond: 20 } },
        },
        pro: { project: { perSecond: 1000, burst: 5000 }, key: { perSecond: 500 } },
      },
    }),
  );
  const subject = { keyId: "key-1", projectId: "project-1", tier: "free" };

  test("a request gets a key and a project bucket, plus method buckets the tier configures", () => {
    const request = policy.requestFor(subject, ["eth_getLogs", "eth_blockNumber", "eth_getLogs"]);

    expect(request.cost).toBe(21);
    expect(request.buckets).toEqual([
      { kind: "key", id: "key-1", capacity: 100, refillPerSecond: 50 },
      { kind: "project", id: "project-1", capacity: 200, refillPerSecond: 100 },
      {
        kind: "method",
        id: "key-1:eth_getLogs",
        capacity: 40,
        refillPerSecond: 20,
        cost: 20,
        method: "eth_getLogs",
      },
    ]);
  });

  test("a key's own ratePerSecond lowers the tier's key limit but never raises it", () => {
    const lowered = policy.requestFor({ ...subject, keyRatePerSecond: 10 }, ["eth_chainId"]);
    const raised = policy.requestFor({ ...subject, keyRatePerSecond: 1000 }, ["eth_chainId"]);

    expect(lowered.buckets[0]).toMatchObject({ capacity: 20, refillPerSecond: 10 });
    expect(raised.buckets[0]).toMatchObject({ capacity: 100, refillPerSecond: 50 });
  });

  test("an unknown tier gets the default tier, and a method named like an Object property gets no bucket", () => {
    const request = policy.requestFor({ ...subject, tier: "nope" }, ["constructor", "toString"]);

    expect(request.buckets.map((bucket) => bucket.kind)).toEqual(["key", "project"]);
    expect(request.buckets[1]).toMatchObject({ refillPerSecond: 100 });
  });

  test("a replaced configuration applies to the next request", () => {
    const local = new LimitPolicy(parseRateLimitConfig(undefined));
    local.replace(
      parseRateLimitConfig({
        tiers: { free: { project: { perSecond: 7 }, key: { perSecond: 3 } } },
      }),
    );

    const request = local.requestFor(subject, ["eth_chainId"]);

    expect(request.buckets.map((bucket) => bucket.refillPerSecond)).toEqual([3, 7]);
  });

  test("a default tier that names no configured tier is refused", () => {
    expect(() => parseRateLimitConfig('{"defaultTier": "gold"}')).toThrow("defaultTier");
  });

  test("internal keys bypass the limiter", () => {
    expect(bypassesRateLimit({ internal: true })).toBe(true);
    expect(bypassesRateLimit({ internal: false })).toBe(false);
  });
});

describe("throttle counter", () => {
  test("counts refused calls per key and method, and starts over after a drain", () => {
    const counter = new ThrottleCounter();

    counter.count("key-1", ["eth_getLogs", "eth_getLogs", "eth_call"]);
    counter.count("key-2", ["eth_call"]);
    const drained = counter.drain();

    expect(drained).toEqual([
      { apiKeyId: "key-1", method: "eth_getLogs", count: 2 },
      { apiKeyId: "key-1", method: "eth_call", count: 1 },
      { apiKeyId: "key-2", method: "eth_call", count: 1 },
    ]);
    expect(counter.snapshot()).toEqual([]);
  });

  test("past its size, new methods are counted under (other)", () => {
    const counter = new ThrottleCounter(2);

    counter.count("key-1", ["a", "b", "c", "d"]);

    expect(counter.snapshot()).toContainEqual({ apiKeyId: "key-1", method: "(other)", count: 2 });
  });
});

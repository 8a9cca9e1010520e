import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { RedisStore } from "@viper/shared/store";
import type { BucketSpec } from "../src/rate-limit/bucket-spec.ts";
import { RedisLimiter } from "../src/rate-limit/redis-limiter.ts";

// Requests that reach the Redis limiter together go to Redis in one script call; each must still
// be decided as if it had come alone, in the order it arrived.
const prefix = `vp-test-rl-batch-${randomBytes(4).toString("hex")}:`;
let store: RedisStore;
let limiter: RedisLimiter;

beforeAll(() => {
  store = new RedisStore({ url: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379", prefix });
  limiter = new RedisLimiter(store);
});

afterAll(async () => {
  const keys = await store.client.keys(`${prefix}*`);
  if (keys.length > 0) {
    // The client adds the prefix itself.
    await store.client.del(...keys.map((key) => key.slice(prefix.length)));
  }
  await store.close();
});

function bucket(kind: BucketSpec["kind"], capacity: number): BucketSpec {
  return { kind, id: randomBytes(6).toString("hex"), capacity, refillPerSecond: 0.001 };
}

describe("requests checked together", () => {
  test("each sees what the ones before it left, as if they came one by one", async () => {
    const key = bucket("key", 5);

    const decisions = await Promise.all(
      Array.from({ length: 8 }, () => limiter.take({ buckets: [key], cost: 1 })),
    );

    expect(decisions.map((decision) => decision.allowed)).toEqual([
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
    expect(
      decisions.slice(0, 5).map((decision) => Math.round(decision.buckets[0]?.remaining ?? -1)),
    ).toEqual([4, 3, 2, 1, 0]);
  });

  test("a request refused by its project charges none of its buckets, even in a shared call", async () => {
    const project = bucket("project", 2);
    const keyA = bucket("key", 10);
    const keyB = bucket("key", 10);

    const [first, second, third] = await Promise.all([
      limiter.take({ buckets: [keyA, project], cost: 2 }),
      limiter.take({ buckets: [keyB, project], cost: 1 }),
      limiter.take({ buckets: [keyB], cost: 1 }),
    ]);

    expect(first?.allowed).toBe(true);
    expect(second).toMatchObject({ allowed: false, binding: { kind: "project" } });
    // Key B was not charged for the refused request: the next one finds it full.
    expect(third?.allowed).toBe(true);
    expect(Math.round(third?.buckets[0]?.remaining ?? -1)).toBe(9);
  });

  test("more requests than one call takes are all answered, and the bucket's total holds", async () => {
    const key = bucket("key", 300);

    const decisions = await Promise.all(
      Array.from({ length: 500 }, () => limiter.take({ buckets: [key], cost: 1 })),
    );

    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(300);
  });
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { createStore, type KeyValueStore } from "../src/store/index.ts";

// TEST_STORE picks the implementation for the whole run; the suite is the same for both.
const driver = process.env.TEST_STORE === "redis" ? "redis" : "memory";
const redisUrl = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

describe(`key-value store on ${driver}`, () => {
  let store: KeyValueStore;

  beforeAll(() => {
    const prefix = `vp-test-${randomBytes(4).toString("hex")}:`;
    store = createStore(driver === "redis" ? redisUrl : undefined, prefix);
  });

  afterAll(async () => {
    await store.close();
  });

  test("a value expires after its time to live", async () => {
    await store.set("short", "v", 50);
    expect(await store.get("short")).toBe("v");

    await Bun.sleep(120);

    expect(await store.get("short")).toBeNull();
  });

  test("setIfAbsent lets exactly one of many callers claim a key", async () => {
    const claims = await Promise.all(
      Array.from({ length: 20 }, () => store.setIfAbsent("nonce", "1", 10_000)),
    );

    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  test("take hands a value to one caller only", async () => {
    await store.set("once", "secret");

    const taken = await Promise.all([store.take("once"), store.take("once")]);

    expect(taken.filter((v) => v === "secret")).toHaveLength(1);
  });

  test("incr counts within a window that the first increment starts", async () => {
    expect(await store.incr("count", 60)).toBe(1);
    expect(await store.incr("count", 60)).toBe(2);

    await Bun.sleep(120);

    expect(await store.incr("count", 60)).toBe(1);
  });

  test("a published message reaches a subscriber, and not after it unsubscribes", async () => {
    const seen: string[] = [];
    const unsubscribe = await store.subscribe("events", (m) => seen.push(m));

    await store.publish("events", "first");
    await waitFor(() => seen.length === 1);
    await unsubscribe();
    await store.publish("events", "second");
    await Bun.sleep(50);

    expect(seen).toEqual(["first"]);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error("condition not reached in time");
    }
    await Bun.sleep(5);
  }
}

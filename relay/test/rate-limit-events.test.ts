import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes, randomUUID } from "node:crypto";
import { limitEvents } from "@viper/db/schema/limit-events";
import { createTestDatabase, type TestDatabase } from "@viper/db/testing";
import { createLogger } from "@viper/shared/logger";
import { createStore, type KeyValueStore } from "@viper/shared/store";
import { asc, eq } from "drizzle-orm";
import { Redis } from "ioredis";
import type { BucketSpec } from "../src/rate-limit/bucket-spec.ts";
import { LimitEventRecorder } from "../src/rate-limit/limit-events.ts";
import { MemoryLimiter } from "../src/rate-limit/memory-limiter.ts";

// TEST_STORE picks where the once-per-window claims live; the behaviour must be the same.
const driver = process.env.TEST_STORE === "redis" ? "redis" : "memory";
const redisUrl = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

interface LogLine {
  level: number;
  msg: string;
  threshold?: number;
  bucketKind?: string;
}

describe(`limit events with claims in the ${driver} store`, () => {
  const lines: LogLine[] = [];
  const logger = createLogger({
    service: "relay-test",
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) },
  });
  const prefix = `vp-test-rl-${randomBytes(4).toString("hex")}:`;
  let database: TestDatabase;
  let store: KeyValueStore;

  beforeAll(async () => {
    database = await createTestDatabase();
    store = createStore(driver === "redis" ? redisUrl : undefined, prefix);
  });

  afterAll(async () => {
    if (driver === "redis") {
      const cleaner = new Redis(redisUrl);
      const claims = await cleaner.keys(`${prefix}*`);
      if (claims.length > 0) {
        await cleaner.del(...claims);
      }
      cleaner.disconnect();
    }
    await store.close();
    await database.close();
  });

  test("crossing 80% then 100% records two rows once per window, across two instances", async () => {
    let clock = Date.UTC(2030, 0, 1, 10, 15);
    const limiter = new MemoryLimiter({ now: () => clock });
    const recorders = [1, 2].map(
      () => new LimitEventRecorder({ db: database.db, store, logger, windowSeconds: 3600 }),
    );
    const subject = { projectId: randomUUID(), apiKeyId: randomUUID() };
    const key: BucketSpec = {
      kind: "key",
      id: subject.apiKeyId,
      capacity: 10,
      refillPerSecond: 0.001,
    };
    const project: BucketSpec = {
      kind: "project",
      id: subject.projectId,
      capacity: 1000,
      refillPerSecond: 1,
    };
    // Each request is seen by both instances, as when two relays share the traffic.
    const send = async (cost: number) => {
      const decision = await limiter.take({ buckets: [key, project], cost });
      const seen = await Promise.all(
        recorders.map((recorder) => recorder.observe(decision, subject)),
      );
      return seen.flat();
    };

    const underEighty = await send(7);
    const atEighty = await send(2);
    const atHundred = await send(1);
    const refusedAfter = [await send(1), await send(5)].flat();
    clock += 3_600_000;
    const nextWindow = await send(5);

    expect(underEighty).toEqual([]);
    expect(atEighty.map((event) => event.threshold)).toEqual([80]);
    expect(atHundred.map((event) => event.threshold)).toEqual([100]);
    expect(refusedAfter).toEqual([]);
    expect(nextWindow.map((event) => event.threshold)).toEqual([80, 100]);
    const rows = await database.db
      .select()
      .from(limitEvents)
      .where(eq(limitEvents.projectId, subject.projectId))
      .orderBy(asc(limitEvents.windowStart), asc(limitEvents.threshold));
    expect(rows.map((row) => [row.threshold, row.bucketKind, row.apiKeyId])).toEqual([
      [80, "key", subject.apiKeyId],
      [100, "key", subject.apiKeyId],
      [80, "key", subject.apiKeyId],
      [100, "key", subject.apiKeyId],
    ]);
    expect(rows[0]?.windowStart.toISOString()).toBe("2030-01-01T10:00:00.000Z");
    expect(rows[2]?.windowStart.toISOString()).toBe("2030-01-01T11:00:00.000Z");
    const logged = lines.filter((line) => line.msg === "rate limit threshold reached");
    expect(logged.map((line) => line.threshold)).toEqual([80, 100, 80, 100]);
  });

  test("a project bucket's event names the project and no key", async () => {
    const limiter = new MemoryLimiter();
    const recorder = new LimitEventRecorder({ db: database.db, store, logger });
    const subject = { projectId: randomUUID(), apiKeyId: randomUUID() };
    const project: BucketSpec = {
      kind: "project",
      id: subject.projectId,
      capacity: 5,
      refillPerSecond: 0.001,
    };

    const decision = await limiter.take({ buckets: [project], cost: 6 });
    const recorded = await recorder.observe(decision, subject);

    expect(decision.allowed).toBe(false);
    expect(recorded.map((event) => event.threshold)).toEqual([80, 100]);
    const rows = await database.db
      .select()
      .from(limitEvents)
      .where(eq(limitEvents.projectId, subject.projectId));
    expect(rows.map((row) => [row.bucketKind, row.apiKeyId])).toEqual([
      ["project", null],
      ["project", null],
    ]);
  });
});

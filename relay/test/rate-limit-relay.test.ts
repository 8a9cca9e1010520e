import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { limitEvents } from "@viper/db/schema/limit-events";
import { relayLogs } from "@viper/db/schema/relay-logs";
import type { KeyValueStore } from "@viper/shared/store";
import { asc, eq } from "drizzle-orm";
import type { RelayApp } from "../src/app.ts";
import { parseRateLimitConfig } from "../src/rate-limit/config.ts";
import { captureLogger, type Harness, post, rpc, startHarness, storeDriver } from "./harness.ts";
import {
  addProject,
  call,
  firstKey,
  type LimitError,
  limitHeaders,
  relayInstance,
  rpcPath,
  secondStoreFor,
  waitFor,
} from "./rate-limit-relay-fixtures.ts";

// Refills so slow that no bucket gains a whole unit while a test runs.
const slow = 0.001;
const plenty = { perSecond: 1_000_000 };

/** One tier per story; each test puts a project of its own on the tier it needs. */
const rates = parseRateLimitConfig({
  // 1,000 requests in flight in one process delay every callback, Redis replies included; the
  // stories here are about shared buckets, not about giving up on a slow Redis.
  redisTimeoutMs: 5_000,
  defaultTier: "unlimited",
  tiers: {
    unlimited: { project: plenty, key: plenty },
    "key-100": { project: plenty, key: { perSecond: slow, burst: 100 } },
    "project-50": {
      project: { perSecond: slow, burst: 50 },
      key: { perSecond: slow, burst: 30 },
    },
    "logs-30": {
      project: plenty,
      key: plenty,
      methods: { eth_getLogs: { perSecond: slow, burst: 30 } },
    },
    // Refills one unit in 100 s: Reset and Retry-After are whole, predictable seconds.
    "key-25": { project: plenty, key: { perSecond: 0.01, burst: 25 } },
  },
});

let harness: Harness;
let secondStore: KeyValueStore;
let second: RelayApp;
let secondLines: string[];

beforeAll(async () => {
  harness = await startHarness({ rateLimit: rates });
  secondStore = secondStoreFor(harness);
  const secondLogger = captureLogger();
  secondLines = secondLogger.lines;
  second = relayInstance(harness, secondStore, rates, secondLogger.logger);
  await second.decorator.relay.ready;
});

afterAll(async () => {
  await second.decorator.relay.close();
  if (secondStore !== harness.store) {
    await secondStore.close();
  }
  await harness.close();
});

function countBy<T>(values: T[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) {
    counts[String(value)] = (counts[String(value)] ?? 0) + 1;
  }
  return counts;
}

describe(`rate limits through the relay on the ${storeDriver} store`, () => {
  // With the memory store each instance has buckets of its own, so the story needs Redis to
  // span two instances; on the memory store it runs on one.
  const instances = storeDriver === "redis" ? "two relay instances" : "one relay instance";

  test(`1,000 concurrent requests over ${instances} let exactly 100 through`, async () => {
    const project = await addProject(harness, "key-100");
    const key = firstKey(project);
    const apps = storeDriver === "redis" ? [harness.app, second] : [harness.app];

    const answers = await Promise.all(
      Array.from({ length: 1_000 }, (_, index) =>
        post(apps[index % apps.length] ?? harness.app, rpcPath(key), rpc("eth_blockNumber", index)),
      ),
    );

    const lost = [...harness.logLines, ...secondLines].filter((line) =>
      line.includes("rate limiter lost redis"),
    );
    expect(lost).toEqual([]);
    expect(countBy(answers.map((answer) => answer.status))).toEqual({ 200: 100, 429: 900 });
    const refused = answers.filter((answer) => answer.status === 429);
    const codes = refused.map((answer) => (JSON.parse(answer.text) as LimitError).error.code);
    expect(countBy(codes)).toEqual({ "-32005": 900 });
    const first = JSON.parse(refused[0]?.text ?? "{}") as LimitError;
    expect(first.error.message).toContain("key limit");
    expect(first.error.data).toMatchObject({ limit: "key" });
    expect(first.error.data.retryAfter).toBeGreaterThan(0);
  }, 30_000);

  test("the 80% and 100% marks of a bucket are recorded once, however many requests cross them", async () => {
    const project = await addProject(harness, "key-100");
    const key = firstKey(project);
    const apps = storeDriver === "redis" ? [harness.app, second] : [harness.app];

    await Promise.all(
      Array.from({ length: 150 }, (_, index) =>
        post(apps[index % apps.length] ?? harness.app, rpcPath(key), rpc("eth_chainId", index)),
      ),
    );
    const rows = () =>
      harness.testDb.db
        .select()
        .from(limitEvents)
        .where(eq(limitEvents.projectId, project.projectId))
        .orderBy(asc(limitEvents.threshold));
    await waitFor(async () => (await rows()).length >= 2);

    expect((await rows()).map((row) => [row.bucketKind, row.apiKeyId, row.threshold])).toEqual([
      ["key", key.keyId, 80],
      ["key", key.keyId, 100],
    ]);
  }, 30_000);

  test("a project's limit holds across its keys when it is below the sum of theirs", async () => {
    const project = await addProject(harness, "project-50", { keyCount: 3 });

    const answers = [];
    for (let round = 0; round < 30; round++) {
      for (const key of project.keys) {
        answers.push(await call(harness.app, key, rpc("eth_chainId", round)));
      }
    }

    expect(countBy(answers.map((answer) => answer.status))).toEqual({ 200: 50, 429: 40 });
    const refusals = answers.filter((answer) => answer.status === 429);
    const limits = refusals.map((answer) => (answer.json as LimitError).error.data.limit);
    expect(countBy(limits)).toEqual({ project: 40 });
    expect((refusals[0]?.json as LimitError | undefined)?.error.message).toContain("project limit");
  });

  test("a per-method limit on eth_getLogs refuses it while eth_blockNumber still passes", async () => {
    const project = await addProject(harness, "logs-30");
    const key = firstKey(project);
    const getLogs = (id: number) =>
      rpc("eth_getLogs", id, [{ fromBlock: "0x0", toBlock: "latest" }]);

    // eth_getLogs costs 10 compute units, so a 30-unit method bucket holds three.
    const logs = [];
    for (let id = 0; id < 5; id++) {
      logs.push(await call(harness.app, key, getLogs(id)));
    }
    const blockNumber = await call(harness.app, key, rpc("eth_blockNumber", 9));

    expect(logs.map((answer) => answer.status)).toEqual([200, 200, 200, 429, 429]);
    const refusal = logs[3]?.json as LimitError;
    expect(refusal.error.code).toBe(-32005);
    expect(refusal.error.data).toMatchObject({ limit: "method", method: "eth_getLogs" });
    expect(refusal.error.message).toContain("eth_getLogs");
    expect(blockNumber.status).toBe(200);
    expect(blockNumber.json).toMatchObject({ jsonrpc: "2.0", id: 9, result: expect.any(String) });
  });

  test("a batch of 10 costs 10 and is refused whole when it does not fit", async () => {
    const project = await addProject(harness, "key-25");
    const key = firstKey(project);
    const batch = (from: number) =>
      Array.from({ length: 10 }, (_, index) => rpc("eth_blockNumber", from + index));

    const firstBatch = await call(harness.app, key, batch(0));
    const secondBatch = await call(harness.app, key, batch(10));
    const thirdBatch = await call(harness.app, key, batch(20));
    const single = await call(harness.app, key, rpc("eth_blockNumber", 30));

    expect(firstBatch.status).toBe(200);
    expect(firstBatch.json).toHaveLength(10);
    expect(limitHeaders(firstBatch.headers)["ratelimit-remaining"]).toBe("15");
    expect(limitHeaders(secondBatch.headers)["ratelimit-remaining"]).toBe("5");
    expect(thirdBatch.status).toBe(429);
    const refusals = thirdBatch.json as LimitError[];
    expect(refusals.map((item) => item.id)).toEqual(batch(20).map((item) => item.id));
    expect(new Set(refusals.map((item) => item.error.code))).toEqual(new Set([-32005]));
    // A refused batch takes nothing: the single call after it finds the 5 units still there.
    expect(limitHeaders(thirdBatch.headers)["ratelimit-remaining"]).toBe("5");
    expect(single.status).toBe(200);
    expect(limitHeaders(single.headers)["ratelimit-remaining"]).toBe("4");
  });

  test("allowed, warned and refused answers carry the limit headers, readable by browsers", async () => {
    const project = await addProject(harness, "key-25");
    const key = firstKey(project);
    const twenty = Array.from({ length: 20 }, (_, index) => rpc("eth_chainId", index));

    const allowed = await call(harness.app, key, rpc("eth_chainId", 1));
    const warned = await call(harness.app, key, twenty);
    const refused = await call(harness.app, key, twenty);

    expect(allowed.status).toBe(200);
    expect(limitHeaders(allowed.headers)).toEqual({
      "ratelimit-limit": "25",
      "ratelimit-remaining": "24",
      "ratelimit-reset": "100",
      "x-ratelimit-limit": "25",
      "x-ratelimit-remaining": "24",
      "x-ratelimit-reset": "100",
      "x-ratelimit-warning": expect.stringContaining("key limit"),
    });
    expect(warned.status).toBe(200);
    expect(limitHeaders(warned.headers)).toMatchObject({
      "ratelimit-remaining": "4",
      "ratelimit-reset": "2100",
      "x-ratelimit-warning": expect.stringContaining("4 of 25 burst units left"),
    });
    expect(refused.status).toBe(429);
    // 21 units in use, 20 asked, 25 held: 16 units must drain at 0.01 a second.
    expect(limitHeaders(refused.headers)).toEqual({
      "ratelimit-limit": "25",
      "ratelimit-remaining": "4",
      "ratelimit-reset": "2100",
      "x-ratelimit-limit": "25",
      "x-ratelimit-remaining": "4",
      "x-ratelimit-reset": "2100",
      "retry-after": "1600",
    });
    expect((refused.json as LimitError[])[0]?.error.data.retryAfter).toBe(1600);
    const exposed = refused.headers.get("access-control-expose-headers") ?? "";
    for (const name of [
      "ratelimit-limit",
      "ratelimit-remaining",
      "ratelimit-reset",
      "retry-after",
    ]) {
      expect(exposed).toContain(name);
    }
  });

  test("refused requests get a usage row as rate_limited and are counted per key and method", async () => {
    const project = await addProject(harness, "key-25");
    const key = firstKey(project);
    const batch = Array.from({ length: 20 }, (_, index) =>
      rpc(index % 2 === 0 ? "eth_chainId" : "eth_blockNumber", index),
    );
    const before = harness.app.decorator.relay.rateLimit.throttled.snapshot();

    const allowed = await post(harness.app, rpcPath(key), batch, {
      "x-request-id": `ok-${key.keyId}`,
    });
    const refused = await post(harness.app, rpcPath(key), batch, {
      "x-request-id": `refused-${key.keyId}`,
    });
    await harness.app.decorator.relay.relayLogs.flush();

    expect([allowed.status, refused.status]).toEqual([200, 429]);
    const rows = await harness.testDb.db
      .select()
      .from(relayLogs)
      .where(eq(relayLogs.apiKeyId, key.keyId))
      .orderBy(asc(relayLogs.createdAt));
    expect(rows.map((row) => [row.requestId, row.status, row.httpStatus, row.errorCode])).toEqual([
      [`ok-${key.keyId}`, "ok", 200, null],
      [`refused-${key.keyId}`, "rate_limited", 429, -32005],
    ]);
    const counted = harness.app.decorator.relay.rateLimit.throttled
      .snapshot()
      .filter((entry) => entry.apiKeyId === key.keyId);
    expect(before.filter((entry) => entry.apiKeyId === key.keyId)).toEqual([]);
    expect(counted.sort((a, b) => a.method.localeCompare(b.method))).toEqual([
      { apiKeyId: key.keyId, method: "eth_blockNumber", count: 10 },
      { apiKeyId: key.keyId, method: "eth_chainId", count: 10 },
    ]);
  });

  test("an internal key skips the limiter but its requests are still logged", async () => {
    const project = await addProject(harness, "key-25", { internal: true });
    const key = firstKey(project);
    const thirty = Array.from({ length: 30 }, (_, index) => rpc("eth_chainId", index));

    const answers = [await call(harness.app, key, thirty), await call(harness.app, key, thirty)];
    await harness.app.decorator.relay.relayLogs.flush();

    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect(answers.map((answer) => limitHeaders(answer.headers))).toEqual([{}, {}]);
    const rows = await harness.testDb.db
      .select()
      .from(relayLogs)
      .where(eq(relayLogs.apiKeyId, key.keyId));
    expect(rows.map((row) => [row.status, row.batchSize])).toEqual([
      ["ok", 30],
      ["ok", 30],
    ]);
  });

  test("health and readiness carry no limits and take nothing from any bucket", async () => {
    const project = await addProject(harness, "key-25");
    const key = firstKey(project);

    const operations = [];
    for (let index = 0; index < 30; index++) {
      operations.push(await harness.app.handle(new Request("http://relay.test/health")));
      operations.push(await harness.app.handle(new Request("http://relay.test/ready")));
    }
    const relay = await call(harness.app, key, rpc("eth_chainId", 1));

    expect(new Set(operations.map((response) => response.status))).toEqual(new Set([200]));
    expect(operations.map((response) => limitHeaders(response.headers))).toEqual(
      operations.map(() => ({})),
    );
    expect(limitHeaders(relay.headers)["ratelimit-remaining"]).toBe("24");
  });
});

/**
 * What the rate limiter adds to one relay: `bun run bench/limiter.bench.ts`.
 *
 * One relay app (handled in process, no port) on a devnet whose servicers forward to a fixed
 * in-process upstream, with two keys: a limited one and an internal one, which skips the limiter
 * (limiting off). Requests alternate between the two, one at a time, so both see the same
 * machine; the difference of their latencies is what the limiter costs. The limiter step alone
 * (checkRateLimit) is timed as well. Run once on the in-process limiter (memory store) and once
 * on Redis (REDIS_URL, default redis://127.0.0.1:6379; skipped when unreachable). Prints a table
 * and writes bench/results/limiter-latest.json.
 *
 * Settings: LIMITER_BENCH_REQUESTS (per arm, default 5000), TEST_DB=postgres for PostgreSQL
 * instead of PGlite (the usage rows are written off the request path either way).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { createProjectWithKey, upsertChains } from "@viper/db/seed";
import { createTestDatabase, type TestDatabase, testDriver } from "@viper/db/testing";
import { type Devnet, startDevnet } from "@viper/devnet/devnet";
import { createRelayApp, type RelayApp } from "@viper/relay/app";
import { parseRateLimitConfig } from "@viper/relay/rate-limit/config";
import { checkRateLimit } from "@viper/relay/rate-limiting";
import { hashApiKey } from "@viper/shared/api-key";
import { silentLogger } from "@viper/shared/logger";
import { generateKeyPair } from "@viper/shared/protocol";
import { type KeyValueStore, MemoryStore, RedisStore } from "@viper/shared/store";
import { Redis } from "ioredis";
import { fixedAnswer } from "./src/json-rpc-bodies.ts";

const CHAIN = { id: "0b01", slug: "limiter-bench" };
const requests = Number(process.env.LIMITER_BENCH_REQUESTS ?? 5_000);
const warmup = Math.min(500, requests);
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

// Limits the bench never reaches, so every limited request does the limiter's whole work
// (a key and a project bucket, charged) and is then relayed.
const rates = parseRateLimitConfig({
  defaultTier: "bench",
  tiers: { bench: { project: { perSecond: 1e9 }, key: { perSecond: 1e9 } } },
});

interface Stats {
  median: number;
  p99: number;
}

interface StoreResult {
  store: "memory" | "redis";
  limiter: string;
  off: Stats;
  on: Stats;
  added: Stats;
  step: Stats;
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (share: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)] ?? 0;
  return { median: at(0.5), p99: at(0.99) };
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** Sends one eth_blockNumber through the app and reads the answer; fails on anything but 200. */
async function relayOnce(app: RelayApp, apiKey: string, id: number): Promise<void> {
  const response = await app.handle(
    new Request(`http://relay.bench/v1/${CHAIN.slug}/${apiKey}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id, method: "eth_blockNumber", params: [] }),
    }),
  );
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`relay answered ${response.status}: ${text.slice(0, 200)}`);
  }
}

async function redisReachable(): Promise<boolean> {
  const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0 });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

async function measureStore(
  kind: StoreResult["store"],
  store: KeyValueStore,
  database: TestDatabase,
  devnet: Devnet,
): Promise<StoreResult> {
  const requestor = generateKeyPair();
  const app = createRelayApp({
    db: database.db,
    store,
    logger: silentLogger(),
    viper: {
      dispatchUrls: [devnet.dispatcherUrl],
      requestor,
      client: requestor,
      numServicers: 5,
      blocksPerSession: 4,
      defaultZone: "0001",
    },
    limits: { maxBodyBytes: 1024 * 1024, deadlineMs: 10_000, servicerTimeoutMs: 2_500 },
    rateLimit: rates,
  });
  const runtime = app.decorator.relay;
  try {
    await runtime.ready;
    const keyFor = async (internal: boolean) => {
      const seeded = await createProjectWithKey(database.db, {
        email: `limiter-bench-${kind}-${internal ? "internal" : "limited"}@example.com`,
        projectName: `limiter bench ${kind}`,
        chainIds: [CHAIN.id],
        internal,
      });
      return seeded.apiKey.key;
    };
    const limitedKey = await keyFor(false);
    const internalKey = await keyFor(true);

    for (let id = 0; id < warmup; id++) {
      await relayOnce(app, limitedKey, id);
      await relayOnce(app, internalKey, id);
    }
    const on: number[] = [];
    const off: number[] = [];
    for (let id = 0; id < requests; id++) {
      // Alternating which arm goes first keeps a slow moment from landing on one arm only.
      const arms: [string, number[]][] =
        id % 2 === 0
          ? [
              [limitedKey, on],
              [internalKey, off],
            ]
          : [
              [internalKey, off],
              [limitedKey, on],
            ];
      for (const [apiKey, samples] of arms) {
        samples.push(await timed(() => relayOnce(app, apiKey, id)));
      }
    }

    const record = await runtime.keys.lookup(hashApiKey(limitedKey));
    if (record === null) {
      throw new Error("the limited key was not found");
    }
    const step: number[] = [];
    for (let index = 0; index < requests; index++) {
      step.push(await timed(() => checkRateLimit(runtime.rateLimit, record, ["eth_blockNumber"])));
    }

    const onStats = stats(on);
    const offStats = stats(off);
    return {
      store: kind,
      limiter: runtime.rateLimit.limiter.mode(),
      off: offStats,
      on: onStats,
      added: { median: onStats.median - offStats.median, p99: onStats.p99 - offStats.p99 },
      step: stats(step),
    };
  } finally {
    await runtime.close();
  }
}

function printTable(results: StoreResult[]): void {
  const ms = (value: number) => value.toFixed(3).padStart(9);
  const rows = [
    "| limiter         | relay, limiting off | relay, limiting on  | limiter adds        | limiter step alone  |",
    "|                 | median      p99     | median      p99     | median      p99     | median      p99     |",
    "| --------------- | ------------------- | ------------------- | ------------------- | ------------------- |",
  ];
  for (const result of results) {
    const pair = (value: Stats) => `${ms(value.median)} ${ms(value.p99)}`;
    rows.push(
      `| ${result.limiter.padEnd(15)} | ${pair(result.off)} | ${pair(result.on)} | ${pair(result.added)} | ${pair(result.step)} |`,
    );
  }
  console.log(`\nLatency per relay in ms (${requests} requests per arm, one at a time):\n`);
  console.log(rows.join("\n"));
}

async function main(): Promise<void> {
  const upstream = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) =>
      new Response(fixedAnswer(await request.text()), {
        headers: { "content-type": "application/json" },
      }),
  });
  const devnet = await startDevnet({
    chains: [{ id: CHAIN.id, upstreamUrl: `http://127.0.0.1:${upstream.port}` }],
    servicerCount: 5,
    blocksPerSession: 4,
    blockTimeMs: 3_600_000,
  });
  const database = await createTestDatabase();
  const prefix = `vp-limiter-bench-${process.pid}:`;
  const results: StoreResult[] = [];
  try {
    await upsertChains(database.db, [{ id: CHAIN.id, slug: CHAIN.slug, name: "Limiter bench" }]);
    const memory = new MemoryStore();
    results.push(await measureStore("memory", memory, database, devnet));
    await memory.close();
    if (await redisReachable()) {
      const redis = new RedisStore({ url: redisUrl, prefix });
      results.push(await measureStore("redis", redis, database, devnet));
      await redis.close();
    } else {
      console.log(`Redis at ${redisUrl} is not reachable: the Redis limiter is not measured.`);
    }
  } finally {
    await cleanRedis(prefix);
    await database.close();
    await devnet.stop();
    upstream.stop(true);
  }

  printTable(results);
  const report = {
    generatedAt: new Date().toISOString(),
    requestsPerArm: requests,
    warmupPerArm: warmup,
    database: testDriver,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", bun: Bun.version },
    unit: "ms",
    results,
  };
  const folder = join(import.meta.dir, "results");
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, "limiter-latest.json"), `${JSON.stringify(report, null, 2)}\n`);
  console.log("\nWritten to bench/results/limiter-latest.json");
}

/** Deletes the bench's buckets and cached keys from Redis, when it was used. */
async function cleanRedis(prefix: string): Promise<void> {
  if (!(await redisReachable())) {
    return;
  }
  const cleaner = new Redis(redisUrl);
  try {
    const keys = await cleaner.keys(`${prefix}*`);
    if (keys.length > 0) {
      await cleaner.del(...keys);
    }
  } finally {
    cleaner.disconnect();
  }
}

await main();

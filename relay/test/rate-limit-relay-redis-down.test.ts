import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { relayLogs } from "@viper/db/schema/relay-logs";
import { freePort } from "@viper/devnet/anvil";
import { RedisStore } from "@viper/shared/store";
import type { Subprocess } from "bun";
import { eq } from "drizzle-orm";
import type { RelayApp } from "../src/app.ts";
import { parseRateLimitConfig } from "../src/rate-limit/config.ts";
import { captureLogger, type Harness, rpc, startHarness } from "./harness.ts";
import {
  addProject,
  call,
  type LimitError,
  limitHeaders,
  relayInstance,
  type TestKey,
} from "./rate-limit-relay-fixtures.ts";
import { redisServerBinary, startRedisServer, waitFor } from "./redis-server.ts";

// A Redis of our own on a spare port: stopping it disturbs no other test.
const testWithRedisServer = redisServerBinary ? test : test.skip;
if (!redisServerBinary) {
  console.warn("redis-server is not installed: the relay's Redis outage test is skipped");
}

const plenty = { perSecond: 1_000_000 };
const rates = parseRateLimitConfig({
  defaultTier: "unlimited",
  tiers: { unlimited: { project: plenty, key: plenty } },
  probeIntervalMs: 100,
});

interface Instance {
  app: RelayApp;
  store: RedisStore;
  lines: string[];
}

let harness: Harness;
let port = 0;
let redis: Subprocess | null = null;
let degrading: Instance;
let refusing: Instance;
let key: TestKey;

function instance(onRedisDown: "degrade" | "refuse"): Instance {
  const store = new RedisStore({
    url: `redis://127.0.0.1:${port}`,
    prefix: `vp-relay-down-${randomBytes(4).toString("hex")}:`,
  });
  const { logger, lines } = captureLogger();
  const app = relayInstance(harness, store, { ...rates, onRedisDown }, logger);
  return { app, store, lines };
}

beforeAll(async () => {
  harness = await startHarness();
  if (!redisServerBinary) {
    return;
  }
  port = await freePort();
  redis = await startRedisServer(port);
  degrading = instance("degrade");
  refusing = instance("refuse");
  await Promise.all([degrading.app.decorator.relay.ready, refusing.app.decorator.relay.ready]);
  const [first] = (await addProject(harness, "unlimited")).keys;
  if (!first) {
    throw new Error("no key");
  }
  key = first;
}, 60_000);

afterAll(async () => {
  for (const running of [degrading, refusing]) {
    await running?.app.decorator.relay.close();
    await running?.store.close();
  }
  redis?.kill();
  await redis?.exited;
  await harness.close();
});

async function readiness(app: RelayApp) {
  const response = await app.handle(new Request("http://relay.test/ready"));
  return { status: response.status, body: (await response.json()) as unknown };
}

async function stopRedis(): Promise<void> {
  redis?.kill();
  await redis?.exited;
  redis = null;
}

function logged(lines: string[], msg: string): number {
  return lines.filter((line) => (JSON.parse(line) as { msg?: string }).msg === msg).length;
}

describe("the relay while the rate limiter's Redis is down", () => {
  testWithRedisServer(
    "keeps answering in degraded mode, or refuses with -32023 when set to, and recovers",
    async () => {
      const before = await call(degrading.app, key, rpc("eth_chainId", 1));
      const readyBefore = await readiness(degrading.app);

      await stopRedis();
      const during = [];
      for (let index = 0; index < 10; index++) {
        during.push(await call(degrading.app, key, rpc("eth_blockNumber", index)));
      }
      const refused = await call(refusing.app, key, rpc("eth_blockNumber", 1), {
        "x-request-id": `limiter-down-${key.keyId}`,
      });
      const degradedReady = await readiness(degrading.app);
      const refusingReady = await readiness(refusing.app);

      expect(before.status).toBe(200);
      expect(readyBefore).toEqual({
        status: 200,
        body: {
          status: "ready",
          checks: { database: "ok", store: "ok", dispatcher: "ok", rateLimiter: "redis" },
        },
      });
      expect(during.map((answer) => answer.status)).toEqual(Array(10).fill(200));
      expect(limitHeaders(during[9]?.headers ?? new Headers())["ratelimit-limit"]).toBe("2000000");
      expect(refused.status).toBe(503);
      expect(refused.json).toMatchObject({
        id: 1,
        error: { code: -32023, data: { limit: "limiter", retryAfter: 1 } },
      });
      expect((refused.json as LimitError).error.message).toContain("Rate limiting is unavailable");
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(degradedReady).toEqual({
        status: 200,
        body: {
          status: "degraded",
          checks: {
            database: "ok",
            store: "unavailable",
            dispatcher: "ok",
            rateLimiter: "degraded-memory",
          },
        },
      });
      expect(refusingReady).toEqual({
        status: 503,
        body: {
          status: "not_ready",
          checks: {
            database: "ok",
            store: "unavailable",
            dispatcher: "ok",
            rateLimiter: "degraded-refusing",
          },
        },
      });
      expect(logged(degrading.lines, "rate limiter lost redis")).toBe(1);
      expect(logged(refusing.lines, "rate limiter lost redis")).toBe(1);
      await refusing.app.decorator.relay.relayLogs.flush();
      const [row] = await harness.testDb.db
        .select()
        .from(relayLogs)
        .where(eq(relayLogs.requestId, `limiter-down-${key.keyId}`));
      expect(row).toMatchObject({
        status: "limiter_unavailable",
        httpStatus: 503,
        errorCode: -32023,
      });

      redis = await startRedisServer(port);
      const bothReady = async () => {
        const states = await Promise.all([degrading.app, refusing.app].map(readiness));
        return states.every((state) => (state.body as { status: string }).status === "ready");
      };
      await waitFor(bothReady);
      const after = await call(refusing.app, key, rpc("eth_chainId", 2));
      const readyAfter = await readiness(degrading.app);

      expect(after.status).toBe(200);
      expect(readyAfter.body).toMatchObject({ status: "ready", checks: { rateLimiter: "redis" } });
      expect(logged(refusing.lines, "rate limiter back on redis")).toBe(1);
    },
    60_000,
  );
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { freePort } from "@viper/devnet/anvil";
import { createLogger } from "@viper/shared/logger";
import { RedisStore } from "@viper/shared/store";
import type { Subprocess } from "bun";
import type { BucketSpec } from "../src/rate-limit/bucket-spec.ts";
import { takeScriptSha } from "../src/rate-limit/redis-limiter.ts";
import { refusalFor } from "../src/rate-limit/refusal.ts";
import { ResilientLimiter } from "../src/rate-limit/resilient-limiter.ts";
import { redisServerBinary as redisServer, startRedisServer, waitFor } from "./redis-server.ts";

// A Redis of our own on a spare port, so stopping it disturbs nobody else's tests.
const testWhenRedisServer = redisServer ? test : test.skip;
if (!redisServer) {
  console.warn("redis-server is not installed: the Redis outage test is skipped");
}

interface LogLine {
  level: number;
  msg: string;
  mode?: string;
}

const bucket: BucketSpec = {
  kind: "key",
  id: randomBytes(6).toString("hex"),
  capacity: 3,
  refillPerSecond: 0.001,
};

describe("rate limiter while Redis is down", () => {
  const lines: LogLine[] = [];
  const logger = createLogger({
    service: "relay-test",
    level: "debug",
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) },
  });
  let port = 0;
  let server: Subprocess | null = null;
  let store: RedisStore;
  let degrading: ResilientLimiter;
  let refusing: ResilientLimiter;

  beforeAll(async () => {
    if (!redisServer) {
      return;
    }
    port = await freePort();
    server = await startRedisServer(port);
    store = new RedisStore({ url: `redis://127.0.0.1:${port}`, prefix: "vp-test-rl:" });
    const options = { logger, redisTimeoutMs: 250, probeIntervalMs: 100 };
    degrading = new ResilientLimiter(store, { ...options, onRedisDown: "degrade" });
    refusing = new ResilientLimiter(store.client, { ...options, onRedisDown: "refuse" });
  });

  afterAll(async () => {
    await degrading?.close();
    await refusing?.close();
    await store?.close();
    server?.kill();
    await server?.exited;
  });

  testWhenRedisServer(
    "keeps answering in memory, or refuses when configured to, and returns to Redis",
    async () => {
      const request = { buckets: [bucket], cost: 1 };
      const before = await degrading.take(request);
      expect(before).toMatchObject({ allowed: true, source: "redis" });
      expect(degrading.mode()).toBe("redis");

      server?.kill();
      await server?.exited;
      const during = [];
      for (let index = 0; index < 5; index++) {
        during.push(await degrading.take(request));
      }
      const refused = await refusing.take(request);

      expect(degrading.mode()).toBe("degraded-memory");
      expect(during.map((decision) => decision.source)).toEqual(Array(5).fill("memory"));
      // The in-process buckets start full and count on their own: 3 through, then refusals.
      expect(during.map((decision) => decision.allowed)).toEqual([true, true, true, false, false]);
      expect(refusing.mode()).toBe("degraded-refusing");
      expect(refused.outcome).toBe("unavailable");
      expect(refusalFor(refused)).toMatchObject({ status: 503, data: { limit: "limiter" } });
      expect(warnings("rate limiter lost redis")).toHaveLength(2);

      server = await startRedisServer(port);
      await waitFor(() => degrading.mode() === "redis" && refusing.mode() === "redis");
      // A restarted Redis has forgotten the script: EVALSHA fails and EVAL loads it again.
      const cachedBefore = await store.client.script("EXISTS", takeScriptSha);
      const after = await degrading.take(request);
      const cachedAfter = await store.client.script("EXISTS", takeScriptSha);

      expect(cachedBefore).toEqual([0]);
      expect(after).toMatchObject({ allowed: true, source: "redis" });
      expect(cachedAfter).toEqual([1]);
      expect(infos("rate limiter back on redis")).toHaveLength(2);
      expect(warnings("rate limiter lost redis")).toHaveLength(2);
    },
    20_000,
  );

  function warnings(msg: string): LogLine[] {
    return lines.filter((line) => line.level === 40 && line.msg === msg);
  }

  function infos(msg: string): LogLine[] {
    return lines.filter((line) => line.level === 30 && line.msg === msg);
  }
});

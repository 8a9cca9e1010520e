import { describe, expect, test } from "bun:test";
import { relayLogs } from "@viper/db/schema/relay-logs";
import { eq } from "drizzle-orm";
import { parseRateLimitConfig } from "../src/rate-limit/config.ts";
import { post, rpc, useHarness } from "./harness.ts";

// A key bucket of 10 compute units that refills too slowly to matter while the test runs;
// eth_blockNumber costs 1, so a batch of 11 can never fit.
const rates = parseRateLimitConfig({
  defaultTier: "small",
  tiers: {
    small: { project: { perSecond: 1_000_000 }, key: { perSecond: 0.001, burst: 10 } },
  },
});

const harness = useHarness({ rateLimit: rates }, 60_000);

function blockNumberBatch(size: number) {
  return Array.from({ length: size }, (_, index) => rpc("eth_blockNumber", index + 1));
}

describe("a batch larger than the burst", () => {
  test("gets request_too_costly (413) without Retry-After, and charges nothing", async () => {
    const tooBig = await post(harness.app, harness.rpcPath, blockNumberBatch(11), {
      "x-request-id": "too-costly",
    });
    const fits = await post(harness.app, harness.rpcPath, blockNumberBatch(10));
    const overRate = await post(harness.app, harness.rpcPath, rpc("eth_blockNumber"));

    expect(tooBig.status).toBe(413);
    expect(tooBig.headers.get("retry-after")).toBeNull();
    expect(tooBig.headers.get("ratelimit-limit")).toBe("10");
    const errors = JSON.parse(tooBig.text) as { id: number; error: object }[];
    expect(errors).toHaveLength(11);
    expect(errors[0]?.error).toMatchObject({
      code: -32013,
      message: expect.stringContaining("send smaller batches"),
      data: { limit: "key", cost: 11, capacity: 10, requestId: "too-costly" },
    });
    expect(errors[0]?.error).not.toHaveProperty("data.retryAfter");
    // The refused batch left the bucket full: ten units still fit.
    expect(fits.status).toBe(200);
    // Now the bucket is used up, which waiting does cure: the usual 429 with Retry-After.
    expect(overRate.status).toBe(429);
    expect(overRate.headers.get("retry-after")).not.toBeNull();
    expect(JSON.parse(overRate.text)).toMatchObject({ error: { code: -32005 } });
  });

  test("is logged as request_too_costly", async () => {
    await harness.app.decorator.relay.relayLogs.flush();

    const rows = await harness.testDb.db
      .select()
      .from(relayLogs)
      .where(eq(relayLogs.requestId, "too-costly"));

    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      status: "request_too_costly",
      httpStatus: 413,
      errorCode: -32013,
      batchSize: 11,
    });
  });
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { listSecurityEvents } from "@viper/db/analytics/audit-log";
import { latencyBoundsMs } from "@viper/db/analytics/latency-histogram";
import { runUsageRollup } from "@viper/db/analytics/rollup-job";
import { asNumber, queryRows } from "@viper/db/analytics/sql-rows";
import { addBuckets, ceilTo, floorTo } from "@viper/db/analytics/time-buckets";
import { billableUsage, usageBreakdown, usageSummary } from "@viper/db/analytics/usage-report";
import { apiKeys } from "@viper/db/schema/api-keys";
import { generateApiKey } from "@viper/shared/api-key";
import {
  parseMetricsText,
  promtoolAvailable,
  promtoolCheckMetrics,
  sampleSum,
  sampleValue,
} from "@viper/shared/metrics/testing";
import { sql } from "drizzle-orm";
import { CostTable } from "../src/rate-limit/costs.ts";
import { CHAIN_ID, CHAIN_SLUG, type Harness, post, rpc, startHarness } from "./harness.ts";

/**
 * A known mix of requests sent through the relay, then read back the way the dashboard reads
 * it: every count must match what was sent, and the rollups must match the raw rows.
 */

interface Sent {
  key: "first" | "second" | "unknown";
  chain: string;
  methods: string[];
  /** The portal status the relay must log for it. */
  status: "ok" | "chain_not_allowed" | "unknown_key";
}

const address = "0x0000000000000000000000000000000000000001";
const mix: Sent[] = [
  ...repeat(20, { key: "first", chain: CHAIN_SLUG, methods: ["eth_blockNumber"], status: "ok" }),
  ...repeat(10, { key: "first", chain: CHAIN_SLUG, methods: ["eth_chainId"], status: "ok" }),
  ...repeat(5, {
    key: "first",
    chain: CHAIN_SLUG,
    methods: ["eth_chainId", "eth_blockNumber"],
    status: "ok",
  }),
  ...repeat(8, { key: "second", chain: CHAIN_SLUG, methods: ["eth_getBalance"], status: "ok" }),
  ...repeat(4, {
    key: "first",
    chain: "other-chain",
    methods: ["eth_blockNumber"],
    status: "chain_not_allowed",
  }),
  ...repeat(3, {
    key: "unknown",
    chain: CHAIN_SLUG,
    methods: ["eth_chainId"],
    status: "unknown_key",
  }),
];

function repeat(count: number, sent: Sent): Sent[] {
  return Array.from({ length: count }, () => sent);
}

function bodyOf(sent: Sent, index: number): unknown {
  const calls = sent.methods.map((method, offset) =>
    rpc(method, index * 10 + offset, method === "eth_getBalance" ? [address, "latest"] : []),
  );
  return calls.length === 1 ? calls[0] : calls;
}

let harness: Harness;
let secondKey: { key: string; id: string };
let startedAt: Date;
let statuses: number[];

beforeAll(async () => {
  harness = await startHarness({ relayLog: { flushIntervalMs: 60_000, batchSize: 1_000 } });
  const generated = generateApiKey();
  const [row] = await harness.testDb.db
    .insert(apiKeys)
    .values({
      projectId: harness.project.projectId,
      name: "second",
      keyHash: generated.hash,
      displayPrefix: generated.displayPrefix,
      lastFour: generated.lastFour,
    })
    .returning({ id: apiKeys.id });
  secondKey = { key: generated.key, id: row?.id ?? "" };
  startedAt = new Date();
  statuses = [];
  for (const [index, sent] of mix.entries()) {
    const key =
      sent.key === "first" ? harness.apiKey : sent.key === "second" ? secondKey.key : "vpr_nope";
    const answer = await post(harness.app, `/v1/${sent.chain}/${key}`, bodyOf(sent, index), {
      "x-request-id": `usage-mix-${index}`,
    });
    statuses.push(answer.status);
  }
  await harness.app.decorator.relay.relayLogs.flush();
  // Two minutes ahead: every minute of the run is closed, so the rollups hold all of it.
  await runUsageRollup(harness.testDb.db, { now: new Date(Date.now() + 120_000) });
}, 120_000);

afterAll(async () => {
  await harness.close();
});

const projectMix = () => mix.filter((sent) => sent.key !== "unknown");
const range = () => ({
  filter: { projectId: harness.project.projectId },
  from: floorTo(startedAt, "hour"),
  to: ceilTo(addBuckets(new Date(), "minute", 1), "minute"),
});

async function projectLatencies(): Promise<number[]> {
  const rows = await queryRows<{ latency: unknown }>(
    harness.testDb.db,
    sql`select latency_ms as latency from relay_logs where project_id = ${harness.project.projectId}`,
  );
  return rows.map((row) => asNumber(row.latency)).sort((a, b) => a - b);
}

function nearestRankBound(sorted: number[], quantile: number): number {
  const value = sorted[Math.max(1, Math.ceil(quantile * sorted.length)) - 1] ?? 0;
  const max = sorted[sorted.length - 1] ?? 0;
  return Math.min(latencyBoundsMs.find((bound) => value <= bound) ?? max, max);
}

describe("usage of requests sent through the relay", () => {
  test("the relay answered each request as the mix expects", () => {
    const expected = mix.map((sent) =>
      sent.status === "ok" ? 200 : sent.status === "unknown_key" ? 401 : 403,
    );

    expect(statuses).toEqual(expected);
  });

  test("the project's summary counts every request, error, call and compute unit", async () => {
    const sent = projectMix();
    const costs = new CostTable();
    const latencies = await projectLatencies();

    const summary = await usageSummary(harness.testDb.db, range());

    expect(summary.requests).toBe(sent.length);
    expect(summary.errors).toBe(sent.filter((entry) => entry.status !== "ok").length);
    expect(summary.calls).toBe(sent.reduce((total, entry) => total + entry.methods.length, 0));
    expect(summary.computeUnits).toBe(
      sent
        .filter((entry) => entry.status === "ok")
        .reduce((total, entry) => total + costs.costOf(entry.methods), 0),
    );
    expect(latencies).toHaveLength(sent.length);
    expect(summary.latencyMs.p50).toBe(nearestRankBound(latencies, 0.5));
    expect(summary.latencyMs.p99).toBe(nearestRankBound(latencies, 0.99));
  });

  test("breakdowns by key, chain and method match what each sent", async () => {
    const sent = projectMix();

    const byKey = await usageBreakdown(harness.testDb.db, { ...range(), by: "apiKeyId" });
    const byChain = await usageBreakdown(harness.testDb.db, { ...range(), by: "chainId" });
    const byMethod = await usageBreakdown(harness.testDb.db, { ...range(), by: "method" });

    const count = (keep: (entry: Sent) => boolean) => sent.filter(keep).length;
    expect(byKey.map((share) => [share.value, share.requests])).toEqual([
      [harness.project.keyId, count((entry) => entry.key === "first")],
      [secondKey.id, count((entry) => entry.key === "second")],
    ]);
    expect(Object.fromEntries(byChain.map((share) => [share.value, share.requests]))).toEqual({
      [CHAIN_ID]: count((entry) => entry.chain === CHAIN_SLUG),
      "0099": count((entry) => entry.chain === "other-chain"),
    });
    const methodOf = (entry: Sent) =>
      entry.methods.length > 1 ? "batch" : (entry.methods[0] ?? "");
    for (const share of byMethod) {
      expect(share.requests).toBe(count((entry) => methodOf(entry) === share.value));
    }
    expect(byMethod.reduce((total, share) => total + share.requests, 0)).toBe(sent.length);
  });

  test("the rollups hold exactly the raw rows, and billing counts the served requests", async () => {
    const [raw] = await queryRows<{ n: unknown }>(
      harness.testDb.db,
      sql`select count(*) as n from relay_logs where project_id = ${harness.project.projectId}`,
    );
    const [minutes] = await queryRows<{ n: unknown }>(
      harness.testDb.db,
      sql`select sum(requests) as n from usage_rollups_minute
          where project_id = ${harness.project.projectId}`,
    );
    const [hours] = await queryRows<{ n: unknown }>(
      harness.testDb.db,
      sql`select sum(requests) as n from usage_rollups_hour
          where project_id = ${harness.project.projectId}`,
    );
    const now = new Date();
    const bill = await billableUsage(
      harness.testDb.db,
      harness.project.projectId,
      { year: now.getUTCFullYear(), month: now.getUTCMonth() + 1 },
      addBuckets(now, "minute", 1),
    );

    expect(asNumber(raw?.n)).toBe(projectMix().length);
    expect(asNumber(minutes?.n)).toBe(projectMix().length);
    expect(asNumber(hours?.n)).toBe(projectMix().length);
    // A run that straddles midnight UTC on the 1st splits across two months; count this one's.
    const thisMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    if (startedAt >= thisMonth) {
      expect(bill.relays).toBe(projectMix().filter((entry) => entry.status === "ok").length);
    }
  });

  test("/metrics counts the same relays, by chain, status and method class", async () => {
    const response = await harness.app.handle(new Request("http://relay.test/metrics"));
    const text = await response.text();
    const families = parseMetricsText(text);
    const count = (keep: (entry: Sent) => boolean) => mix.filter(keep).length;

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    expect(
      sampleValue(families, "viper_relay_requests_total", {
        chain: CHAIN_ID,
        status: "ok",
        method_class: "read",
      }),
    ).toBe(count((entry) => entry.status === "ok" && entry.methods.length === 1));
    expect(
      sampleValue(families, "viper_relay_requests_total", {
        chain: CHAIN_ID,
        method_class: "batch",
      }),
    ).toBe(count((entry) => entry.methods.length > 1));
    expect(
      sampleValue(families, "viper_relay_requests_total", {
        chain: "0099",
        status: "chain_not_allowed",
      }),
    ).toBe(count((entry) => entry.status === "chain_not_allowed"));
    expect(
      sampleValue(families, "viper_relay_requests_total", {
        chain: "unknown",
        status: "unknown_key",
      }),
    ).toBe(count((entry) => entry.status === "unknown_key"));
    expect(sampleSum(families, "viper_servicer_attempts_total", { outcome: "ok" })).toBe(
      count((entry) => entry.status === "ok"),
    );
    expect(
      sampleValue(families, "viper_session_refreshes_total", { outcome: "ok" }),
    ).toBeGreaterThan(0);
    expect(sampleValue(families, "viper_servicers_healthy", { chain: CHAIN_ID })).toBe(5);
    expect(sampleValue(families, "viper_relay_log_written_rows_total")).toBe(mix.length);
    expect(sampleValue(families, "viper_relay_log_buffer_rows")).toBe(0);
    expect(sampleSum(families, "viper_cache_lookups_total", { cache: "key" })).toBeGreaterThan(0);
    expect(sampleValue(families, "viper_rate_limit_decisions_total", { decision: "allowed" })).toBe(
      count((entry) => entry.status === "ok"),
    );
  });

  test.skipIf(!promtoolAvailable)("promtool accepts the relay's /metrics", async () => {
    const response = await harness.app.handle(new Request("http://relay.test/metrics"));

    expect(promtoolCheckMetrics(await response.text())).toEqual({ ok: true, output: "" });
  });

  test("many refused keys from one address make one security event", async () => {
    const server = harness.app.listen({ hostname: "127.0.0.1", port: 0 });
    const url = `http://127.0.0.1:${server.server?.port}/v1/${CHAIN_SLUG}/vpr_guess`;
    try {
      for (let attempt = 0; attempt < 25; attempt += 1) {
        const answer = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(rpc("eth_chainId")),
        });
        expect(answer.status).toBe(401);
      }
    } finally {
      await server.stop();
    }
    // The event is recorded off the request path.
    let events = await listSecurityEvents(harness.testDb.db, { limit: 10 });
    for (let waited = 0; events.length === 0 && waited < 50; waited += 1) {
      await Bun.sleep(100);
      events = await listSecurityEvents(harness.testDb.db, { limit: 10 });
    }

    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: "relay.refused_keys_from_ip",
      category: "security",
      ip: "127.0.0.1",
      details: { refusals: 20, lastReason: "unknown_key" },
    });
  });
});

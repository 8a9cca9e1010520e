import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import { silentLogger } from "@viper/shared/logger";
import { sql } from "drizzle-orm";
import { DurableRelayLogWriter } from "../src/analytics/durable-relay-log-writer.ts";
import { latencyBucketsOf } from "../src/analytics/latency-histogram.ts";
import {
  countRows,
  expectedTotals,
  type MixRow,
  relayMix,
  rowsIn,
} from "../src/analytics/relay-mix.ts";
import { readRolledThrough, runUsageRollup } from "../src/analytics/rollup-job.ts";
import { asDate, asNumber, queryRows } from "../src/analytics/sql-rows.ts";
import { addBuckets, type BucketStep, ceilTo, floorTo } from "../src/analytics/time-buckets.ts";
import { usageSumsOf } from "../src/analytics/usage-queries.ts";
import {
  billableUsage,
  usageBreakdown,
  usageSeries,
  usageSummary,
} from "../src/analytics/usage-report.ts";
import { createTestDatabase, type TestDatabase, testDriver } from "../src/testing.ts";

const projectA = { projectId: randomUUID(), keyIds: [randomUUID(), randomUUID(), randomUUID()] };
const projectB = { projectId: randomUUID(), keyIds: [randomUUID()] };
const chains = ["0021", "0005", "0040"];
const methods = ["eth_blockNumber", "eth_call", "eth_getLogs", "eth_getBalance"];

let database: TestDatabase;
let rows: MixRow[];
let now: Date;
let from: Date;

async function writeThroughWriter(batch: MixRow[]): Promise<void> {
  const writer = new DurableRelayLogWriter({
    db: database.db,
    logger: silentLogger(),
    flushIntervalMs: 60_000,
    batchSize: 400,
  });
  for (const row of batch) {
    writer.add(row);
  }
  await writer.stop();
  expect(writer.pending).toBe(0);
}

/** The rollup table as comparable rows, keyed by bucket and dimensions. */
type RollupTable = "usage_rollups_minute" | "usage_rollups_hour" | "usage_rollups_day";

async function rollupTable(table: RollupTable) {
  const found = await queryRows<Record<string, unknown>>(
    database.db,
    sql`select * from ${sql.raw(table)} order by bucket_start, project_id, api_key_id, chain_id, method`,
  );
  return new Map(
    found.map((row) => [
      `${asDate(row.bucket_start).toISOString()}|${row.project_id}|${row.api_key_id}|${row.chain_id}|${row.method}`,
      { ...usageSumsOf(row), latencyBuckets: (row.latency_buckets as unknown[]).map(Number) },
    ]),
  );
}

/** The same table computed in JavaScript from the rows the writer was given. */
function expectedRollup(step: BucketStep, before: Date) {
  const groups = new Map<string, MixRow[]>();
  for (const row of rows) {
    if (row.projectId === null || row.projectId === undefined || row.createdAt >= before) {
      continue;
    }
    const key = `${floorTo(row.createdAt, step).toISOString()}|${row.projectId}|${row.apiKeyId}|${row.chainId ?? ""}|${row.method ?? ""}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return new Map(
    [...groups].map(([key, members]) => {
      const totals = countRows(members);
      return [
        key,
        {
          requests: totals.requests,
          errors: totals.errors,
          serverErrors: totals.serverErrors,
          calls: totals.calls,
          computeUnits: totals.computeUnits,
          bytesIn: totals.bytesIn,
          bytesOut: totals.bytesOut,
          latencySumMs: totals.latencies.reduce((sum, value) => sum + value, 0),
          latencyMaxMs: Math.max(...totals.latencies),
          latencyBuckets: latencyBucketsOf(totals.latencies),
        },
      ];
    }),
  );
}

beforeAll(async () => {
  database = await createTestDatabase();
  now = new Date();
  // Over two days back, so whole UTC days (the daily rollup) are in every long range.
  from = addBuckets(floorTo(now, "hour"), "hour", -50);
  rows = relayMix({
    projects: [projectA, projectB],
    chains,
    methods,
    from,
    to: now,
    count: 3000,
    seed: 42,
  });
  await writeThroughWriter(rows);
  await runUsageRollup(database.db, { now });
});

afterAll(async () => {
  await database.close();
});

describe(`usage rollups on ${testDriver}`, () => {
  test("every relay row written reaches relay_logs once", async () => {
    const [count] = await queryRows<{ n: unknown }>(
      database.db,
      sql`select count(*) as n from relay_logs`,
    );

    expect(asNumber(count?.n)).toBe(rows.length);
  });

  test("the minute, hour and day rollups equal the raw rows of the closed minutes", async () => {
    const rolledThrough = await readRolledThrough(database.db);
    expect(rolledThrough).toEqual(floorTo(new Date(now.getTime() - 30_000), "minute"));
    const before = rolledThrough ?? now;

    expect(await rollupTable("usage_rollups_minute")).toEqual(expectedRollup("minute", before));
    expect(await rollupTable("usage_rollups_hour")).toEqual(expectedRollup("hour", before));
    expect(await rollupTable("usage_rollups_day")).toEqual(expectedRollup("day", before));
  });

  test("a summary counts every request of the range, the unfolded minutes included", async () => {
    const to = ceilTo(now, "minute");

    const summary = await usageSummary(database.db, { filter: projectA, from, to });

    expect(summary).toEqual(expectedTotals(rowsIn(rows, projectA, from, to)));
  });

  test("a summary narrowed to one key or one chain counts only its requests", async () => {
    const to = ceilTo(now, "minute");
    const apiKeyId = projectA.keyIds[1] ?? "";

    const byKey = await usageSummary(database.db, {
      filter: { projectId: projectA.projectId, apiKeyId },
      from,
      to,
    });
    const byChain = await usageSummary(database.db, {
      filter: { projectId: projectA.projectId, chainId: "0005" },
      from,
      to,
    });

    expect(byKey).toEqual(
      expectedTotals(rowsIn(rows, { projectId: projectA.projectId, apiKeyId }, from, to)),
    );
    expect(byChain).toEqual(
      expectedTotals(rowsIn(rows, { projectId: projectA.projectId, chainId: "0005" }, from, to)),
    );
  });

  test("daily, hourly and per-minute series have one exact point per bucket", async () => {
    const hourTo = ceilTo(now, "hour");
    const minuteFrom = addBuckets(floorTo(now, "minute"), "minute", -90);
    const minuteTo = ceilTo(now, "minute");

    const hourly = await usageSeries(database.db, {
      filter: projectA,
      from,
      to: hourTo,
      step: "hour",
    });
    const perMinute = await usageSeries(database.db, {
      filter: projectB,
      from: minuteFrom,
      to: minuteTo,
      step: "minute",
    });

    const dayFrom = floorTo(from, "day");
    const daily = await usageSeries(database.db, {
      filter: projectA,
      from: dayFrom,
      to: ceilTo(now, "day"),
      step: "day",
    });

    expect(daily.length).toBeGreaterThanOrEqual(3);
    for (const point of daily) {
      const end = addBuckets(point.at, "day", 1);
      expect(point).toEqual({
        at: point.at,
        ...expectedTotals(rowsIn(rows, projectA, point.at, end)),
      });
    }
    expect(hourly).toHaveLength((hourTo.getTime() - from.getTime()) / 3_600_000);
    for (const point of hourly) {
      const end = addBuckets(point.at, "hour", 1);
      expect(point).toEqual({
        at: point.at,
        ...expectedTotals(rowsIn(rows, projectA, point.at, end)),
      });
    }
    expect(perMinute).toHaveLength(90 + (minuteTo > floorTo(now, "minute") ? 1 : 0));
    for (const point of perMinute) {
      const end = addBuckets(point.at, "minute", 1);
      expect(point).toEqual({
        at: point.at,
        ...expectedTotals(rowsIn(rows, projectB, point.at, end)),
      });
    }
  });

  test("breakdowns by key, chain and method add up to the summary", async () => {
    const to = ceilTo(now, "minute");
    const selected = rowsIn(rows, projectA, from, to);

    const byKey = await usageBreakdown(database.db, { filter: projectA, from, to, by: "apiKeyId" });
    const byChain = await usageBreakdown(database.db, {
      filter: projectA,
      from,
      to,
      by: "chainId",
    });
    const topMethods = await usageBreakdown(database.db, {
      filter: projectA,
      from,
      to,
      by: "method",
      limit: 3,
    });

    for (const share of byKey) {
      expect(share).toEqual({
        value: share.value,
        ...expectedTotals(selected.filter((row) => row.apiKeyId === share.value)),
      });
    }
    expect(byKey.map((share) => share.value).sort()).toEqual([...projectA.keyIds].sort());
    expect(byChain.map((share) => share.value).sort()).toEqual([...chains].sort());
    for (const share of byChain) {
      expect(share.requests).toBe(selected.filter((row) => row.chainId === share.value).length);
    }
    const methodCounts = [...new Set(selected.map((row) => row.method ?? ""))]
      .map((method) => ({
        method,
        requests: selected.filter((row) => row.method === method).length,
      }))
      .sort((a, b) => b.requests - a.requests || a.method.localeCompare(b.method));
    expect(topMethods.map((share) => ({ method: share.value, requests: share.requests }))).toEqual(
      methodCounts.slice(0, 3),
    );
  });

  test("the month's billable usage counts served requests and their compute units", async () => {
    const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const served = rowsIn(rows, projectA, monthStart, ceilTo(now, "minute")).filter(
      (row) => row.status === "ok",
    );

    const bill = await billableUsage(
      database.db,
      projectA.projectId,
      { year: now.getUTCFullYear(), month: now.getUTCMonth() + 1 },
      now,
    );

    expect(bill.relays).toBe(served.length);
    expect(bill.computeUnits).toBe(served.reduce((sum, row) => sum + (row.computeUnits ?? 0), 0));
  });

  test("rows that arrive after their minute was folded are folded on the next run", async () => {
    const foldedMinute = addBuckets(floorTo(now, "hour"), "hour", -2);
    const late = relayMix({
      projects: [projectA],
      chains,
      methods,
      from: foldedMinute,
      to: addBuckets(foldedMinute, "minute", 1),
      count: 25,
      seed: 7,
    });
    rows = [...rows, ...late];

    await writeThroughWriter(late);
    await runUsageRollup(database.db, { now });

    const before = (await readRolledThrough(database.db)) ?? now;
    expect(await rollupTable("usage_rollups_minute")).toEqual(expectedRollup("minute", before));
    expect(await rollupTable("usage_rollups_hour")).toEqual(expectedRollup("hour", before));
    expect(await rollupTable("usage_rollups_day")).toEqual(expectedRollup("day", before));
  });

  test("running again, or rebuilding from nothing after downtime, gives the same rollups", async () => {
    const minutesBefore = await rollupTable("usage_rollups_minute");
    const hoursBefore = await rollupTable("usage_rollups_hour");
    const daysBefore = await rollupTable("usage_rollups_day");

    await runUsageRollup(database.db, { now });
    const minutesAgain = await rollupTable("usage_rollups_minute");
    await database.db.execute(sql`delete from usage_rollups_minute`);
    await database.db.execute(sql`delete from usage_rollups_hour`);
    await database.db.execute(sql`delete from usage_rollups_day`);
    await database.db.execute(sql`delete from usage_rollup_state`);
    const rebuilt = await runUsageRollup(database.db, { now });

    expect(minutesAgain).toEqual(minutesBefore);
    expect(rebuilt.chunks).toBeGreaterThanOrEqual(50);
    expect(await rollupTable("usage_rollups_minute")).toEqual(minutesBefore);
    expect(await rollupTable("usage_rollups_hour")).toEqual(hoursBefore);
    expect(await rollupTable("usage_rollups_day")).toEqual(daysBefore);
  });
});

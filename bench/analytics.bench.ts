/**
 * The analytics benchmark (issue #6): `bun run bench/analytics.bench.ts [--rows N] [--keep]`.
 *
 * Makes its own Postgres database (BENCH_DATABASE_URL's server, default the local one), fills
 * relay_logs with N rows (10 million by default) of one project over 30 days plus other
 * projects' traffic, runs the rollup job over all of it, then times each dashboard query over the
 * 30 days: median and slowest of several warm runs. The same totals read from the raw rows are
 * timed too, for comparison. Results go to bench/results/analytics-<time>.json. Takes minutes;
 * the database is dropped at the end unless --keep.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureRelayLogPartitions } from "@viper/db/analytics/partitions";
import { runUsageRollup } from "@viper/db/analytics/rollup-job";
import { addBuckets, floorTo } from "@viper/db/analytics/time-buckets";
import {
  billableUsage,
  usageBreakdown,
  usageSeries,
  usageSummary,
} from "@viper/db/analytics/usage-report";
import { openDatabase } from "@viper/db/client";
import { migrateDatabase } from "@viper/db/migrate";
import { createLogger } from "@viper/shared/logger";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { generateAnalyticsData } from "./src/analytics-data.ts";

const logger = createLogger({ service: "bench-analytics", format: "pretty" });
const args = process.argv.slice(2);
const rowsArg = args.indexOf("--rows");
const projectRows = rowsArg >= 0 ? Number(args[rowsArg + 1]) : 10_000_000;
const keep = args.includes("--keep");
const adminUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const databaseName = "vp_bench_analytics";
const DAYS = 30;
const RUNS = 7;

async function recreateDatabase(): Promise<string> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`drop database if exists ${databaseName} with (force)`);
    await admin.unsafe(`create database ${databaseName}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${databaseName}`;
  return url.toString();
}

async function dropDatabase(): Promise<void> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`drop database if exists ${databaseName} with (force)`);
  } finally {
    await admin.end();
  }
}

interface Timing {
  name: string;
  medianMs: number;
  maxMs: number;
  result: string;
}

/** Runs `work` once to warm caches, then RUNS times; reports median and slowest. */
async function time(name: string, work: () => Promise<unknown>): Promise<Timing> {
  const first = await work();
  const samples: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const started = performance.now();
    await work();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const timing = {
    name,
    medianMs: Number((samples[Math.floor(samples.length / 2)] ?? 0).toFixed(1)),
    maxMs: Number((samples[samples.length - 1] ?? 0).toFixed(1)),
    result: JSON.stringify(first).slice(0, 160),
  };
  logger.info(timing, "timed");
  return timing;
}

async function main(): Promise<void> {
  const url = await recreateDatabase();
  const handle = await openDatabase({ url, poolSize: 4 });
  try {
    await migrateDatabase(handle);
    const db = handle.db;
    await ensureRelayLogPartitions(db, { daysBack: DAYS + 1, daysAhead: 1 });

    let started = Date.now();
    const dataset = await generateAnalyticsData(
      db,
      { projectRows, otherRows: Math.round(projectRows / 10), days: DAYS, otherProjects: 20 },
      (day, rowsSoFar) => logger.info({ day: day.toISOString().slice(0, 10), rowsSoFar }, "day"),
    );
    const generateSeconds = (Date.now() - started) / 1000;
    await db.execute(sql`analyze relay_logs`);

    started = Date.now();
    const rollup = await runUsageRollup(db);
    const rollupSeconds = (Date.now() - started) / 1000;
    await db.execute(sql`analyze usage_rollups_minute`);
    await db.execute(sql`analyze usage_rollups_hour`);
    logger.info({ generateSeconds, rollupSeconds, chunks: rollup.chunks }, "data ready");

    const to = floorTo(new Date(), "day");
    const from = addBuckets(to, "day", -DAYS);
    const filter = { projectId: dataset.projectId };
    const now = new Date();
    const timings = [
      await time("series, 30 days by hour", () =>
        usageSeries(db, { filter, from, to, step: "hour" }).then((points) => points.length),
      ),
      await time("series, 30 days by day", () =>
        usageSeries(db, { filter, from, to, step: "day" }).then((points) => points.length),
      ),
      await time("series, one key, 30 days by hour", () =>
        usageSeries(db, {
          filter: { ...filter, apiKeyId: dataset.keyIds[0] },
          from,
          to,
          step: "hour",
        }).then((points) => points.length),
      ),
      await time("summary, 30 days (p50/p95/p99)", () => usageSummary(db, { filter, from, to })),
      await time("top methods, 30 days", () =>
        usageBreakdown(db, { filter, from, to, by: "method", limit: 10 }).then((rows) =>
          rows.map((row) => [row.value, row.requests]),
        ),
      ),
      await time("per-key breakdown, 30 days", () =>
        usageBreakdown(db, { filter, from, to, by: "apiKeyId" }).then((rows) => rows.length),
      ),
      await time("billing, this month", () =>
        billableUsage(db, dataset.projectId, {
          year: now.getUTCFullYear(),
          month: now.getUTCMonth() + 1,
        }),
      ),
      await time("for comparison: count and errors from raw rows, 30 days", () =>
        db.execute(
          sql`select count(*), count(*) filter (where status <> 'ok') from relay_logs
              where project_id = ${dataset.projectId}
                and created_at >= ${from.toISOString()}::timestamptz
                and created_at < ${to.toISOString()}::timestamptz`,
        ),
      ),
    ];
    const report = {
      at: new Date().toISOString(),
      projectRows,
      otherRows: Math.round(projectRows / 10),
      days: DAYS,
      generateSeconds,
      rollupSeconds,
      timings,
    };
    const folder = join(import.meta.dir, "results");
    mkdirSync(folder, { recursive: true });
    const file = join(folder, `analytics-${report.at.replace(/[:.]/g, "-")}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(
      `\n${timings.map((t) => `${t.name.padEnd(58)} median ${t.medianMs} ms, max ${t.maxMs} ms`).join("\n")}`,
    );
    console.log(`\nreport: ${file}`);
  } finally {
    await handle.close();
    if (!keep) {
      await dropDatabase();
    }
  }
}

await main();

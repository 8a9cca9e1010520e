import type { Database } from "../client.ts";
import { addLatencyBuckets, latencyPercentile } from "./latency-histogram.ts";
import { readRolledThrough } from "./rollup-job.ts";
import { addBuckets, type BucketStep, ceilTo, minDate } from "./time-buckets.ts";
import {
  emptyUsage,
  readUsage,
  type UsageFilter,
  type UsageGroup,
  type UsageNumbers,
} from "./usage-queries.ts";

/**
 * What the dashboard shows, computed from readUsage: totals, rates and latency percentiles. The
 * numbers are exact counts; latencies are histogram percentiles (see latency-histogram.ts).
 */

export interface LatencySummary {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  avg: number | null;
  max: number | null;
}

export interface UsageTotals {
  requests: number;
  errors: number;
  serverErrors: number;
  /** errors / requests; 0 without requests. */
  errorRate: number;
  calls: number;
  computeUnits: number;
  bytesIn: number;
  bytesOut: number;
  latencyMs: LatencySummary;
}

export interface UsagePoint extends UsageTotals {
  at: Date;
}

export interface UsageRange {
  filter: UsageFilter;
  from: Date;
  to: Date;
}

/** Totals, error rate and latency percentiles of numbers read from the rollups. */
export function totalsOf(numbers: UsageNumbers): UsageTotals {
  const { requests } = numbers;
  const percentile = (quantile: number) =>
    latencyPercentile(numbers.latencyBuckets, requests, numbers.latencyMaxMs, quantile);
  return {
    requests,
    errors: numbers.errors,
    serverErrors: numbers.serverErrors,
    errorRate: requests === 0 ? 0 : numbers.errors / requests,
    calls: numbers.calls,
    computeUnits: numbers.computeUnits,
    bytesIn: numbers.bytesIn,
    bytesOut: numbers.bytesOut,
    latencyMs: {
      p50: percentile(0.5),
      p95: percentile(0.95),
      p99: percentile(0.99),
      avg: requests === 0 ? null : numbers.latencySumMs / requests,
      max: requests === 0 ? null : numbers.latencyMaxMs,
    },
  };
}

/** Adds usage rows into one. */
export function sumUsage(rows: readonly UsageNumbers[]): UsageNumbers {
  const total = emptyUsage();
  for (const row of rows) {
    total.requests += row.requests;
    total.errors += row.errors;
    total.serverErrors += row.serverErrors;
    total.calls += row.calls;
    total.computeUnits += row.computeUnits;
    total.bytesIn += row.bytesIn;
    total.bytesOut += row.bytesOut;
    total.latencySumMs += row.latencySumMs;
    total.latencyMaxMs = Math.max(total.latencyMaxMs, row.latencyMaxMs);
    addLatencyBuckets(total.latencyBuckets, row.latencyBuckets);
  }
  return total;
}

/**
 * One point per step over [from, to), buckets without traffic included as zeros so a chart
 * needs no gap filling. `from` and `to` must be aligned to the step.
 */
export async function usageSeries(
  db: Database,
  range: UsageRange & { step: BucketStep },
): Promise<UsagePoint[]> {
  const rows = await readUsage(db, { ...range, step: range.step });
  const byBucket = new Map(rows.map((row) => [row.bucket?.getTime() ?? 0, row]));
  const points: UsagePoint[] = [];
  for (let at = range.from; at < range.to; at = addBuckets(at, range.step, 1)) {
    points.push({ at, ...totalsOf(byBucket.get(at.getTime()) ?? emptyUsage()) });
  }
  return points;
}

/** Totals over the whole range. */
export async function usageSummary(db: Database, range: UsageRange): Promise<UsageTotals> {
  return totalsOf(sumUsage(await readUsage(db, range)));
}

export interface UsageShare extends UsageTotals {
  /** The key id, chain id or method this row is about ("" when unknown). */
  value: string;
}

/** Usage split by key, chain or method, busiest first; `limit` keeps the top rows. */
export async function usageBreakdown(
  db: Database,
  range: UsageRange & { by: UsageGroup; limit?: number },
): Promise<UsageShare[]> {
  const rows = await readUsage(db, { ...range, groupBy: [range.by] });
  const shares = rows.map((row) => ({ value: row[range.by] ?? "", ...totalsOf(row) }));
  shares.sort((a, b) => b.requests - a.requests || a.value.localeCompare(b.value));
  return range.limit === undefined ? shares : shares.slice(0, range.limit);
}

export interface BillableUsage {
  /** "2026-12" */
  month: string;
  from: Date;
  to: Date;
  /** Requests served ("ok"); refusals and failures are not billed. */
  relays: number;
  /** Compute units of the served requests. */
  computeUnits: number;
  /** Until when the rollups are complete; later requests were counted from the raw rows. */
  rolledThrough: Date | null;
}

/** A project's billable usage in one calendar month (UTC), to now for the current month. */
export async function billableUsage(
  db: Database,
  projectId: string,
  month: { year: number; month: number },
  now: Date = new Date(),
): Promise<BillableUsage> {
  const from = new Date(Date.UTC(month.year, month.month - 1, 1));
  const monthEnd = new Date(Date.UTC(month.year, month.month, 1));
  // The current month counts up to the end of the running minute.
  const to = minDate(monthEnd, ceilTo(now, "minute"));
  const rolledThrough = await readRolledThrough(db);
  const rows =
    from.getTime() < to.getTime()
      ? await readUsage(db, { filter: { projectId }, from, to }, rolledThrough)
      : [];
  const total = sumUsage(rows);
  return {
    month: `${month.year}-${String(month.month).padStart(2, "0")}`,
    from,
    to: monthEnd,
    relays: total.requests - total.errors,
    computeUnits: total.computeUnits,
    rolledThrough,
  };
}

import { type SQL, sql } from "drizzle-orm";
import type { Database } from "../client.ts";
import { latencyBoundsMs } from "./latency-histogram.ts";
import { readRolledThrough } from "./rollup-job.ts";
import { bucketMeasures, bucketOf, measureColumns, rawDimensions } from "./rollup-sql.ts";
import { asDate, asNumber, queryRows } from "./sql-rows.ts";
import type { BucketStep } from "./time-buckets.ts";
import { planSources, type TimeRange } from "./usage-sources.ts";

/** Whose usage: always one project, optionally narrowed to one key, chain or method. */
export interface UsageFilter {
  projectId: string;
  apiKeyId?: string | null;
  chainId?: string | null;
  method?: string | null;
}

export type UsageGroup = "apiKeyId" | "chainId" | "method";

export interface UsageQuery {
  filter: UsageFilter;
  /** Whole minutes; the range is [from, to). */
  from: Date;
  to: Date;
  /** One row per bucket of this size; null for one row over the whole range. */
  step?: BucketStep | null;
  groupBy?: UsageGroup[];
}

/** Usage numbers that add up across rows. */
export interface UsageNumbers {
  requests: number;
  errors: number;
  serverErrors: number;
  calls: number;
  computeUnits: number;
  bytesIn: number;
  bytesOut: number;
  latencySumMs: number;
  latencyMaxMs: number;
  /** Cumulative counts per bound of latencyBoundsMs. */
  latencyBuckets: number[];
}

/** The numbers that count requests, calls and bytes: all but the latency ones. */
export type UsageCounts = Omit<UsageNumbers, "latencySumMs" | "latencyMaxMs" | "latencyBuckets">;

export interface UsageRow extends UsageNumbers {
  /** Bucket start; null without a step. */
  bucket: Date | null;
  apiKeyId: string | null;
  chainId: string | null;
  method: string | null;
}

const groupColumns: Record<UsageGroup, keyof typeof rawDimensions> = {
  apiKeyId: "api_key_id",
  chainId: "chain_id",
  method: "method",
};

/**
 * Reads usage for a range: whole days from the daily rollup, whole hours around them from the
 * hourly one, edge minutes from the minute rollup, and raw relay rows only past the rollup
 * frontier (the open minute or two). `frontier` is read from the job's state when not given.
 */
export async function readUsage(
  db: Database,
  query: UsageQuery,
  frontier?: Date | null,
): Promise<UsageRow[]> {
  const folded = frontier === undefined ? await readRolledThrough(db) : frontier;
  const statement = usageStatement(query, folded);
  if (statement === null) {
    return [];
  }
  const rows = await queryRows<Record<string, unknown>>(db, statement);
  return rows.map(toUsageRow);
}

/**
 * The one statement readUsage runs for a query and a rollup frontier (null when the range is
 * empty); exported so tests can EXPLAIN exactly what the dashboard runs.
 */
export function usageStatement(query: UsageQuery, frontier: Date | null): SQL | null {
  const step = query.step ?? null;
  const groups = (query.groupBy ?? []).map((group) => groupColumns[group]);
  const plan = planSources(query.from, query.to, frontier, step);
  const parts: SQL[] = [];
  for (const [table, ranges] of [
    ["usage_rollups_day", plan.day],
    ["usage_rollups_hour", plan.hour],
    ["usage_rollups_minute", plan.minute],
  ] as const) {
    if (ranges.length > 0) {
      parts.push(rollupSelect(table, ranges, query, step, groups));
    }
  }
  if (plan.raw) {
    parts.push(rawSelect(plan.raw, query, step, groups));
  }
  if (parts.length === 0) {
    return null;
  }
  const outerGroups = ["bucket", ...groups].join(", ");
  return sql`select ${sql.raw(outerGroups)}, ${sql.raw(measureColumns("merge"))}
    from (${sql.join(parts, sql` union all `)}) as parts
    group by ${sql.raw(outerGroups)}
    order by ${sql.raw(outerGroups)}`;
}

function bucketColumn(step: BucketStep | null, timeColumn: string): string {
  return step === null ? "null::timestamptz as bucket" : `${bucketOf(step, timeColumn)} as bucket`;
}

function groupBySql(groups: string[]): SQL {
  return sql.raw(groups.map((_, index) => String(index + 1)).join(", "));
}

function rollupSelect(
  table: "usage_rollups_day" | "usage_rollups_hour" | "usage_rollups_minute",
  ranges: TimeRange[],
  query: UsageQuery,
  step: BucketStep | null,
  groups: string[],
): SQL {
  const inRange = sql.join(
    ranges.map(
      (part) =>
        sql`(bucket_start >= ${part.from.toISOString()}::timestamptz
             and bucket_start < ${part.to.toISOString()}::timestamptz)`,
    ),
    sql` or `,
  );
  const selected = [bucketColumn(step, "bucket_start"), ...groups];
  return sql`select ${sql.raw(selected.join(", "))}, ${sql.raw(measureColumns("rollup"))}
    from ${sql.raw(table)}
    where project_id = ${query.filter.projectId} and (${inRange}) ${dimensionFilters(query.filter)}
    group by ${groupBySql(selected)}`;
}

function rawSelect(
  part: TimeRange,
  query: UsageQuery,
  step: BucketStep | null,
  groups: string[],
): SQL {
  const selected = [
    bucketColumn(step, "created_at"),
    ...groups.map((group) => `${rawDimensions[group as keyof typeof rawDimensions]} as ${group}`),
  ];
  return sql`select ${sql.raw(selected.join(", "))}, ${sql.raw(measureColumns("raw"))}
    from relay_logs
    where project_id = ${query.filter.projectId}
      and created_at >= ${part.from.toISOString()}::timestamptz
      and created_at < ${part.to.toISOString()}::timestamptz
      ${dimensionFilters(query.filter)}
    group by ${groupBySql(selected)}`;
}

/** Narrows any source to one key, chain or method (the columns have the same names in all). */
function dimensionFilters(filter: UsageFilter): SQL {
  const parts: SQL[] = [];
  if (filter.apiKeyId) {
    parts.push(sql` and api_key_id = ${filter.apiKeyId}`);
  }
  if (filter.chainId) {
    parts.push(sql` and chain_id = ${filter.chainId}`);
  }
  if (filter.method) {
    parts.push(sql` and method = ${filter.method}`);
  }
  return sql.join(parts);
}

function toUsageRow(row: Record<string, unknown>): UsageRow {
  return {
    bucket: row.bucket === null || row.bucket === undefined ? null : asDate(row.bucket),
    apiKeyId: typeof row.api_key_id === "string" ? row.api_key_id : null,
    chainId: typeof row.chain_id === "string" ? row.chain_id : null,
    method: typeof row.method === "string" ? row.method : null,
    ...usageSumsOf(row),
    latencyBuckets: bucketMeasures.map((measure) => asNumber(row[measure.name])),
  };
}

/**
 * The usage numbers of a row with rollup column names (snake_case), but for the latency
 * histogram, which a query reads as one column per bound and a rollup table keeps as an array.
 */
export function usageSumsOf(row: Record<string, unknown>): Omit<UsageNumbers, "latencyBuckets"> {
  return {
    requests: asNumber(row.requests),
    errors: asNumber(row.errors),
    serverErrors: asNumber(row.server_errors),
    calls: asNumber(row.calls),
    computeUnits: asNumber(row.compute_units),
    bytesIn: asNumber(row.bytes_in),
    bytesOut: asNumber(row.bytes_out),
    latencySumMs: asNumber(row.latency_sum_ms),
    latencyMaxMs: asNumber(row.latency_max_ms),
  };
}

/** Usage numbers with nothing counted. */
export function emptyUsage(): UsageNumbers {
  return {
    ...emptyCounts(),
    latencySumMs: 0,
    latencyMaxMs: 0,
    latencyBuckets: latencyBoundsMs.map(() => 0),
  };
}

/** Request, call and byte counts with nothing counted. */
export function emptyCounts(): UsageCounts {
  return {
    requests: 0,
    errors: 0,
    serverErrors: 0,
    calls: 0,
    computeUnits: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
}

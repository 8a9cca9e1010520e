import { latencyBoundsMs } from "./latency-histogram.ts";
import type { BucketStep } from "./time-buckets.ts";

/**
 * The SQL that turns relay rows into usage numbers, in one place so the rollup job and the
 * dashboard's read of the open minute count exactly the same way. Everything here is built from
 * constants; values always travel as bound parameters.
 */

/** Buckets are aligned on this instant, so days start at midnight UTC whatever the session's zone. */
const bucketOrigin = "'2000-01-01T00:00:00Z'::timestamptz";

/** The start of the `step` bucket holding the timestamp column `column`. */
export function bucketOf(step: BucketStep, column: string): string {
  return `date_bin('1 ${step}'::interval, ${column}, ${bucketOrigin})`;
}

/** The rollup key of a raw row; rows without a key or chain get fixed stand-ins. */
export const rawDimensions = {
  project_id: "project_id",
  api_key_id: "coalesce(api_key_id, '00000000-0000-0000-0000-000000000000'::uuid)",
  chain_id: "coalesce(chain_id, '')",
  method: "coalesce(method, '')",
} as const;

export type Dimension = keyof typeof rawDimensions;

interface Measure {
  name: string;
  /** Over raw relay_logs rows. */
  raw: string;
  /** Over rollup rows (minute or hour). */
  rollup: string;
  /** Combining already aggregated rows of the two kinds above. */
  merge: string;
}

const summed = (name: string, raw: string): Measure => ({
  name,
  raw: `coalesce(${raw}, 0)`,
  rollup: `coalesce(sum(${name}), 0)`,
  merge: `coalesce(sum(${name}), 0)`,
});

/** The scalar measures, in the order the rollup tables hold them. */
export const scalarMeasures: readonly Measure[] = [
  summed("requests", "count(*)"),
  summed("errors", "count(*) filter (where status <> 'ok')"),
  summed("server_errors", "count(*) filter (where status <> 'ok' and http_status >= 500)"),
  summed("calls", "sum(batch_size)"),
  summed("compute_units", "sum(compute_units) filter (where status = 'ok')"),
  summed("bytes_in", "sum(bytes_in)"),
  summed("bytes_out", "sum(bytes_out)"),
  summed("latency_sum_ms", "sum(latency_ms)"),
  {
    name: "latency_max_ms",
    raw: "coalesce(max(latency_ms), 0)",
    rollup: "coalesce(max(latency_max_ms), 0)",
    merge: "coalesce(max(latency_max_ms), 0)",
  },
];

/** One column per histogram bound: `lb0`, `lb1`... (cumulative counts). */
export const bucketMeasures: readonly Measure[] = latencyBoundsMs.map((bound, index) => ({
  name: `lb${index}`,
  raw: `count(*) filter (where latency_ms <= ${bound})`,
  rollup: `coalesce(sum(latency_buckets[${index + 1}]), 0)`,
  merge: `coalesce(sum(lb${index}), 0)`,
}));

/** The histogram columns of a select packed into the rollups' integer array. */
export function packedBuckets(kind: "raw" | "rollup"): string {
  return `array[${bucketMeasures.map((measure) => measure[kind]).join(", ")}]::integer[]`;
}

/** `expr as name` for every measure, scalars then histogram columns. */
export function measureColumns(kind: "raw" | "rollup" | "merge"): string {
  return [...scalarMeasures, ...bucketMeasures]
    .map((measure) => `${measure[kind]} as ${measure.name}`)
    .join(",\n  ");
}

/** The column list of the rollup tables, in insert order. */
export const rollupColumnList = [
  "bucket_start",
  "project_id",
  "api_key_id",
  "chain_id",
  "method",
  ...scalarMeasures.map((measure) => measure.name),
  "latency_buckets",
].join(", ");

/** `set col = excluded.col` for every measure: a recomputed bucket replaces what was there. */
export const rollupUpdateSet = [...scalarMeasures.map((measure) => measure.name), "latency_buckets"]
  .map((name) => `${name} = excluded.${name}`)
  .join(", ");

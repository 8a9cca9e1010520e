import { bigint, integer, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * The columns the minute and hour rollups share: one row per bucket, project, key, chain and
 * method. Counts add up across rows, so any coarser view (a project's day, a key's month) is a
 * sum over rows; see db/src/analytics/rollup-sql.ts for how they are computed.
 */
export const usageRollupColumns = () => ({
  bucketStart: timestamp("bucket_start", { withTimezone: true, mode: "date" }).notNull(),
  projectId: uuid("project_id").notNull(),
  apiKeyId: uuid("api_key_id").notNull(),
  // "" when the request ended before its chain or method was known (a refused body).
  chainId: text("chain_id").notNull(),
  method: text("method").notNull(),
  requests: bigint("requests", { mode: "number" }).notNull(),
  // Requests whose status is not "ok": refusals and failures alike.
  errors: bigint("errors", { mode: "number" }).notNull(),
  // The part of `errors` answered with a 5xx: the portal's or the network's fault, not the dApp's.
  serverErrors: bigint("server_errors", { mode: "number" }).notNull(),
  // JSON-RPC calls, counting each item of a batch.
  calls: bigint("calls", { mode: "number" }).notNull(),
  // Compute units of the requests that were served ("ok"): what the project is billed.
  computeUnits: bigint("compute_units", { mode: "number" }).notNull(),
  bytesIn: bigint("bytes_in", { mode: "number" }).notNull(),
  bytesOut: bigint("bytes_out", { mode: "number" }).notNull(),
  latencySumMs: bigint("latency_sum_ms", { mode: "number" }).notNull(),
  latencyMaxMs: integer("latency_max_ms").notNull(),
  // Cumulative: element i counts the requests with latency <= latencyBoundsMs[i]. Sums of these
  // arrays stay exact, which per-bucket percentiles would not (see docs/analytics.md).
  latencyBuckets: integer("latency_buckets").array().notNull(),
});

import { index, pgTable, primaryKey } from "drizzle-orm/pg-core";
import { usageRollupColumns } from "./usage-rollup-columns.ts";

/**
 * Usage per minute, kept by the rollup job for closed minutes. The dashboard reads it for ranges
 * up to a day at minute steps and for the partial hour before the hourly rollup covers it.
 */
export const usageRollupsMinute = pgTable("usage_rollups_minute", usageRollupColumns(), (t) => [
  // Every dashboard query names one project and a time range; the rest of the key makes upserts
  // of a recomputed bucket find their row.
  primaryKey({
    name: "usage_rollups_minute_pk",
    columns: [t.projectId, t.bucketStart, t.apiKeyId, t.chainId, t.method],
  }),
  // The retention job deletes by time alone.
  index("usage_rollups_minute_bucket_idx").on(t.bucketStart),
]);

export type UsageRollupMinute = typeof usageRollupsMinute.$inferSelect;

import { index, pgTable, primaryKey } from "drizzle-orm/pg-core";
import { usageRollupColumns } from "./usage-rollup-columns.ts";

/**
 * Usage per hour, summed from the minute rollups. Hourly charts and the hours at the edges of
 * longer ranges read it, so no dashboard query scans raw relay rows for more than the open minute.
 */
export const usageRollupsHour = pgTable("usage_rollups_hour", usageRollupColumns(), (t) => [
  // Every dashboard query names one project and a time range.
  primaryKey({
    name: "usage_rollups_hour_pk",
    columns: [t.projectId, t.bucketStart, t.apiKeyId, t.chainId, t.method],
  }),
  // The retention job deletes by time alone.
  index("usage_rollups_hour_bucket_idx").on(t.bucketStart),
]);

export type UsageRollupHour = typeof usageRollupsHour.$inferSelect;

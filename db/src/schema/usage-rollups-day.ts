import { index, pgTable, primaryKey } from "drizzle-orm/pg-core";
import { usageRollupColumns } from "./usage-rollup-columns.ts";

/**
 * Usage per UTC day, summed from the hourly rollup. Ranges of whole days (summaries, top methods,
 * breakdowns, billing months, daily charts) read it: 24 times fewer rows than hours.
 */
export const usageRollupsDay = pgTable("usage_rollups_day", usageRollupColumns(), (t) => [
  // Every dashboard query names one project and a time range.
  primaryKey({
    name: "usage_rollups_day_pk",
    columns: [t.projectId, t.bucketStart, t.apiKeyId, t.chainId, t.method],
  }),
  // The retention job deletes by time alone.
  index("usage_rollups_day_bucket_idx").on(t.bucketStart),
]);

export type UsageRollupDay = typeof usageRollupsDay.$inferSelect;

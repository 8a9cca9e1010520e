import { pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Minutes that got relay rows since the rollup job last looked, written in the same transaction
 * as the rows. The job recomputes the marked minutes once they are closed, so rows that arrive
 * late (a relay's spool written after a database outage) still reach the rollups.
 */
export const usageRollupMarks = pgTable(
  "usage_rollup_marks",
  {
    bucketStart: timestamp("bucket_start", { withTimezone: true, mode: "date" }).notNull(),
    // One mark per writer, so relay instances never wait on each other's row lock.
    writer: text("writer").notNull(),
    markedAt: timestamp("marked_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.bucketStart, t.writer] })],
);

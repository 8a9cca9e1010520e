import { pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { updatedAt } from "./columns.ts";

/**
 * How far the rollup job got. Minutes before `rolledThrough` are in the rollups (late rows
 * follow through usage_rollup_marks); the dashboard reads raw rows only from there on.
 */
export const usageRollupState = pgTable("usage_rollup_state", {
  // One row per job; "usage" is the only one today.
  name: text("name").primaryKey(),
  rolledThrough: timestamp("rolled_through", { withTimezone: true, mode: "date" }).notNull(),
  updatedAt: updatedAt(),
});

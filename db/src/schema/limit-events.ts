import { index, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { createdAt, id } from "./columns.ts";

/**
 * A rate limit bucket reaching 80% or 100% of its limit, recorded at most once per bucket,
 * threshold and window; the dashboard and notifications read it. No foreign keys, as in
 * relay_logs: the relay must not fail on a key or project deleted a moment ago.
 */
export const limitEvents = pgTable(
  "limit_events",
  {
    id: id(),
    createdAt: createdAt(),
    projectId: uuid("project_id").notNull(),
    // Null for a project bucket: the project's limit is shared by all its keys.
    apiKeyId: uuid("api_key_id"),
    // "key", "project" or "method".
    bucketKind: text("bucket_kind").notNull(),
    // Set for method buckets only.
    method: text("method"),
    // 80 or 100 (percent of the limit).
    threshold: integer("threshold").notNull(),
    windowStart: timestamp("window_start", { withTimezone: true, mode: "date" }).notNull(),
  },
  // The dashboard lists a project's latest events.
  (t) => [index("limit_events_project_time_idx").on(t.projectId, t.createdAt)],
);

export type LimitEvent = typeof limitEvents.$inferSelect;
export type NewLimitEvent = typeof limitEvents.$inferInsert;

import { index, integer, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * One row per relayed request. No foreign keys: usage must outlive the keys and projects it
 * names, and the writer must not fail on a row whose project was deleted a moment ago.
 */
export const relayLogs = pgTable(
  "relay_logs",
  {
    // Made by the relay, so a batch retried after a lost answer inserts nothing twice.
    id: uuid("id").notNull(),
    // Part of the key because the table is partitioned by day (db/src/analytics/partitions.ts).
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull(),
    requestId: text("request_id").notNull(),
    projectId: uuid("project_id"),
    apiKeyId: uuid("api_key_id"),
    chainId: text("chain_id"),
    zone: text("zone"),
    method: text("method"),
    batchSize: integer("batch_size").notNull().default(1),
    // "ok", or the portal's error name for requests it refused or could not serve.
    status: text("status").notNull(),
    httpStatus: integer("http_status").notNull(),
    errorCode: integer("error_code"),
    latencyMs: integer("latency_ms").notNull(),
    servicer: text("servicer"),
    bytesIn: integer("bytes_in").notNull().default(0),
    bytesOut: integer("bytes_out").notNull().default(0),
    // What the request cost in compute units (the rate limiter's price); billing sums "ok" rows.
    computeUnits: integer("compute_units").notNull().default(0),
    origin: text("origin"),
  },
  (t) => [
    primaryKey({ columns: [t.id, t.createdAt] }),
    // Usage pages read one project's rows over a time range.
    index("relay_logs_project_time_idx").on(t.projectId, t.createdAt),
    // The rollup job reads closed minutes of every project by time.
    index("relay_logs_created_at_idx").on(t.createdAt),
  ],
);

export type RelayLog = typeof relayLogs.$inferSelect;
export type NewRelayLog = typeof relayLogs.$inferInsert;

import { index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { createdAt } from "./columns.ts";
import { users } from "./users.ts";

/** Dashboard sessions, in the shape Lucia's adapter reads (text id, user_id, expires_at). */
export const authSessions = pgTable(
  "auth_sessions",
  {
    id: text("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    ip: text("ip"),
    userAgent: text("user_agent"),
    createdAt: createdAt(),
  },
  // "List my sessions" and "revoke my other sessions" select by user.
  (t) => [index("auth_sessions_user_idx").on(t.userId)],
);

export type AuthSession = typeof authSessions.$inferSelect;

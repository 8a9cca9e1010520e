import { index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { authSessions } from "./auth-sessions.ts";
import { createdAt, id } from "./columns.ts";
import { users } from "./users.ts";

/**
 * Refresh tokens of API clients. Each sign-in starts a family; every refresh uses one token and
 * adds its successor, so a token seen twice means it was copied and the whole family goes.
 */
export const refreshTokens = pgTable(
  "refresh_tokens",
  {
    id: id(),
    familyId: uuid("family_id").notNull(),
    // The family lives as long as its session: signing out or revoking the session removes it.
    sessionId: text("session_id")
      .notNull()
      .references(() => authSessions.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    // SHA-256 of the token, hex; the token itself is handed out once and never stored.
    tokenHash: text("token_hash").notNull().unique(),
    // The token this one replaced; a reused token's successor tells a race from a theft.
    parentId: uuid("parent_id"),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    // Set by the one conditional UPDATE that rotates the token; never cleared.
    usedAt: timestamp("used_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
  },
  // Theft detection revokes a family, and reuse checks look a successor up by its parent.
  (t) => [
    index("refresh_tokens_family_idx").on(t.familyId),
    index("refresh_tokens_parent_idx").on(t.parentId),
  ],
);

export type RefreshToken = typeof refreshTokens.$inferSelect;

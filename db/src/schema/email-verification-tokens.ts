import { index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { createdAt, id } from "./columns.ts";
import { users } from "./users.ts";

/**
 * Single-use links that prove a user reads an address: the one they registered with, or the one
 * they asked to change to (the account's email changes only when that link is used).
 */
export const emailVerificationTokens = pgTable(
  "email_verification_tokens",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    // The normalized address this token verifies.
    email: text("email").notNull(),
    // SHA-256 of the token, hex; the token travels only in the mail.
    tokenHash: text("token_hash").notNull().unique(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
  },
  // A new link or a verified address voids the user's other open links.
  (t) => [index("email_verification_tokens_user_idx").on(t.userId)],
);

export type EmailVerificationToken = typeof emailVerificationTokens.$inferSelect;

import { pgTable, text } from "drizzle-orm/pg-core";
import { createdAt, id, moment, updatedAt } from "./columns.ts";

export const platformRoles = ["user", "admin"] as const;
export type PlatformRole = (typeof platformRoles)[number];

export const users = pgTable("users", {
  id: id(),
  // Stored normalized (trimmed, lower case); null for accounts that only ever used a wallet.
  email: text("email").unique(),
  emailVerifiedAt: moment("email_verified_at"),
  name: text("name"),
  avatarUrl: text("avatar_url"),
  role: text("role", { enum: platformRoles }).notNull().default("user"),
  disabledAt: moment("disabled_at"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export type User = typeof users.$inferSelect;

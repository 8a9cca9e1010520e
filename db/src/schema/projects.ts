import { index, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, moment, updatedAt } from "./columns.ts";
import { users } from "./users.ts";

export const projects = pgTable(
  "projects",
  {
    id: id(),
    name: text("name").notNull(),
    ownerId: uuid("owner_id")
      .notNull()
      .references(() => users.id),
    tier: text("tier").notNull().default("free"),
    defaultZone: text("default_zone").notNull().default("0001"),
    allowedOrigins: text("allowed_origins").array().notNull().default([]),
    note: text("note"),
    // Soft delete: the usage history of a deleted project stays readable.
    deletedAt: moment("deleted_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("projects_owner_idx").on(t.ownerId)],
);

export type Project = typeof projects.$inferSelect;

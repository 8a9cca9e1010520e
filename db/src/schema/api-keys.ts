import { boolean, index, jsonb, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, moment } from "./columns.ts";
import { projects } from "./projects.ts";
import { users } from "./users.ts";

/** Per-key restrictions the relay enforces; an absent list means "no restriction". */
export interface ApiKeyRules {
  allowedChains?: string[];
  allowedMethods?: string[];
  blockedMethods?: string[];
  allowedOrigins?: string[];
  allowedIps?: string[];
  ratePerSecond?: number;
}

export const apiKeys = pgTable(
  "api_keys",
  {
    id: id(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    // SHA-256 of the whole key, hex. The raw key is shown once and never stored.
    keyHash: text("key_hash").notNull().unique(),
    // What the dashboard shows instead of the key: its readable prefix and last four characters.
    displayPrefix: text("display_prefix").notNull(),
    lastFour: text("last_four").notNull(),
    rules: jsonb("rules").$type<ApiKeyRules>().notNull().default({}),
    // Internal keys (monitoring, status checks) skip the rate limiter but are still logged.
    internal: boolean("internal").notNull().default(false),
    expiresAt: moment("expires_at"),
    revokedAt: moment("revoked_at"),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  (t) => [index("api_keys_project_idx").on(t.projectId)],
);

export type ApiKey = typeof apiKeys.$inferSelect;

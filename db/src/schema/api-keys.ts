import { and, eq, gt, or, type SQL } from "drizzle-orm";
import { boolean, index, jsonb, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, moment, updatedAt } from "./columns.ts";
import { projects } from "./projects.ts";
import { users } from "./users.ts";

/**
 * Per-key restrictions the relay enforces; an absent (or empty) list means "no restriction".
 * The server writes only valid entries (see docs/project-roles.md for the syntax); the relay
 * compiles them once per cached record (relay/src/key-rules.ts).
 */
export interface ApiKeyRules {
  /** Viper chain ids; the key works only on these (and only where the project has them). */
  allowedChains?: string[];
  /** JSON-RPC method names or `prefix_*` patterns; set this or blockedMethods, not both. */
  allowedMethods?: string[];
  blockedMethods?: string[];
  /** Exact origins (`https://app.example.com`) or wildcards (`https://*.example.com`). */
  allowedOrigins?: string[];
  /** IPv4 or IPv6 addresses and CIDR blocks. */
  allowedIps?: string[];
  /** Lowers the tier's per-key rate (compute units per second); never raises it. */
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
    // After a regeneration the replaced secret keeps working until previous_key_expires_at, so
    // a caller can roll it out without downtime. Unique: the relay looks keys up by it too.
    previousKeyHash: text("previous_key_hash").unique(),
    previousKeyExpiresAt: moment("previous_key_expires_at"),
    rules: jsonb("rules").$type<ApiKeyRules>().notNull().default({}),
    // Internal keys (monitoring, status checks) skip the rate limiter but are still logged.
    internal: boolean("internal").notNull().default(false),
    expiresAt: moment("expires_at"),
    revokedAt: moment("revoked_at"),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("api_keys_project_idx").on(t.projectId)],
);

export type ApiKey = typeof apiKeys.$inferSelect;

/**
 * The one definition of which api_keys row a presented key names: the row whose current hash it
 * is, or the row whose previous hash it is while that secret's grace period lasts. Revocation
 * and expiry are not checked here; the caller reads revoked_at and expires_at from the row.
 */
export function apiKeyHashMatches(keyHash: string, now: Date): SQL {
  const matches = or(
    eq(apiKeys.keyHash, keyHash),
    and(eq(apiKeys.previousKeyHash, keyHash), gt(apiKeys.previousKeyExpiresAt, now)),
  );
  if (!matches) {
    throw new Error("drizzle built no condition for a key hash");
  }
  return matches;
}

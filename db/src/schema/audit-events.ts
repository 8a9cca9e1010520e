import { index, jsonb, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { createdAt, id } from "./columns.ts";
import { users } from "./users.ts";

export const auditCategories = ["activity", "security"] as const;
export type AuditCategory = (typeof auditCategories)[number];

/**
 * The activity and security log: who did what to which thing, from where. No foreign key to
 * projects, so a project's history outlives it; see db/src/analytics/audit-log.ts for actions.
 */
export const auditEvents = pgTable(
  "audit_events",
  {
    id: id(),
    createdAt: createdAt(),
    // "activity" for what members do in a project; "security" for what platform admins watch.
    category: text("category", { enum: auditCategories }).notNull(),
    // Dotted and past tense: "key.created", "auth.sign_in_failed".
    action: text("action").notNull(),
    projectId: uuid("project_id"),
    actorUserId: uuid("actor_user_id").references(() => users.id, { onDelete: "set null" }),
    // What the action was done to: "api_key", "member", "project", "ip"...
    targetType: text("target_type"),
    targetId: text("target_id"),
    ip: text("ip"),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    // A project's activity page lists its newest events.
    index("audit_events_project_time_idx").on(t.projectId, t.createdAt),
    // Platform admins list the newest security events.
    index("audit_events_category_time_idx").on(t.category, t.createdAt),
  ],
);

export type AuditEvent = typeof auditEvents.$inferSelect;
export type NewAuditEvent = typeof auditEvents.$inferInsert;

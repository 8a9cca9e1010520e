import type { Logger } from "@viper/shared/logger";
import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import type { Database } from "../client.ts";
import { type AuditCategory, type AuditEvent, auditEvents } from "../schema/audit-events.ts";

/**
 * The actions the log knows, with the category each belongs to. Activity events belong to a
 * project and its admins read them; security events are for platform admins.
 */
export const auditActions = {
  "auth.signed_in": "security",
  "auth.sign_in_failed": "security",
  "key.created": "activity",
  "key.regenerated": "activity",
  "key.revoked": "activity",
  "member.role_changed": "activity",
  "member.added": "activity",
  "member.removed": "activity",
  "project.deleted": "activity",
  "project.ownership_transferred": "activity",
  "relay.refused_keys_from_ip": "security",
} as const satisfies Record<string, AuditCategory>;

export type AuditAction = keyof typeof auditActions;

export interface AuditEventInput {
  action: AuditAction;
  projectId?: string | null;
  actorUserId?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  ip?: string | null;
  /** Facts about the event; never a secret (keys, tokens, passwords). */
  details?: Record<string, unknown>;
}

/**
 * Writes one event. Pass a transaction as `db` to record it with the change it describes, so
 * the log never shows a change that was rolled back.
 */
export async function recordAuditEvent(db: Database, event: AuditEventInput): Promise<void> {
  await db.insert(auditEvents).values({
    category: auditActions[event.action],
    action: event.action,
    projectId: event.projectId ?? null,
    actorUserId: event.actorUserId ?? null,
    targetType: event.targetType ?? null,
    targetId: event.targetId ?? null,
    ip: event.ip ?? null,
    details: event.details ?? {},
  });
}

/**
 * Writes an event outside the caller's transaction and never throws: for events about a request
 * that itself fails (a refused sign-in), where a lost log line must not change the answer.
 */
export async function recordAuditEventSafely(
  db: Database,
  event: AuditEventInput,
  logger: Logger,
): Promise<void> {
  try {
    await recordAuditEvent(db, event);
  } catch (error) {
    logger.error({ err: error, action: event.action }, "audit event not recorded");
  }
}

export interface AuditPage {
  /** Only events before this instant (the `createdAt` of the last event of the previous page). */
  before?: Date | null;
  /** At most this many events, newest first. */
  limit: number;
}

/** A project's events, newest first. */
export function listProjectAuditEvents(
  db: Database,
  projectId: string,
  page: AuditPage,
): Promise<AuditEvent[]> {
  return listEvents(db, eq(auditEvents.projectId, projectId), page);
}

/** Security events across the platform, newest first; optionally of one action. */
export function listSecurityEvents(
  db: Database,
  page: AuditPage & { action?: AuditAction | null },
): Promise<AuditEvent[]> {
  const category = eq(auditEvents.category, "security");
  const where = page.action ? and(category, eq(auditEvents.action, page.action)) : category;
  return listEvents(db, where, page);
}

function listEvents(db: Database, where: SQL | undefined, page: AuditPage): Promise<AuditEvent[]> {
  const before = page.before ? lt(auditEvents.createdAt, page.before) : undefined;
  return db
    .select()
    .from(auditEvents)
    .where(and(where, before))
    .orderBy(desc(auditEvents.createdAt), desc(auditEvents.id))
    .limit(page.limit);
}

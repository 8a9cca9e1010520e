import {
  type AuditAction,
  auditActions,
  listProjectAuditEvents,
  listSecurityEvents,
} from "@viper/db/analytics/audit-log";
import type { Database } from "@viper/db/client";
import type { AuditEvent } from "@viper/db/schema/audit-events";
import { users } from "@viper/db/schema/users";
import { inArray } from "drizzle-orm";
import { z } from "zod";
import { instantSchema } from "../instant-input.ts";
import { projectProcedure } from "../project-access.ts";
import { adminProcedure, router } from "../trpc.ts";

const pageInput = z.object({
  /** The `at` of the last event already shown; the next page starts before it. */
  before: instantSchema.optional(),
  limit: z.number().int().min(1).max(200).default(50),
});

const securityActions = Object.entries(auditActions)
  .filter(([, category]) => category === "security")
  .map(([action]) => action as AuditAction);

/** Events as the API sends them, with the actor's email where the actor still exists. */
async function eventViews(db: Database, events: AuditEvent[]) {
  const actorIds = [...new Set(events.flatMap((event) => event.actorUserId ?? []))];
  const actors =
    actorIds.length === 0
      ? []
      : await db
          .select({ id: users.id, email: users.email })
          .from(users)
          .where(inArray(users.id, actorIds));
  const emails = new Map(actors.map((actor) => [actor.id, actor.email]));
  return events.map((event) => ({
    id: event.id,
    at: event.createdAt.toISOString(),
    category: event.category,
    action: event.action,
    projectId: event.projectId,
    actor: event.actorUserId
      ? { id: event.actorUserId, email: emails.get(event.actorUserId) ?? null }
      : null,
    target: event.targetType ? { type: event.targetType, id: event.targetId } : null,
    ip: event.ip,
    details: event.details,
  }));
}

/**
 * The activity and security log. A project's admins and owner read its activity (keys, members,
 * deletion); platform admins read security events (sign-ins, refused keys from one address).
 */
export const auditRouter = router({
  /** A project's events, newest first. */
  projectLog: projectProcedure("admin")
    .input(pageInput)
    .query(async ({ ctx, input }) => {
      const events = await listProjectAuditEvents(ctx.db, ctx.project.id, input);
      return eventViews(ctx.db, events);
    }),

  /** Security events across the platform, newest first; optionally one action. */
  securityEvents: adminProcedure
    .input(pageInput.extend({ action: z.enum(securityActions).optional() }))
    .query(async ({ ctx, input }) => {
      const events = await listSecurityEvents(ctx.db, input);
      return eventViews(ctx.db, events);
    }),
});

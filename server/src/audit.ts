import {
  type AuditAction,
  recordAuditEvent,
  recordAuditEventSafely,
} from "@viper/db/analytics/audit-log";
import type { Context } from "./context.ts";

export interface AuditTarget {
  type: string;
  id: string;
}

/**
 * Records what a signed-in user did in a project: the actor, project and address come from the
 * request's context. Throws when the row cannot be written, like the change it follows would.
 */
export async function auditProjectChange(
  ctx: Context & { project: { id: string } },
  action: AuditAction,
  target: AuditTarget,
  details: Record<string, unknown> = {},
): Promise<void> {
  await recordAuditEvent(ctx.db, {
    action,
    projectId: ctx.project.id,
    actorUserId: ctx.user?.id ?? null,
    targetType: target.type,
    targetId: target.id,
    ip: ctx.ip,
    details,
  });
}

/**
 * Records a sign-in or a refused one, and counts it for /metrics. Never throws: the sign-in's
 * answer must not depend on the log.
 */
export async function auditSignIn(
  ctx: Context,
  outcome: { method: string; userId: string | null; succeeded: boolean; details?: object },
): Promise<void> {
  ctx.services.metrics.countSignIn(outcome.method, outcome.succeeded ? "success" : "failure");
  await recordAuditEventSafely(
    ctx.db,
    {
      action: outcome.succeeded ? "auth.signed_in" : "auth.sign_in_failed",
      actorUserId: outcome.userId,
      targetType: outcome.userId ? "user" : null,
      targetId: outcome.userId,
      ip: ctx.ip,
      details: { method: outcome.method, ...outcome.details },
    },
    ctx.logger,
  );
}

import { projectInvites } from "@viper/db/schema/project-invites";
import { type ProjectRole, projectMembers } from "@viper/db/schema/project-members";
import { users } from "@viper/db/schema/users";
import { and, asc, eq, gt, isNull } from "drizzle-orm";
import { z } from "zod";
import { auditProjectChange } from "../audit.ts";
import { emailSchema } from "../auth/email.ts";
import { AppError } from "../errors.ts";
import { projectProcedure, projectRoleRank } from "../project-access.ts";
import {
  acceptInvite,
  createInvite,
  findOpenInvite,
  invitableRoles,
  inviteMail,
  toInviteView,
} from "../projects/invites.ts";
import { enforceRateLimit } from "../rate-limit.ts";
import { type AuthedContext, authedProcedure, router, verifiedProcedure } from "../trpc.ts";

/** Invitations (each one a mail) one user may send per hour. */
const invitesPerHour = 50;

type ProjectContext = AuthedContext & { project: { id: string; role: ProjectRole } };

/** The target's role; NOT_FOUND when they are not a member. */
async function memberRole(ctx: ProjectContext, userId: string): Promise<ProjectRole> {
  const [member] = await ctx.db
    .select({ role: projectMembers.role })
    .from(projectMembers)
    .where(and(eq(projectMembers.projectId, ctx.project.id), eq(projectMembers.userId, userId)));
  if (!member) {
    throw new AppError("NOT_FOUND", { message: "No such member." });
  }
  return member.role;
}

/** Nobody changes or removes the owner; the owner hands the project over first. */
function assertNotOwner(ctx: ProjectContext, userId: string, role: ProjectRole): void {
  if (role !== "owner") {
    return;
  }
  throw userId === ctx.user.id
    ? new AppError("OWNER_MUST_TRANSFER")
    : new AppError("PROJECT_ROLE_REQUIRED");
}

const tokenInput = z.object({ token: z.string().min(16).max(200) });

/**
 * A project's team: members, invitations, roles. Admins manage members below the owner; anyone
 * but the owner may leave. docs/project-roles.md has the whole table.
 */
export const membersRouter = router({
  /** Members, highest role first. */
  list: projectProcedure("viewer").query(async ({ ctx }) => {
    const rows = await ctx.db
      .select({
        userId: projectMembers.userId,
        role: projectMembers.role,
        email: users.email,
        name: users.name,
        joinedAt: projectMembers.createdAt,
      })
      .from(projectMembers)
      .innerJoin(users, eq(users.id, projectMembers.userId))
      .where(eq(projectMembers.projectId, ctx.project.id))
      .orderBy(asc(projectMembers.createdAt));
    return rows
      .map((row) => ({ ...row, joinedAt: row.joinedAt.toISOString() }))
      .sort((a, b) => projectRoleRank[b.role] - projectRoleRank[a.role]);
  }),

  /** Invitations neither accepted nor expired. */
  listInvites: projectProcedure("admin").query(async ({ ctx }) => {
    const rows = await ctx.db
      .select()
      .from(projectInvites)
      .where(
        and(
          eq(projectInvites.projectId, ctx.project.id),
          isNull(projectInvites.acceptedAt),
          gt(projectInvites.expiresAt, new Date()),
        ),
      )
      .orderBy(asc(projectInvites.createdAt));
    return rows.map(toInviteView);
  }),

  /** Mails an invitation link to an address; a new one replaces an open one to the same address. */
  invite: projectProcedure("admin")
    .input(z.object({ email: emailSchema, role: z.enum(invitableRoles) }))
    .mutation(async ({ ctx, input }) => {
      await enforceRateLimit(ctx.store, `project-invite:${ctx.user.id}`, invitesPerHour, 3600_000);

      const { invite, token, projectName } = await createInvite(ctx.db, {
        projectId: ctx.project.id,
        email: input.email,
        role: input.role,
        invitedBy: ctx.user.id,
      });

      const link = `${ctx.services.settings.dashboardUrl}/invites/accept?token=${encodeURIComponent(token)}`;
      const inviter = ctx.user.name ?? ctx.user.email ?? "A Viper Portal user";
      await ctx.services.mail.send(
        inviteMail({ to: input.email, projectName, role: input.role, inviter, link }),
      );
      ctx.logger.info(
        { projectId: ctx.project.id, inviteId: invite.id, role: input.role },
        "project invite sent",
      );
      return toInviteView(invite);
    }),

  /** Withdraws an open invitation; its link stops working. */
  revokeInvite: projectProcedure("admin")
    .input(z.object({ inviteId: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      const removed = await ctx.db
        .delete(projectInvites)
        .where(
          and(
            eq(projectInvites.id, input.inviteId),
            eq(projectInvites.projectId, ctx.project.id),
            isNull(projectInvites.acceptedAt),
          ),
        )
        .returning({ id: projectInvites.id });
      if (removed.length === 0) {
        throw new AppError("NOT_FOUND", { message: "No such invitation." });
      }
      return { revoked: true as const };
    }),

  /** What an invitation link offers, for the accept page; INVITE_INVALID when it is not open. */
  previewInvite: authedProcedure.input(tokenInput).query(async ({ ctx, input }) => {
    const row = await findOpenInvite(ctx.db, input.token);
    return {
      projectName: row.projectName,
      role: row.invite.role,
      email: row.invite.email,
      invitedBy: row.inviterName ?? row.inviterEmail,
      expiresAt: row.invite.expiresAt.toISOString(),
      forThisAccount: row.invite.email === ctx.user.email,
    };
  }),

  /** Joins the project; the caller must be signed in with the invited, verified address. */
  acceptInvite: verifiedProcedure.input(tokenInput).mutation(async ({ ctx, input }) => {
    const joined = await acceptInvite(ctx.db, input.token, ctx.user);

    ctx.logger.info({ projectId: joined.projectId, role: joined.role }, "project invite accepted");
    const project = { ...ctx, project: { id: joined.projectId } };
    const member = { type: "user", id: ctx.user.id };
    await auditProjectChange(project, "member.added", member, { role: joined.role });
    return joined;
  }),

  /** Gives a member another role below owner; the owner's role changes only by transfer. */
  changeRole: projectProcedure("admin")
    .input(z.object({ userId: z.uuid(), role: z.enum(invitableRoles) }))
    .mutation(async ({ ctx, input }) => {
      assertNotOwner(ctx, input.userId, await memberRole(ctx, input.userId));

      await ctx.db
        .update(projectMembers)
        .set({ role: input.role })
        .where(
          and(
            eq(projectMembers.projectId, ctx.project.id),
            eq(projectMembers.userId, input.userId),
          ),
        );

      ctx.logger.info(
        { projectId: ctx.project.id, memberId: input.userId, role: input.role },
        "project role changed",
      );
      const member = { type: "user", id: input.userId };
      await auditProjectChange(ctx, "member.role_changed", member, { role: input.role });
      return { userId: input.userId, role: input.role };
    }),

  /** Removes a member (not the owner). */
  remove: projectProcedure("admin")
    .input(z.object({ userId: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      assertNotOwner(ctx, input.userId, await memberRole(ctx, input.userId));

      await ctx.db
        .delete(projectMembers)
        .where(
          and(
            eq(projectMembers.projectId, ctx.project.id),
            eq(projectMembers.userId, input.userId),
          ),
        );

      ctx.logger.info(
        { projectId: ctx.project.id, memberId: input.userId },
        "project member removed",
      );
      await auditProjectChange(ctx, "member.removed", { type: "user", id: input.userId });
      return { removed: true as const };
    }),

  /** Leaves the project; the owner transfers ownership first. */
  leave: projectProcedure("viewer").mutation(async ({ ctx }) => {
    assertNotOwner(ctx, ctx.user.id, ctx.project.role);

    await ctx.db
      .delete(projectMembers)
      .where(
        and(eq(projectMembers.projectId, ctx.project.id), eq(projectMembers.userId, ctx.user.id)),
      );

    ctx.logger.info({ projectId: ctx.project.id }, "project left");
    return { left: true as const };
  }),
});

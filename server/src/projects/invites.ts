import type { Database } from "@viper/db/client";
import { type ProjectInvite, projectInvites } from "@viper/db/schema/project-invites";
import { type ProjectRole, projectMembers } from "@viper/db/schema/project-members";
import { projects } from "@viper/db/schema/projects";
import { users } from "@viper/db/schema/users";
import { and, eq, gt, isNull } from "drizzle-orm";
import { randomToken, sha256Hex } from "../auth/secrets.ts";
import { AppError } from "../errors.ts";
import type { Mail } from "../mail/mail-sender.ts";
import { seatsTaken } from "./project-records.ts";
import { allowanceOf } from "./tiers.ts";

/** How long an invitation link works. */
export const inviteTtlSeconds = 7 * 24 * 3600;

/** The roles an invitation may grant: ownership moves only by transfer. */
export const invitableRoles = ["admin", "developer", "viewer"] as const;
export type InvitableRole = (typeof invitableRoles)[number];

/** An open invitation as admins see it; the token is never shown again. */
export interface InviteView {
  id: string;
  email: string;
  role: ProjectRole;
  invitedBy: string | null;
  expiresAt: string;
  createdAt: string;
}

export function toInviteView(invite: ProjectInvite): InviteView {
  return {
    id: invite.id,
    email: invite.email,
    role: invite.role,
    invitedBy: invite.invitedBy,
    expiresAt: invite.expiresAt.toISOString(),
    createdAt: invite.createdAt.toISOString(),
  };
}

export interface NewInviteInput {
  projectId: string;
  email: string;
  role: InvitableRole;
  invitedBy: string;
}

/**
 * Records an invitation and returns it with its token (for the mail only; the table keeps the
 * hash). An open invitation to the same address is replaced. Refuses a member's address and a
 * project whose tier has no seat left; the project row is locked while seats are counted.
 */
export async function createInvite(
  db: Database,
  input: NewInviteInput,
): Promise<{ invite: ProjectInvite; token: string; projectName: string }> {
  const token = randomToken();
  return db.transaction(async (tx) => {
    const [project] = await tx
      .select({ name: projects.name, tier: projects.tier })
      .from(projects)
      .where(eq(projects.id, input.projectId))
      .for("update");
    if (!project) {
      throw new AppError("NOT_FOUND", { message: "No such project." });
    }
    const [member] = await tx
      .select({ userId: projectMembers.userId })
      .from(projectMembers)
      .innerJoin(users, eq(users.id, projectMembers.userId))
      .where(and(eq(projectMembers.projectId, input.projectId), eq(users.email, input.email)));
    if (member) {
      throw new AppError("ALREADY_MEMBER");
    }
    await tx
      .delete(projectInvites)
      .where(
        and(
          eq(projectInvites.projectId, input.projectId),
          eq(projectInvites.email, input.email),
          isNull(projectInvites.acceptedAt),
        ),
      );
    const maxMembers = allowanceOf(project.tier).maxMembers;
    if ((await seatsTaken(tx, input.projectId)) >= maxMembers) {
      throw new AppError("LIMIT_REACHED", {
        message: `The ${project.tier} tier allows ${maxMembers} members and open invitations.`,
      });
    }
    const [invite] = await tx
      .insert(projectInvites)
      .values({
        projectId: input.projectId,
        email: input.email,
        role: input.role,
        tokenHash: sha256Hex(token),
        invitedBy: input.invitedBy,
        expiresAt: new Date(Date.now() + inviteTtlSeconds * 1000),
      })
      .returning();
    if (!invite) {
      throw new Error("invite insert returned no row");
    }
    return { invite, token, projectName: project.name };
  });
}

/** An open invitation by its token, with its project; INVITE_INVALID when there is none. */
export async function findOpenInvite(db: Pick<Database, "select">, token: string) {
  const [row] = await db
    .select({
      invite: projectInvites,
      projectName: projects.name,
      inviterName: users.name,
      inviterEmail: users.email,
    })
    .from(projectInvites)
    .innerJoin(projects, eq(projects.id, projectInvites.projectId))
    .leftJoin(users, eq(users.id, projectInvites.invitedBy))
    .where(
      and(
        eq(projectInvites.tokenHash, sha256Hex(token)),
        isNull(projectInvites.acceptedAt),
        gt(projectInvites.expiresAt, new Date()),
        isNull(projects.deletedAt),
      ),
    );
  if (!row) {
    throw new AppError("INVITE_INVALID");
  }
  return row;
}

/**
 * Accepts an invitation for a signed-in user whose verified address is the invited one: they
 * join with the invited role and the invitation is used up. Wrong address, used, expired or
 * unknown invitations are refused without using them.
 */
export async function acceptInvite(
  db: Database,
  token: string,
  user: { id: string; email: string | null },
): Promise<{ projectId: string; role: ProjectRole }> {
  return db.transaction(async (tx) => {
    const { invite } = await findOpenInvite(tx, token);
    if (invite.email !== user.email) {
      throw new AppError("INVITE_EMAIL_MISMATCH");
    }
    const joined = await tx
      .insert(projectMembers)
      .values({ projectId: invite.projectId, userId: user.id, role: invite.role })
      .onConflictDoNothing()
      .returning({ role: projectMembers.role });
    if (joined.length === 0) {
      throw new AppError("ALREADY_MEMBER", {
        message: "You are already a member of this project.",
      });
    }
    // Conditional, so of two simultaneous acceptances only one uses the invitation.
    const used = await tx
      .update(projectInvites)
      .set({ acceptedAt: new Date(), acceptedBy: user.id })
      .where(and(eq(projectInvites.id, invite.id), isNull(projectInvites.acceptedAt)))
      .returning({ id: projectInvites.id });
    if (used.length === 0) {
      throw new AppError("INVITE_INVALID");
    }
    return { projectId: invite.projectId, role: invite.role };
  });
}

/** The invitation mail; the link carries the token to the dashboard's accept page. */
export function inviteMail(options: {
  to: string;
  projectName: string;
  role: ProjectRole;
  inviter: string;
  link: string;
}): Mail {
  return {
    to: options.to,
    kind: "project-invite",
    subject: `You are invited to the project ${options.projectName} on Viper Portal`,
    text: [
      `${options.inviter} invited you to join the project "${options.projectName}" on Viper Portal as ${options.role}.`,
      "",
      "Accept the invitation by opening the link below, signed in with this email address:",
      "",
      options.link,
      "",
      `The link works once and expires in ${Math.round(inviteTtlSeconds / 86400)} days.`,
      "If you do not know this person, ignore this mail.",
    ].join("\n"),
  };
}

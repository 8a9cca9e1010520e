import type { Database } from "@viper/db/client";
import { apiKeys } from "@viper/db/schema/api-keys";
import { projectChains } from "@viper/db/schema/project-chains";
import { projectInvites } from "@viper/db/schema/project-invites";
import { type ProjectRole, projectMembers } from "@viper/db/schema/project-members";
import { type Project, projects } from "@viper/db/schema/projects";
import { and, count, eq, gt, inArray, isNull, notInArray } from "drizzle-orm";
import { AppError } from "../errors.ts";
import { hashesOf } from "./invalidation.ts";
import { maxOwnedProjects } from "./tiers.ts";

type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];

export interface NewProjectInput {
  ownerId: string;
  name: string;
  chainIds: string[];
  defaultZone?: string | undefined;
  allowedOrigins: string[];
  note: string | null;
}

/** Creates a project owned (and joined as owner) by the caller, on the chosen chains. */
export async function createProject(db: Database, input: NewProjectInput): Promise<Project> {
  return db.transaction(async (tx) => {
    const [owned] = await tx
      .select({ total: count() })
      .from(projects)
      .where(and(eq(projects.ownerId, input.ownerId), isNull(projects.deletedAt)));
    if ((owned?.total ?? 0) >= maxOwnedProjects) {
      throw new AppError("LIMIT_REACHED", {
        message: `One account may own ${maxOwnedProjects} projects; delete one first.`,
      });
    }
    const [project] = await tx
      .insert(projects)
      .values({
        name: input.name,
        ownerId: input.ownerId,
        defaultZone: input.defaultZone,
        allowedOrigins: input.allowedOrigins,
        note: input.note,
      })
      .returning();
    if (!project) {
      throw new Error("project insert returned no row");
    }
    await tx
      .insert(projectMembers)
      .values({ projectId: project.id, userId: input.ownerId, role: "owner" });
    await replaceChains(tx, project.id, input.chainIds);
    return project;
  });
}

/** Makes the project's chains exactly these. */
async function replaceChains(
  tx: Transaction,
  projectId: string,
  chainIds: string[],
): Promise<void> {
  await tx
    .delete(projectChains)
    .where(
      chainIds.length > 0
        ? and(eq(projectChains.projectId, projectId), notInArray(projectChains.chainId, chainIds))
        : eq(projectChains.projectId, projectId),
    );
  if (chainIds.length > 0) {
    await tx
      .insert(projectChains)
      .values(chainIds.map((chainId) => ({ projectId, chainId })))
      .onConflictDoNothing();
  }
}

/** The hashes of a project's usable keys: what relays may have cached for it. */
async function liveKeyHashes(tx: Transaction, projectId: string): Promise<string[]> {
  const rows = await tx
    .select({ keyHash: apiKeys.keyHash, previousKeyHash: apiKeys.previousKeyHash })
    .from(apiKeys)
    .where(and(eq(apiKeys.projectId, projectId), isNull(apiKeys.revokedAt)));
  return rows.flatMap(hashesOf);
}

export interface ProjectChanges {
  name?: string | undefined;
  note?: string | null | undefined;
  defaultZone?: string | undefined;
  allowedOrigins?: string[] | undefined;
  chainIds?: string[] | undefined;
}

/**
 * Changes a project's settings. Returns the hashes of its keys when the change is one the relay
 * reads (chains, origins, zone), so their cached records can be dropped; none otherwise.
 */
export async function updateProject(
  db: Database,
  projectId: string,
  changes: ProjectChanges,
): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx
      .update(projects)
      .set({
        name: changes.name,
        note: changes.note,
        defaultZone: changes.defaultZone,
        allowedOrigins: changes.allowedOrigins,
        updatedAt: new Date(),
      })
      .where(eq(projects.id, projectId));
    if (changes.chainIds) {
      await replaceChains(tx, projectId, changes.chainIds);
    }
    const relayReads =
      changes.chainIds !== undefined ||
      changes.allowedOrigins !== undefined ||
      changes.defaultZone !== undefined;
    return relayReads ? liveKeyHashes(tx, projectId) : [];
  });
}

/**
 * Deletes a project: it disappears for its members, its keys are revoked, its members and
 * invitations are removed. The row stays (soft delete) so relay_logs keep naming a project.
 * Returns the hashes relays must forget.
 */
export async function deleteProject(db: Database, projectId: string): Promise<string[]> {
  return db.transaction(async (tx) => {
    const now = new Date();
    const [deleted] = await tx
      .update(projects)
      .set({ deletedAt: now, updatedAt: now })
      .where(and(eq(projects.id, projectId), isNull(projects.deletedAt)))
      .returning({ id: projects.id });
    if (!deleted) {
      throw new AppError("NOT_FOUND", { message: "No such project." });
    }
    const hashes = await liveKeyHashes(tx, projectId);
    await tx
      .update(apiKeys)
      .set({ revokedAt: now, previousKeyHash: null, previousKeyExpiresAt: null, updatedAt: now })
      .where(and(eq(apiKeys.projectId, projectId), isNull(apiKeys.revokedAt)));
    await tx.delete(projectMembers).where(eq(projectMembers.projectId, projectId));
    await tx.delete(projectInvites).where(eq(projectInvites.projectId, projectId));
    // TODO: delete the project's webhooks here once the webhooks table exists (webhooks issue).
    return hashes;
  });
}

/**
 * Hands the project to another member, who becomes owner; the old owner stays on as admin.
 * The target must already be a member.
 */
export async function transferOwnership(
  db: Database,
  projectId: string,
  fromUserId: string,
  toUserId: string,
): Promise<void> {
  await db.transaction(async (tx) => {
    const [target] = await tx
      .update(projectMembers)
      .set({ role: "owner" })
      .where(and(eq(projectMembers.projectId, projectId), eq(projectMembers.userId, toUserId)))
      .returning({ userId: projectMembers.userId });
    if (!target) {
      throw new AppError("NOT_FOUND", { message: "No such member." });
    }
    await tx
      .update(projectMembers)
      .set({ role: "admin" })
      .where(and(eq(projectMembers.projectId, projectId), eq(projectMembers.userId, fromUserId)));
    await tx
      .update(projects)
      .set({ ownerId: toUserId, updatedAt: new Date() })
      .where(eq(projects.id, projectId));
  });
}

/** Keys not revoked, and members plus open invitations: what the tier allowance counts. */
export async function projectUsage(
  db: Database,
  projectId: string,
): Promise<{ keys: number; members: number }> {
  const [keys] = await db
    .select({ total: count() })
    .from(apiKeys)
    .where(and(eq(apiKeys.projectId, projectId), isNull(apiKeys.revokedAt)));
  return { keys: keys?.total ?? 0, members: await seatsTaken(db, projectId) };
}

/** Members plus invitations not yet accepted nor expired. */
export async function seatsTaken(db: Pick<Database, "select">, projectId: string): Promise<number> {
  const [members] = await db
    .select({ total: count() })
    .from(projectMembers)
    .where(eq(projectMembers.projectId, projectId));
  const [invites] = await db
    .select({ total: count() })
    .from(projectInvites)
    .where(
      and(
        eq(projectInvites.projectId, projectId),
        isNull(projectInvites.acceptedAt),
        gt(projectInvites.expiresAt, new Date()),
      ),
    );
  return (members?.total ?? 0) + (invites?.total ?? 0);
}

/** The projects a user belongs to, with their role in each. */
export async function projectsOf(
  db: Database,
  userId: string,
): Promise<Array<{ project: Project; role: ProjectRole; chainIds: string[] }>> {
  const rows = await db
    .select({ project: projects, role: projectMembers.role })
    .from(projectMembers)
    .innerJoin(projects, eq(projects.id, projectMembers.projectId))
    .where(and(eq(projectMembers.userId, userId), isNull(projects.deletedAt)))
    .orderBy(projects.createdAt);
  const ids = rows.map((row) => row.project.id);
  const chainRows =
    ids.length === 0
      ? []
      : await db.select().from(projectChains).where(inArray(projectChains.projectId, ids));
  return rows.map((row) => ({
    ...row,
    chainIds: chainRows
      .filter((chain) => chain.projectId === row.project.id)
      .map((chain) => chain.chainId)
      .sort(),
  }));
}

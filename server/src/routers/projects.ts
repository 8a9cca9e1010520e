import { apiKeys } from "@viper/db/schema/api-keys";
import type { ProjectRole } from "@viper/db/schema/project-members";
import { projects } from "@viper/db/schema/projects";
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { auditProjectChange } from "../audit.ts";
import { AppError } from "../errors.ts";
import { projectProcedure } from "../project-access.ts";
import {
  chainsOfProject,
  enabledChains,
  resolveChainIds,
  toChainView,
} from "../projects/chains.ts";
import { publishKeyInvalidations } from "../projects/invalidation.ts";
import { maskedKey } from "../projects/key-views.ts";
import {
  createProject,
  deleteProject,
  projectsOf,
  projectUsage,
  transferOwnership,
  updateProject,
} from "../projects/project-records.ts";
import { toProjectDetails, toProjectSummary } from "../projects/project-views.ts";
import { keyPlaceholder, rpcEndpoints } from "../projects/rpc-urls.ts";
import {
  chainListSchema,
  nameSchema,
  noteSchema,
  originListSchema,
  zoneSchema,
} from "../projects/validation.ts";
import { type AuthedContext, authedProcedure, router } from "../trpc.ts";

type ProjectContext = AuthedContext & { project: { id: string; role: ProjectRole } };

async function loadDetails(ctx: ProjectContext) {
  const [project] = await ctx.db.select().from(projects).where(eq(projects.id, ctx.project.id));
  if (!project) {
    throw new AppError("NOT_FOUND", { message: "No such project." });
  }
  const [chains, usage] = await Promise.all([
    chainsOfProject(ctx.db, project.id),
    projectUsage(ctx.db, project.id),
  ]);
  return toProjectDetails(project, ctx.project.role, chains, usage);
}

/**
 * Projects: what keys, members and chains hang off. Creating and listing need only a signed-in
 * account; the rest needs a role in the project (docs/project-roles.md).
 */
export const projectsRouter = router({
  /** The chains a project can choose from. */
  availableChains: authedProcedure.query(async ({ ctx }) =>
    (await enabledChains(ctx.db)).map(toChainView),
  ),

  /** Creates a project owned by the caller. Chains are named by Viper id or slug. */
  create: authedProcedure
    .input(
      z.object({
        name: nameSchema,
        chains: chainListSchema.default([]),
        defaultZone: zoneSchema.optional(),
        allowedOrigins: originListSchema.default([]),
        note: noteSchema.default(null),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const chainIds = await resolveChainIds(ctx.db, input.chains);

      const project = await createProject(ctx.db, {
        ownerId: ctx.user.id,
        name: input.name,
        chainIds,
        defaultZone: input.defaultZone,
        allowedOrigins: input.allowedOrigins,
        note: input.note,
      });

      ctx.logger.info({ projectId: project.id }, "project created");
      return toProjectSummary(project, "owner", chainIds.toSorted());
    }),

  /** The projects the caller belongs to, oldest first, with the caller's role in each. */
  list: authedProcedure.query(async ({ ctx }) => {
    const rows = await projectsOf(ctx.db, ctx.user.id);
    return rows.map((row) => toProjectSummary(row.project, row.role, row.chainIds));
  }),

  /** Settings, chains, tier allowance and usage of one project. */
  get: projectProcedure("viewer").query(({ ctx }) => loadDetails(ctx)),

  /**
   * Changes settings; fields left out stay. `chains` replaces the project's chains. Changes the
   * relay reads (chains, origins, zone) reach every relay at once.
   */
  update: projectProcedure("admin")
    .input(
      z.object({
        name: nameSchema.optional(),
        note: noteSchema.optional(),
        defaultZone: zoneSchema.optional(),
        allowedOrigins: originListSchema.optional(),
        chains: chainListSchema.optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const chainIds = input.chains ? await resolveChainIds(ctx.db, input.chains) : undefined;

      const hashes = await updateProject(ctx.db, ctx.project.id, { ...input, chainIds });

      await publishKeyInvalidations(ctx, hashes, "project settings changed");
      ctx.logger.info({ projectId: ctx.project.id }, "project updated");
      return loadDetails(ctx);
    }),

  /**
   * Deletes the project for good: its keys stop working on every relay at once, members and
   * invitations go, usage history stays. Owner only.
   */
  delete: projectProcedure("owner").mutation(async ({ ctx }) => {
    const hashes = await deleteProject(ctx.db, ctx.project.id);

    await publishKeyInvalidations(ctx, hashes, "project deleted");
    ctx.logger.info({ projectId: ctx.project.id, revokedKeys: hashes.length }, "project deleted");
    const project = { type: "project", id: ctx.project.id };
    await auditProjectChange(ctx, "project.deleted", project, { revokedKeys: hashes.length });
    return { deleted: true as const };
  }),

  /** Makes another member the owner; the caller becomes an admin. Owner only. */
  transferOwnership: projectProcedure("owner")
    .input(z.object({ userId: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      if (input.userId === ctx.user.id) {
        throw new AppError("CANNOT_CHANGE_SELF", { message: "You already own this project." });
      }

      await transferOwnership(ctx.db, ctx.project.id, ctx.user.id, input.userId);

      ctx.logger.info(
        { projectId: ctx.project.id, newOwnerId: input.userId },
        "project ownership transferred",
      );
      const newOwner = { type: "user", id: input.userId };
      await auditProjectChange(ctx, "project.ownership_transferred", newOwner);
      return loadDetails({ ...ctx, project: { ...ctx.project, role: "admin" } });
    }),

  /**
   * The relay URLs of each project chain, HTTP and (where the chain has it) WebSocket. With a
   * `keyId` they show that key masked; without, a placeholder to replace with a key.
   */
  rpcUrls: projectProcedure("viewer")
    .input(z.object({ keyId: z.uuid().optional() }))
    .query(async ({ ctx, input }) => {
      const key = input.keyId ? await loadKey(ctx, input.keyId) : null;
      const chains = await chainsOfProject(ctx.db, ctx.project.id);
      const keyPart = key ? maskedKey(key) : keyPlaceholder;
      return {
        keyPlaceholder,
        key: key ? { id: key.id, name: key.name, masked: maskedKey(key) } : null,
        endpoints: rpcEndpoints(
          ctx.services.settings.relayPublicUrl,
          chains.filter((chain) => chain.enabled),
          keyPart,
          key?.rules.allowedChains,
        ),
      };
    }),
});

async function loadKey(ctx: ProjectContext, keyId: string) {
  const [key] = await ctx.db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.projectId, ctx.project.id)));
  if (!key) {
    throw new AppError("NOT_FOUND", { message: "No such key." });
  }
  return key;
}

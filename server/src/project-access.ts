import { type ProjectRole, projectMembers } from "@viper/db/schema/project-members";
import { projects } from "@viper/db/schema/projects";
import { and, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { AppError } from "./errors.ts";
import { type AuthedContext, authedProcedure } from "./trpc.ts";

/** Higher may do everything lower may. */
export const projectRoleRank: Record<ProjectRole, number> = {
  viewer: 0,
  developer: 1,
  admin: 2,
  owner: 3,
};

/** The caller's role in a project, or null when they have none (or it does not exist). */
export type ProjectRoleResolver = (
  ctx: AuthedContext,
  projectId: string,
) => Promise<ProjectRole | null>;

/** Reads the role from project_members; deleted projects have no members. */
export const memberRoleResolver: ProjectRoleResolver = async (ctx, projectId) => {
  const [row] = await ctx.db
    .select({ role: projectMembers.role })
    .from(projectMembers)
    .innerJoin(projects, eq(projects.id, projectMembers.projectId))
    .where(
      and(
        eq(projectMembers.projectId, projectId),
        eq(projectMembers.userId, ctx.user.id),
        isNull(projects.deletedAt),
      ),
    );
  return row?.role ?? null;
};

/**
 * The hook for project-scoped procedures: signed in, with `projectId` in the input and at least
 * `minimum` as role in that project. Adds `ctx.project = { id, role }`. Add more input with
 * `.input(...)` after it (tRPC merges object inputs). A non-member gets NOT_FOUND, so project ids
 * are not probed; a member below the role gets PROJECT_ROLE_REQUIRED. Pass another resolver to
 * change where roles come from (teams, platform admins), and `verifiedProcedure` as `base` for
 * actions that need a verified email address (creating API keys).
 *
 * @example
 * export const keysRouter = router({
 *   create: projectProcedure("developer").input(z.object({ name: z.string() })).mutation(...),
 * });
 */
export function projectProcedure(
  minimum: ProjectRole,
  resolve: ProjectRoleResolver = memberRoleResolver,
  base: typeof authedProcedure = authedProcedure,
) {
  return base.input(z.object({ projectId: z.uuid() })).use(async ({ ctx, input, next }) => {
    const role = await resolve(ctx, input.projectId);
    if (!role) {
      throw new AppError("NOT_FOUND", { message: "No such project." });
    }
    if (projectRoleRank[role] < projectRoleRank[minimum]) {
      throw new AppError("PROJECT_ROLE_REQUIRED");
    }
    return next({ ctx: { project: { id: input.projectId, role } } });
  });
}

import { apiKeys } from "@viper/db/schema/api-keys";
import { projects } from "@viper/db/schema/projects";
import { users } from "@viper/db/schema/users";
import { rateLimitConfigSchema } from "@viper/relay/rate-limit/config";
import { publishRateLimitConfig, readRateLimitConfig } from "@viper/shared/rate-limit-config";
import { and, desc, eq, ilike, isNull, or, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { endOtherSessions } from "../auth/sessions.ts";
import { AppError } from "../errors.ts";
import { hashesOf, publishKeyInvalidations } from "../projects/invalidation.ts";
import { textInput } from "../text-input.ts";
import { adminProcedure, router } from "../trpc.ts";
import { toUserView } from "../views.ts";

/** Escapes LIKE wildcards so a search for "a_b" finds "a_b" only. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

/**
 * Platform administration: every procedure needs the admin role.
 * TODO: the first admin can only be made with SQL (update users set role = 'admin'); add a CLI or
 * an ADMIN_EMAILS setting before the first release.
 */
export const adminRouter = router({
  /** Users newest first, a page at a time; pass `nextCursor` back for the next page. */
  listUsers: adminProcedure
    .input(
      z
        .object({
          limit: z.number().int().min(1).max(100).default(20),
          // The id of the last user of the previous page.
          cursor: z.uuid().optional(),
          search: textInput({ min: 1, max: 100 }).optional(),
        })
        .default({ limit: 20 }),
    )
    .query(async ({ ctx, input }) => {
      const filters: SQL[] = [];
      if (input.cursor) {
        // Compared in the database, at its microsecond precision, not at a JS Date's millisecond.
        filters.push(
          sql`(${users.createdAt}, ${users.id}) < (select u.created_at, u.id from users u where u.id = ${input.cursor})`,
        );
      }
      if (input.search) {
        const pattern = likePattern(input.search);
        const match = or(ilike(users.email, pattern), ilike(users.name, pattern));
        if (match) {
          filters.push(match);
        }
      }

      const rows = await ctx.db
        .select()
        .from(users)
        .where(and(...filters))
        .orderBy(desc(users.createdAt), desc(users.id))
        .limit(input.limit + 1);

      const page = rows.slice(0, input.limit);
      const last = page.at(-1);
      return {
        users: page.map(toUserView),
        nextCursor: rows.length > input.limit && last ? last.id : null,
      };
    }),

  /** Disables an account: its sessions end at once and it cannot sign in again. */
  disableUser: adminProcedure
    .input(z.object({ userId: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      if (input.userId === ctx.user.id) {
        throw new AppError("CANNOT_CHANGE_SELF");
      }
      const user = await ctx.db.transaction(async (tx) => {
        const [updated] = await tx
          .update(users)
          .set({ disabledAt: new Date(), updatedAt: new Date() })
          .where(eq(users.id, input.userId))
          .returning();
        if (updated) {
          await endOtherSessions(tx, input.userId, null);
        }
        return updated;
      });
      if (!user) {
        throw new AppError("NOT_FOUND", { message: "No such user." });
      }
      ctx.logger.info({ targetUserId: user.id }, "user disabled");
      return toUserView(user);
    }),

  /** Lets a disabled account sign in again. */
  enableUser: adminProcedure
    .input(z.object({ userId: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      const [user] = await ctx.db
        .update(users)
        .set({ disabledAt: null, updatedAt: new Date() })
        .where(eq(users.id, input.userId))
        .returning();
      if (!user) {
        throw new AppError("NOT_FOUND", { message: "No such user." });
      }
      ctx.logger.info({ targetUserId: user.id }, "user enabled");
      return toUserView(user);
    }),

  /** The rate limits an admin put in force on the relays; null while they use their own. */
  rateLimitConfig: adminProcedure.query(async ({ ctx }) => {
    const text = await readRateLimitConfig(ctx.store);
    return { config: text === null ? null : (JSON.parse(text) as unknown) };
  }),

  /**
   * Puts rate limits (tiers, costs, bursts; the relay's RATE_LIMITS shape) in force on every
   * relay within a second, or with null sends the relays back to their own RATE_LIMITS.
   */
  setRateLimitConfig: adminProcedure
    .input(z.object({ config: rateLimitConfigSchema.nullable() }))
    .mutation(async ({ ctx, input }) => {
      const json = input.config === null ? null : JSON.stringify(input.config);
      await publishRateLimitConfig(ctx.store, json);
      ctx.logger.info({ cleared: json === null }, "rate limit config changed");
      return { config: input.config };
    }),

  /**
   * Moves a project to another tier. Its keys are dropped from the relays' caches, so the new
   * tier's limits apply within a second. A tier the relays do not know gets their default tier.
   */
  setProjectTier: adminProcedure
    .input(z.object({ projectId: z.uuid(), tier: textInput({ min: 1, max: 64 }) }))
    .mutation(async ({ ctx, input }) => {
      const [project] = await ctx.db
        .update(projects)
        .set({ tier: input.tier, updatedAt: new Date() })
        .where(and(eq(projects.id, input.projectId), isNull(projects.deletedAt)))
        .returning({ id: projects.id, tier: projects.tier });
      if (!project) {
        throw new AppError("NOT_FOUND", { message: "No such project." });
      }

      const keys = await ctx.db
        .select({ keyHash: apiKeys.keyHash, previousKeyHash: apiKeys.previousKeyHash })
        .from(apiKeys)
        .where(eq(apiKeys.projectId, project.id));
      await publishKeyInvalidations(ctx, keys.flatMap(hashesOf), "project tier changed");
      ctx.logger.info({ projectId: project.id, tier: project.tier }, "project tier changed");
      return project;
    }),
});

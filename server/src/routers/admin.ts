import { users } from "@viper/db/schema/users";
import { and, desc, eq, ilike, or, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { endOtherSessions } from "../auth/sessions.ts";
import { AppError } from "../errors.ts";
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
          search: z.string().trim().min(1).max(100).optional(),
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
});

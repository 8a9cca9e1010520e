import { authSessions } from "@viper/db/schema/auth-sessions";
import { identities } from "@viper/db/schema/identities";
import { users } from "@viper/db/schema/users";
import { and, desc, eq, gt } from "drizzle-orm";
import { z } from "zod";
import { findPasswordHash, findUser } from "../auth/accounts.ts";
import { emailSchema } from "../auth/email.ts";
import { currentPasswordSchema, newPasswordSchema } from "../auth/passwords.ts";
import { endOtherSessions, endSession } from "../auth/sessions.ts";
import { AppError } from "../errors.ts";
import { withTextChecks } from "../text-input.ts";
import { type AuthedContext, authedProcedure, router } from "../trpc.ts";
import { toUserView } from "../views.ts";
import { displayNameSchema } from "./auth.ts";

const avatarUrlSchema = withTextChecks(
  z.url({ protocol: /^https$/, message: "Use an https:// address." }).max(2000),
);

async function loadUser(ctx: AuthedContext) {
  const user = await findUser(ctx.db, ctx.user.id);
  if (!user) {
    throw new AppError("SESSION_REVOKED");
  }
  return user;
}

/**
 * Checks the caller's current password (when the account has one), counting failures like
 * sign-in does, so a stolen session cannot guess it. Returns whether the account has one.
 */
async function confirmPassword(ctx: AuthedContext, password: string | undefined) {
  const hash = await findPasswordHash(ctx.db, ctx.user.id);
  if (!hash) {
    return false;
  }
  const limiterKey = ctx.user.email ?? ctx.user.id;
  const attempt = await ctx.services.signInLimiter.reserve(limiterKey, ctx.ip);
  if (!password || !(await ctx.services.passwords.verify(password, hash))) {
    await attempt.failed();
    throw new AppError("PASSWORD_INCORRECT");
  }
  await attempt.succeeded();
  return true;
}

/** The signed-in user's own account: profile, email, password and sessions. */
export const profileRouter = router({
  /** The account and the ways it can sign in. */
  get: authedProcedure.query(async ({ ctx }) => {
    const user = await loadUser(ctx);
    const linked = await ctx.db
      .select({
        provider: identities.provider,
        subject: identities.subject,
        createdAt: identities.createdAt,
      })
      .from(identities)
      .where(eq(identities.userId, user.id))
      .orderBy(identities.createdAt);
    return {
      ...toUserView(user),
      identities: linked.map((identity) => ({
        provider: identity.provider,
        // Wallet addresses and emails help the user tell identities apart; Google's sub does not.
        label: identity.provider === "google" ? null : identity.subject,
        createdAt: identity.createdAt.toISOString(),
      })),
    };
  }),

  /** Changes the display name or avatar (null clears it). */
  update: authedProcedure
    .input(
      z.object({
        name: displayNameSchema.nullable().optional(),
        avatarUrl: avatarUrlSchema.nullable().optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const [user] = await ctx.db
        .update(users)
        .set({ name: input.name, avatarUrl: input.avatarUrl, updatedAt: new Date() })
        .where(eq(users.id, ctx.user.id))
        .returning();
      if (!user) {
        throw new AppError("SESSION_REVOKED");
      }
      return toUserView(user);
    }),

  /**
   * Mails a verification link to a new address; the account keeps its address until the link
   * is used. Needs the current password when the account has one.
   */
  changeEmail: authedProcedure
    .input(z.object({ newEmail: emailSchema, currentPassword: currentPasswordSchema.optional() }))
    .mutation(async ({ ctx, input }) => {
      await confirmPassword(ctx, input.currentPassword);
      if (input.newEmail === ctx.user.email && ctx.user.emailVerified) {
        throw new AppError("EMAIL_ALREADY_VERIFIED");
      }
      const [owner] = await ctx.db
        .select({ id: users.id })
        .from(users)
        .where(eq(users.email, input.newEmail));
      if (owner && owner.id !== ctx.user.id) {
        throw new AppError("EMAIL_TAKEN");
      }
      await ctx.services.emailVerification.send(ctx.user.id, input.newEmail);
      return { pendingEmail: input.newEmail };
    }),

  /**
   * Sets a new password (the current one is needed when there is one). Every other session of
   * the account ends, with its refresh tokens; this one stays.
   */
  changePassword: authedProcedure
    .input(
      z.object({
        currentPassword: currentPasswordSchema.optional(),
        newPassword: newPasswordSchema,
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const hadPassword = await confirmPassword(ctx, input.currentPassword);
      if (!hadPassword && !ctx.user.email) {
        throw new AppError("EMAIL_REQUIRED");
      }
      const secretHash = await ctx.services.passwords.hash(input.newPassword);

      await ctx.db.transaction(async (tx) => {
        if (hadPassword) {
          await tx
            .update(identities)
            .set({ secretHash })
            .where(and(eq(identities.userId, ctx.user.id), eq(identities.provider, "password")));
        } else {
          const subject = ctx.user.email ?? "";
          await tx
            .insert(identities)
            .values({ userId: ctx.user.id, provider: "password", subject, secretHash });
        }
        await endOtherSessions(tx, ctx.user.id, ctx.session.id);
      });

      ctx.logger.info("password changed; other sessions ended");
      return { changed: true as const };
    }),

  /** The account's live sessions, newest first; `current` marks the caller's. */
  sessions: authedProcedure.query(async ({ ctx }) => {
    const rows = await ctx.db
      .select()
      .from(authSessions)
      .where(and(eq(authSessions.userId, ctx.user.id), gt(authSessions.expiresAt, new Date())))
      .orderBy(desc(authSessions.createdAt));
    return rows.map((row) => ({
      id: row.id,
      current: row.id === ctx.session.id,
      ip: row.ip,
      userAgent: row.userAgent,
      createdAt: row.createdAt.toISOString(),
      expiresAt: row.expiresAt.toISOString(),
    }));
  }),

  /** Ends one of the account's sessions (its tokens stop working at once). */
  revokeSession: authedProcedure
    .input(z.object({ sessionId: z.string().regex(/^[0-9a-f]{64}$/) }))
    .mutation(async ({ ctx, input }) => {
      if (input.sessionId === ctx.session.id) {
        await endSession(ctx);
        return { revoked: true };
      }
      const deleted = await ctx.db
        .delete(authSessions)
        .where(and(eq(authSessions.id, input.sessionId), eq(authSessions.userId, ctx.user.id)))
        .returning({ id: authSessions.id });
      return { revoked: deleted.length > 0 };
    }),
});

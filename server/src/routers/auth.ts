import { z } from "zod";
import { auditSignIn } from "../audit.ts";
import { createPasswordAccount, findPasswordAccount } from "../auth/accounts.ts";
import { emailSchema } from "../auth/email.ts";
import { currentPasswordSchema, newPasswordSchema } from "../auth/passwords.ts";
import { endSession, signInModeSchema, startSession, type TokenPair } from "../auth/sessions.ts";
import { AppError } from "../errors.ts";
import { accountExistsMail } from "../mail/messages.ts";
import { enforceRateLimit } from "../rate-limit.ts";
import { textInput } from "../text-input.ts";
import { authedProcedure, publicProcedure, router } from "../trpc.ts";

const hourMs = 3600_000;
const opaqueToken = z.string().min(16).max(200);
export const displayNameSchema = textInput({ min: 1, max: 100 });

/** Registration, email verification, password sign-in, token refresh and sign-out. */
export const authRouter = router({
  /**
   * Creates an account and mails a verification link. Answers the same whether or not the email
   * has an account (its owner gets a mail instead), so the form cannot test addresses.
   */
  register: publicProcedure
    .input(
      z.object({
        email: emailSchema,
        password: newPasswordSchema,
        name: displayNameSchema.optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const perHour = ctx.services.config.REGISTRATIONS_PER_IP_PER_HOUR;
      await enforceRateLimit(ctx.store, `register:${ctx.ip ?? "unknown"}`, perHour, hourMs);
      const passwordHash = await ctx.services.passwords.hash(input.password);

      const created = await createPasswordAccount(ctx.db, {
        email: input.email,
        passwordHash,
        name: input.name ?? null,
      });

      if (created) {
        await ctx.services.emailVerification.send(created.userId, input.email);
        ctx.logger.info({ userId: created.userId }, "registered");
      } else {
        const signInUrl = `${ctx.services.settings.dashboardUrl}/sign-in`;
        await ctx.services.mail.send(accountExistsMail(input.email, signInUrl));
      }
      return { status: "verification-sent" as const };
    }),

  /** Uses a link from a verification mail; the account's email becomes that address. */
  verifyEmail: publicProcedure
    .input(z.object({ token: opaqueToken }))
    .mutation(async ({ ctx, input }) => {
      const verified = await ctx.services.emailVerification.consume(input.token);
      ctx.logger.info({ userId: verified.userId }, "email verified");
      return { email: verified.email, verified: true as const };
    }),

  /** Mails a new link for the account's unverified address. */
  resendVerification: authedProcedure.mutation(async ({ ctx }) => {
    if (!ctx.user.email) {
      throw new AppError("EMAIL_REQUIRED");
    }
    if (ctx.user.emailVerified) {
      throw new AppError("EMAIL_ALREADY_VERIFIED");
    }
    await enforceRateLimit(ctx.store, `verify-mail:${ctx.user.id}`, 5, hourMs);
    await ctx.services.emailVerification.send(ctx.user.id, ctx.user.email);
    return { status: "verification-sent" as const };
  }),

  /**
   * Signs in with email and password. Wrong email and wrong password get the same error after
   * the same work; repeated failures lock the account (and the IP) for a while.
   */
  signIn: publicProcedure
    .input(
      z.object({ email: emailSchema, password: currentPasswordSchema, mode: signInModeSchema }),
    )
    .mutation(async ({ ctx, input }) => {
      const { signInLimiter, passwords } = ctx.services;
      // The try is counted before the password is compared, so parallel guesses stay bounded.
      const attempt = await signInLimiter.reserve(input.email, ctx.ip).catch((error: unknown) => {
        ctx.services.metrics.countSignIn("password", "locked");
        throw error;
      });

      const account = await findPasswordAccount(ctx.db, input.email);
      const matches = account?.secretHash
        ? await passwords.verify(input.password, account.secretHash)
        : await passwords.verifyDummy(input.password);

      if (!account || !matches) {
        const locked = await attempt.failed();
        ctx.logger.info({ locked }, "sign-in refused");
        const details = { email: input.email, locked };
        await auditSignIn(ctx, {
          method: "password",
          userId: account?.user.id ?? null,
          succeeded: false,
          details,
        });
        throw new AppError("INVALID_CREDENTIALS");
      }
      await attempt.succeeded();
      return startSession(ctx, account.user.id, input.mode);
    }),

  /** Trades a refresh token for a new access token and refresh token; each works once. */
  refresh: publicProcedure
    .input(z.object({ refreshToken: opaqueToken }))
    .mutation(async ({ ctx, input }): Promise<TokenPair> => {
      const rotated = await ctx.services.refreshTokens.rotate(input.refreshToken);
      const access = await ctx.services.accessTokens.issue(rotated);
      return {
        tokenType: "Bearer",
        accessToken: access.token,
        accessTokenExpiresAt: access.expiresAt.toISOString(),
        refreshToken: rotated.next.token,
        refreshTokenExpiresAt: rotated.next.expiresAt.toISOString(),
      };
    }),

  /** Ends this session; its access token is refused from now on, its refresh tokens too. */
  signOut: authedProcedure.mutation(async ({ ctx }) => {
    await endSession(ctx);
    return { signedOut: true as const };
  }),
});

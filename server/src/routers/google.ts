import { z } from "zod";
import { findUser, resolveExternalAccount } from "../auth/accounts.ts";
import { normalizeEmail } from "../auth/email.ts";
import type { GoogleSignIn } from "../auth/google.ts";
import { signInModeSchema, startSession } from "../auth/sessions.ts";
import type { Context } from "../context.ts";
import { AppError } from "../errors.ts";
import { publicProcedure, router } from "../trpc.ts";
import { toUserView } from "../views.ts";

// The cookie that ties a callback to the browser that started the flow (login CSRF).
const stateCookieSuffix = "_oauth_state";

function googleOf(ctx: Context): GoogleSignIn {
  if (!ctx.services.google) {
    throw new AppError("PROVIDER_DISABLED");
  }
  return ctx.services.google;
}

function stateCookie(ctx: Context, state: string, maxAgeSeconds: number): string {
  const { config, settings } = ctx.services;
  const parts = [
    `${config.COOKIE_NAME}${stateCookieSuffix}=${state}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    `Max-Age=${maxAgeSeconds}`,
  ];
  if (settings.cookieSecure) {
    parts.push("Secure");
  }
  return parts.join("; ");
}

function readStateCookie(ctx: Context): string | null {
  const name = `${ctx.services.config.COOKIE_NAME}${stateCookieSuffix}=`;
  const header = ctx.headers.get("cookie") ?? "";
  const part = header.split(/;\s*/).find((item) => item.startsWith(name));
  return part ? part.slice(name.length) : null;
}

/** Google sign-in (OpenID Connect code flow with PKCE), and linking Google to an account. */
export const googleRouter = router({
  /**
   * Returns the URL to send the browser to. With `link: true` (signed in), the callback adds
   * Google to the current account instead of signing in.
   */
  start: publicProcedure
    .input(z.object({ link: z.boolean().default(false) }).default({ link: false }))
    .mutation(async ({ ctx, input }) => {
      if (input.link && !ctx.user) {
        throw new AppError("UNAUTHENTICATED");
      }
      const google = googleOf(ctx);
      const started = await google.start(input.link && ctx.user ? ctx.user.id : null);
      const ttl = ctx.services.config.OIDC_STATE_TTL_SECONDS;
      ctx.resHeaders.append("Set-Cookie", stateCookie(ctx, started.state, ttl));
      return { url: started.url };
    }),

  /** Finishes the flow with the `state` and `code` Google put on the redirect URI. */
  callback: publicProcedure
    .input(
      z.object({
        state: z.string().min(16).max(200),
        code: z.string().min(1).max(2000),
        mode: signInModeSchema,
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const google = googleOf(ctx);
      if (readStateCookie(ctx) !== input.state) {
        throw new AppError("OAUTH_STATE_INVALID");
      }
      ctx.resHeaders.append("Set-Cookie", stateCookie(ctx, "", 0));

      const { profile, linkToUserId } = await google.finish(input.state, input.code);
      // A link started by one user must be finished by the same user, not by a lured victim.
      if (linkToUserId && ctx.user?.id !== linkToUserId) {
        throw new AppError("OAUTH_STATE_INVALID");
      }

      const userId = await resolveExternalAccount(
        ctx.db,
        {
          provider: "google",
          subject: profile.subject,
          verifiedEmail: normalizeEmail(profile.email),
          name: profile.name,
          avatarUrl: profile.picture,
        },
        linkToUserId ?? undefined,
      );
      if (linkToUserId) {
        const user = await findUser(ctx.db, userId);
        if (!user) {
          throw new AppError("NOT_FOUND");
        }
        return { linked: true, user: toUserView(user), tokens: null };
      }
      return { linked: false, ...(await startSession(ctx, userId, input.mode, "google")) };
    }),
});

import type { Database } from "@viper/db/client";
import { authSessions } from "@viper/db/schema/auth-sessions";
import { and, eq, ne } from "drizzle-orm";
import { z } from "zod";
import { auditSignIn } from "../audit.ts";
import type { Context } from "../context.ts";
import { AppError } from "../errors.ts";
import type { AuthedContext } from "../trpc.ts";
import { toUserView, type UserView } from "../views.ts";
import { findUser } from "./accounts.ts";
import { publicSessionId } from "./lucia.ts";

/**
 * How a sign-in is handed out: `cookie` sets the dashboard's HTTP-only session cookie; `token`
 * returns an access token and a refresh token for API clients (no cookie).
 */
export const signInModeSchema = z.enum(["cookie", "token"]).default("cookie");
export type SignInMode = z.infer<typeof signInModeSchema>;

/** What an API client keeps after signing in or refreshing. */
export interface TokenPair {
  tokenType: "Bearer";
  accessToken: string;
  accessTokenExpiresAt: string;
  refreshToken: string;
  refreshTokenExpiresAt: string;
}

export interface SignInResult {
  user: UserView;
  /** Null in cookie mode. */
  tokens: TokenPair | null;
}

/**
 * Starts a session for a user who proved who they are. Every sign-in is a row in auth_sessions,
 * whichever mode: the session list shows it and revoking it ends its tokens too.
 */
export async function startSession(
  ctx: Context,
  userId: string,
  mode: SignInMode,
  method: "password" | "google" | "wallet" | "web3auth" = "password",
): Promise<SignInResult> {
  const { lucia, refreshTokens, accessTokens } = ctx.services;
  const user = await findUser(ctx.db, userId);
  if (!user) {
    throw new Error(`user ${userId} vanished while signing in`);
  }
  if (user.disabledAt) {
    throw new AppError("ACCOUNT_DISABLED");
  }

  const userAgent = ctx.headers.get("user-agent")?.slice(0, 300) ?? null;
  const session = await lucia.createSession(user.id, { ip: ctx.ip, userAgent });
  const sessionId = publicSessionId(session.id);
  ctx.logger.info({ userId: user.id, mode }, "signed in");
  await auditSignIn(ctx, { method, userId: user.id, succeeded: true, details: { mode } });

  if (mode === "cookie") {
    ctx.resHeaders.append("Set-Cookie", lucia.createSessionCookie(session.id).serialize());
    return { user: toUserView(user), tokens: null };
  }
  const refresh = await refreshTokens.issueFirst(ctx.db, { userId: user.id, sessionId });
  const access = await accessTokens.issue({ userId: user.id, sessionId, role: user.role });
  return {
    user: toUserView(user),
    tokens: {
      tokenType: "Bearer",
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt.toISOString(),
      refreshToken: refresh.token,
      refreshTokenExpiresAt: refresh.expiresAt.toISOString(),
    },
  };
}

/**
 * Ends the caller's session: its row (and so its refresh family) goes, the access token used is
 * denied until it expires, and a cookie caller gets a blank cookie.
 */
export async function endSession(ctx: AuthedContext): Promise<void> {
  await ctx.db.delete(authSessions).where(eq(authSessions.id, ctx.session.id));
  if (ctx.session.accessToken) {
    await ctx.services.denyList.deny(
      ctx.session.accessToken.jti,
      ctx.session.accessToken.expiresAt,
    );
  }
  if (ctx.session.via === "cookie") {
    ctx.resHeaders.append("Set-Cookie", ctx.services.lucia.createBlankSessionCookie().serialize());
  }
  ctx.logger.info("signed out");
}

/** Ends every session of a user but one (null: all), with their refresh families. */
export async function endOtherSessions(
  db: Pick<Database, "delete">,
  userId: string,
  keepSessionId: string | null,
): Promise<void> {
  const ofUser = eq(authSessions.userId, userId);
  await db
    .delete(authSessions)
    .where(keepSessionId ? and(ofUser, ne(authSessions.id, keepSessionId)) : ofUser);
}

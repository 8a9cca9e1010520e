import type { Database } from "@viper/db/client";
import { authSessions } from "@viper/db/schema/auth-sessions";
import { type PlatformRole, users } from "@viper/db/schema/users";
import type { Logger } from "@viper/shared/logger";
import type { KeyValueStore } from "@viper/shared/store";
import { eq } from "drizzle-orm";
import { isSessionIdShape, publicSessionId } from "./auth/lucia.ts";
import { readCookie } from "./cookies.ts";
import { AppError } from "./errors.ts";
import type { Services } from "./services.ts";

/** The signed-in user as procedures see it, read fresh from the database on every request. */
export interface AuthUser {
  id: string;
  email: string | null;
  emailVerified: boolean;
  role: PlatformRole;
  name: string | null;
}

/** How the request proved who it is. */
export interface AuthSession {
  /** The public session id (what `sid` in JWTs and the session list show). */
  id: string;
  via: "cookie" | "bearer";
  expiresAt: Date;
  /** The access token used, for bearer requests: its jti goes on the deny list at sign-out. */
  accessToken: { jti: string; expiresAt: Date } | null;
}

/** Everything a procedure gets. */
export interface Context {
  services: Services;
  db: Database;
  store: KeyValueStore;
  /** Bound to this request's id (and user, once known). */
  logger: Logger;
  requestId: string;
  ip: string | null;
  headers: Headers;
  /** Headers of the response, for Set-Cookie. */
  resHeaders: Headers;
  user: AuthUser | null;
  session: AuthSession | null;
  /** Why presented credentials were refused (an AppError, or an unexpected error to rethrow). */
  authFailure: unknown;
}

export interface RequestFacts {
  req: Request;
  resHeaders: Headers;
  requestId: string;
  ip: string | null;
}

type Resolved = { user: AuthUser; session: AuthSession } | null;

/**
 * Builds a request's context. Never throws: a bad credential leaves the request anonymous with
 * the reason in `authFailure`, which the auth middleware turns into the error the client sees.
 */
export async function createContext(services: Services, facts: RequestFacts): Promise<Context> {
  const base = {
    services,
    db: services.db,
    store: services.store,
    logger: services.logger.child({ requestId: facts.requestId }),
    requestId: facts.requestId,
    ip: facts.ip,
    headers: facts.req.headers,
    resHeaders: facts.resHeaders,
  };
  try {
    const resolved = await resolveAuth(services, facts);
    const logger = resolved ? base.logger.child({ userId: resolved.user.id }) : base.logger;
    return {
      ...base,
      logger,
      user: resolved?.user ?? null,
      session: resolved?.session ?? null,
      authFailure: null,
    };
  } catch (error) {
    return { ...base, user: null, session: null, authFailure: error };
  }
}

function resolveAuth(services: Services, facts: RequestFacts): Promise<Resolved> {
  const authorization = facts.req.headers.get("authorization");
  if (authorization !== null) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match?.[1]) {
      throw new AppError("TOKEN_INVALID");
    }
    return resolveBearer(services, match[1]);
  }
  return resolveCookie(services, facts);
}

async function resolveBearer(services: Services, token: string): Promise<Resolved> {
  const claims = await services.accessTokens.verify(token);
  if (await services.denyList.isDenied(claims.jti)) {
    throw new AppError("SESSION_REVOKED");
  }
  const [row] = await services.db
    .select({ session: authSessions, user: users })
    .from(authSessions)
    .innerJoin(users, eq(users.id, authSessions.userId))
    .where(eq(authSessions.id, claims.sid));
  if (!row || row.session.userId !== claims.sub || row.session.expiresAt <= new Date()) {
    throw new AppError("SESSION_REVOKED");
  }
  if (row.user.disabledAt) {
    throw new AppError("ACCOUNT_DISABLED");
  }
  return {
    user: toAuthUser(row.user),
    session: {
      id: claims.sid,
      via: "bearer",
      expiresAt: row.session.expiresAt,
      accessToken: { jti: claims.jti, expiresAt: new Date(claims.exp * 1000) },
    },
  };
}

async function resolveCookie(services: Services, facts: RequestFacts): Promise<Resolved> {
  const { lucia, settings } = services;
  const cookieId = readCookie(facts.req.headers.get("cookie"), lucia.sessionCookieName);
  if (!cookieId) {
    return null;
  }
  // A browser sends the cookie with any site's form post too; only our origins may use it.
  const origin = facts.req.headers.get("origin");
  if (facts.req.method !== "GET" && origin !== null && !settings.allowedOrigins.includes(origin)) {
    throw new AppError("FORBIDDEN", { message: "Cross-site requests may not use the session." });
  }
  if (!isSessionIdShape(cookieId)) {
    facts.resHeaders.append("Set-Cookie", lucia.createBlankSessionCookie().serialize());
    throw new AppError("TOKEN_INVALID", { message: "The session cookie is not valid." });
  }
  const { session, user } = await lucia.validateSession(cookieId);
  if (!session) {
    facts.resHeaders.append("Set-Cookie", lucia.createBlankSessionCookie().serialize());
    throw new AppError("SESSION_REVOKED");
  }
  if (session.fresh) {
    facts.resHeaders.append("Set-Cookie", lucia.createSessionCookie(session.id).serialize());
  }
  return {
    user: {
      id: user.id,
      email: user.email,
      emailVerified: user.emailVerifiedAt !== null,
      role: user.role,
      name: user.name,
    },
    session: {
      id: publicSessionId(session.id),
      via: "cookie",
      expiresAt: session.expiresAt,
      accessToken: null,
    },
  };
}

function toAuthUser(user: typeof users.$inferSelect): AuthUser {
  return {
    id: user.id,
    email: user.email,
    emailVerified: user.emailVerifiedAt !== null,
    role: user.role,
    name: user.name,
  };
}

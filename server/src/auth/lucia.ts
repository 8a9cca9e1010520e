import type { Database } from "@viper/db/client";
import { authSessions } from "@viper/db/schema/auth-sessions";
import { type PlatformRole, users } from "@viper/db/schema/users";
import { eq, lte } from "drizzle-orm";
import { type Adapter, type DatabaseSession, type DatabaseUser, Lucia, TimeSpan } from "lucia";
import { sha256Hex } from "./secrets.ts";

declare module "lucia" {
  interface Register {
    Lucia: DashboardLucia;
    DatabaseSessionAttributes: SessionAttributes;
    DatabaseUserAttributes: UserAttributes;
  }
}

interface SessionAttributes {
  ip: string | null;
  userAgent: string | null;
}

interface UserAttributes {
  email: string | null;
  emailVerifiedAt: Date | null;
  name: string | null;
  role: PlatformRole;
}

/**
 * The public id of a session: the SHA-256 of the id in the cookie. The table keys sessions by it,
 * so a leaked table or a session list never yields a working cookie, and JWTs name it in `sid`.
 */
export function publicSessionId(cookieSessionId: string): string {
  return sha256Hex(cookieSessionId);
}

/** Lucia's session ids: 25 random bytes in lower-case base32 without padding. */
const sessionIdShape = /^[a-z2-7]{40}$/;

/**
 * Whether a cookie value could be a session id Lucia made. Anything else was never issued by this
 * server (a forged or mangled cookie), which is TOKEN_INVALID rather than an ended session.
 */
export function isSessionIdShape(cookieValue: string): boolean {
  return sessionIdShape.test(cookieValue);
}

/**
 * Lucia's storage over our Drizzle database. Lucia hands us the cookie's session id; we store and
 * look up its hash. A disabled user yields no user, so Lucia drops the session.
 */
export class DrizzleSessionAdapter implements Adapter {
  constructor(private readonly db: Database) {}

  async getSessionAndUser(
    sessionId: string,
  ): Promise<[session: DatabaseSession | null, user: DatabaseUser | null]> {
    const [row] = await this.db
      .select({ session: authSessions, user: users })
      .from(authSessions)
      .innerJoin(users, eq(users.id, authSessions.userId))
      .where(eq(authSessions.id, publicSessionId(sessionId)));
    if (!row) {
      return [null, null];
    }
    const session: DatabaseSession = {
      id: sessionId,
      userId: row.session.userId,
      expiresAt: row.session.expiresAt,
      attributes: { ip: row.session.ip, userAgent: row.session.userAgent },
    };
    if (row.user.disabledAt) {
      return [session, null];
    }
    const { email, emailVerifiedAt, name, role } = row.user;
    return [session, { id: row.user.id, attributes: { email, emailVerifiedAt, name, role } }];
  }

  async getUserSessions(userId: string): Promise<DatabaseSession[]> {
    const rows = await this.db.select().from(authSessions).where(eq(authSessions.userId, userId));
    return rows.map((row) => ({
      id: row.id,
      userId: row.userId,
      expiresAt: row.expiresAt,
      attributes: { ip: row.ip, userAgent: row.userAgent },
    }));
  }

  async setSession(session: DatabaseSession): Promise<void> {
    await this.db.insert(authSessions).values({
      id: publicSessionId(session.id),
      userId: session.userId,
      expiresAt: session.expiresAt,
      ip: session.attributes.ip,
      userAgent: session.attributes.userAgent,
    });
  }

  async updateSessionExpiration(sessionId: string, expiresAt: Date): Promise<void> {
    await this.db
      .update(authSessions)
      .set({ expiresAt })
      .where(eq(authSessions.id, publicSessionId(sessionId)));
  }

  async deleteSession(sessionId: string): Promise<void> {
    await this.db.delete(authSessions).where(eq(authSessions.id, publicSessionId(sessionId)));
  }

  async deleteUserSessions(userId: string): Promise<void> {
    await this.db.delete(authSessions).where(eq(authSessions.userId, userId));
  }

  // TODO: nothing calls this yet, so expired sessions (and, through them, refresh tokens) and used
  // verification tokens stay in their tables; add a periodic sweep before the first release.
  async deleteExpiredSessions(): Promise<void> {
    await this.db.delete(authSessions).where(lte(authSessions.expiresAt, new Date()));
  }
}

export interface DashboardLuciaOptions {
  cookieName: string;
  secure: boolean;
  domain?: string | undefined;
  sessionTtlSeconds: number;
}

/** The Lucia instance for dashboard sessions: HTTP-only, SameSite=Lax cookies. */
export function createDashboardLucia(db: Database, options: DashboardLuciaOptions) {
  return new Lucia(new DrizzleSessionAdapter(db), {
    sessionExpiresIn: new TimeSpan(options.sessionTtlSeconds, "s"),
    sessionCookie: {
      name: options.cookieName,
      attributes: {
        secure: options.secure,
        sameSite: "lax",
        path: "/",
        ...(options.domain ? { domain: options.domain } : {}),
      },
    },
    getSessionAttributes: (attributes) => attributes,
    getUserAttributes: (attributes) => attributes,
  });
}

export type DashboardLucia = ReturnType<typeof createDashboardLucia>;

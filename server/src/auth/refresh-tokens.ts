import type { Database } from "@viper/db/client";
import { authSessions } from "@viper/db/schema/auth-sessions";
import { refreshTokens } from "@viper/db/schema/refresh-tokens";
import { type PlatformRole, users } from "@viper/db/schema/users";
import type { Logger } from "@viper/shared/logger";
import { and, eq, gt, isNull } from "drizzle-orm";
import { AppError } from "../errors.ts";
import { randomToken, sha256Hex } from "./secrets.ts";

export interface RefreshTokenOptions {
  ttlSeconds: number;
  reuseGraceSeconds: number;
  sessionTtlSeconds: number;
}

export interface IssuedRefreshToken {
  token: string;
  expiresAt: Date;
}

export interface RotatedRefreshToken {
  userId: string;
  sessionId: string;
  role: PlatformRole;
  next: IssuedRefreshToken;
}

type Executor = Pick<Database, "insert">;

/**
 * Refresh tokens for API clients: opaque random strings stored as SHA-256, one family per
 * sign-in. A token works once; the rotation is a single conditional UPDATE, so two requests with
 * one token get one successor between them.
 */
export class RefreshTokens {
  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly options: RefreshTokenOptions,
  ) {}

  /** Starts a family for a new session. */
  issueFirst(
    executor: Executor,
    input: { userId: string; sessionId: string },
  ): Promise<IssuedRefreshToken> {
    return this.insert(executor, { ...input, familyId: crypto.randomUUID(), parentId: null });
  }

  /**
   * Uses a token and returns its successor. A token used before is refused; unless that looks
   * like a race between two requests of the same client, its whole family is revoked too.
   */
  async rotate(token: string): Promise<RotatedRefreshToken> {
    const tokenHash = sha256Hex(token);
    const now = new Date();
    const rotated = await this.db.transaction(async (tx) => {
      const [used] = await tx
        .update(refreshTokens)
        .set({ usedAt: now })
        .where(
          and(
            eq(refreshTokens.tokenHash, tokenHash),
            isNull(refreshTokens.usedAt),
            gt(refreshTokens.expiresAt, now),
          ),
        )
        .returning();
      if (!used) {
        return null;
      }
      const next = await this.insert(tx, { ...used, parentId: used.id });
      return { used, next };
    });
    if (!rotated) {
      return this.refuse(tokenHash, now);
    }
    const owner = await this.extendSession(rotated.used.sessionId, now);
    if (!owner) {
      throw new AppError("REFRESH_TOKEN_INVALID");
    }
    return {
      userId: owner.userId,
      sessionId: rotated.used.sessionId,
      role: owner.role,
      next: rotated.next,
    };
  }

  private async insert(
    executor: Executor,
    input: { userId: string; sessionId: string; familyId: string; parentId: string | null },
  ): Promise<IssuedRefreshToken> {
    const token = randomToken("vprt_");
    const expiresAt = new Date(Date.now() + this.options.ttlSeconds * 1000);
    await executor.insert(refreshTokens).values({
      familyId: input.familyId,
      sessionId: input.sessionId,
      userId: input.userId,
      tokenHash: sha256Hex(token),
      parentId: input.parentId,
      expiresAt,
    });
    return { token, expiresAt };
  }

  /** Slides the session's expiry forward; null when the session or its user may no longer act. */
  private async extendSession(sessionId: string, now: Date) {
    const expiresAt = new Date(now.getTime() + this.options.sessionTtlSeconds * 1000);
    const [session] = await this.db
      .update(authSessions)
      .set({ expiresAt })
      .where(and(eq(authSessions.id, sessionId), gt(authSessions.expiresAt, now)))
      .returning({ userId: authSessions.userId });
    if (!session) {
      return null;
    }
    const [user] = await this.db
      .select({ role: users.role, disabledAt: users.disabledAt })
      .from(users)
      .where(eq(users.id, session.userId));
    return user && !user.disabledAt ? { userId: session.userId, role: user.role } : null;
  }

  private async refuse(tokenHash: string, now: Date): Promise<never> {
    const [token] = await this.db
      .select()
      .from(refreshTokens)
      .where(eq(refreshTokens.tokenHash, tokenHash));
    if (!token?.usedAt) {
      throw new AppError("REFRESH_TOKEN_INVALID");
    }
    const [successor] = await this.db
      .select({ usedAt: refreshTokens.usedAt })
      .from(refreshTokens)
      .where(eq(refreshTokens.parentId, token.id));
    const sinceUseMs = now.getTime() - token.usedAt.getTime();
    // The same client sending one token twice at once: its successor is fresh and unused.
    if (successor && !successor.usedAt && sinceUseMs <= this.options.reuseGraceSeconds * 1000) {
      throw new AppError("REFRESH_TOKEN_INVALID");
    }
    // Deleting the session ends the family (rows cascade) and every access token naming it.
    await this.db.delete(authSessions).where(eq(authSessions.id, token.sessionId));
    this.logger.warn(
      { familyId: token.familyId, userId: token.userId },
      "refresh token reused; family revoked",
    );
    throw new AppError("REFRESH_TOKEN_REUSED");
  }
}

import type { Database } from "@viper/db/client";
import { emailVerificationTokens } from "@viper/db/schema/email-verification-tokens";
import { identities } from "@viper/db/schema/identities";
import { users } from "@viper/db/schema/users";
import { and, eq, gt, isNull } from "drizzle-orm";
import { AppError } from "../errors.ts";
import type { MailSender } from "../mail/mail-sender.ts";
import { verifyEmailMail } from "../mail/messages.ts";
import { isUniqueViolation } from "./accounts.ts";
import { randomToken, sha256Hex } from "./secrets.ts";

export interface EmailVerificationOptions {
  ttlSeconds: number;
  /** The dashboard page that takes `?token=` and calls auth.verifyEmail. */
  verifyPageUrl: string;
}

/**
 * Single-use, expiring links proving that a user reads an address. Only the token's hash is
 * stored; the token itself exists in the mail alone.
 */
export class EmailVerification {
  constructor(
    private readonly db: Database,
    private readonly mail: MailSender,
    private readonly options: EmailVerificationOptions,
  ) {}

  /** Voids the user's open links and mails a new one for `email`. */
  async send(userId: string, email: string): Promise<void> {
    const token = randomToken();
    await this.db.transaction(async (tx) => {
      await tx
        .delete(emailVerificationTokens)
        .where(
          and(eq(emailVerificationTokens.userId, userId), isNull(emailVerificationTokens.usedAt)),
        );
      await tx.insert(emailVerificationTokens).values({
        userId,
        email,
        tokenHash: sha256Hex(token),
        expiresAt: new Date(Date.now() + this.options.ttlSeconds * 1000),
      });
    });
    const link = `${this.options.verifyPageUrl}?token=${encodeURIComponent(token)}`;
    await this.mail.send(verifyEmailMail(email, link, Math.round(this.options.ttlSeconds / 3600)));
  }

  /**
   * Uses a link: the account's email becomes the verified address. Throws
   * VERIFICATION_TOKEN_INVALID for unknown, used or expired links, and EMAIL_TAKEN when another
   * account took the address since the link was sent (the link then stays unused).
   */
  async consume(token: string): Promise<{ userId: string; email: string }> {
    try {
      return await this.db.transaction(async (tx) => {
        const now = new Date();
        const [used] = await tx
          .update(emailVerificationTokens)
          .set({ usedAt: now })
          .where(
            and(
              eq(emailVerificationTokens.tokenHash, sha256Hex(token)),
              isNull(emailVerificationTokens.usedAt),
              gt(emailVerificationTokens.expiresAt, now),
            ),
          )
          .returning();
        if (!used) {
          throw new AppError("VERIFICATION_TOKEN_INVALID");
        }
        await tx
          .update(users)
          .set({ email: used.email, emailVerifiedAt: now, updatedAt: now })
          .where(eq(users.id, used.userId));
        // A password signs in by email, so its identity follows the address.
        await tx
          .update(identities)
          .set({ subject: used.email })
          .where(and(eq(identities.userId, used.userId), eq(identities.provider, "password")));
        return { userId: used.userId, email: used.email };
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new AppError("EMAIL_TAKEN", { cause: error });
      }
      throw error;
    }
  }
}

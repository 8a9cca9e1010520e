import { z } from "zod";
import { commonPasswords } from "./common-passwords.ts";
import { randomToken } from "./secrets.ts";

export const passwordMinLength = 10;
// argon2 cost grows with length; nobody needs more to be safe, and it bounds the work per request.
export const passwordMaxLength = 256;

/** A new password: long enough and not one of the first guesses of an attacker. */
export const newPasswordSchema = z
  .string()
  .min(passwordMinLength, { message: `Use at least ${passwordMinLength} characters.` })
  .max(passwordMaxLength)
  .refine((password) => !commonPasswords.has(password.toLowerCase()), {
    message: "This password is too common; choose another.",
  });

/** A password as typed at sign-in: only bounded, never judged (old rules may have been weaker). */
export const currentPasswordSchema = z.string().min(1).max(passwordMaxLength);

export interface PasswordHasherOptions {
  memoryCostKib: number;
  timeCost: number;
}

/**
 * argon2id through Bun.password. Also keeps a hash of a random password so a sign-in for an
 * unknown email spends the same time as one for a known email.
 */
export class PasswordHasher {
  private dummyHash: Promise<string> | null = null;

  constructor(private readonly options: PasswordHasherOptions) {}

  /** Hashes a password into a self-describing PHC string (algorithm and costs included). */
  hash(password: string): Promise<string> {
    return Bun.password.hash(password, {
      algorithm: "argon2id",
      memoryCost: this.options.memoryCostKib,
      timeCost: this.options.timeCost,
    });
  }

  /** True when the password matches the hash. */
  verify(password: string, hash: string): Promise<boolean> {
    return Bun.password.verify(password, hash);
  }

  /** Spends a verification's time without a real hash; always false. */
  async verifyDummy(password: string): Promise<false> {
    this.dummyHash ??= this.hash(randomToken());
    await Bun.password.verify(password, await this.dummyHash);
    return false;
  }
}

import type { KeyValueStore } from "@viper/shared/store";
import { AppError } from "../errors.ts";
import { sha256Hex } from "./secrets.ts";

export interface SignInLimits {
  maxFailuresPerAccount: number;
  maxFailuresPerIp: number;
  failureWindowMs: number;
  lockMs: number;
}

/**
 * Counts failed sign-ins per account (the email as typed, known or not) and per client IP. When
 * either count reaches its limit inside the window, further attempts on it are refused until the
 * lock expires, even with the right password. Keys hold a hash of the email, not the email.
 */
export class SignInLimiter {
  constructor(
    private readonly store: KeyValueStore,
    private readonly limits: SignInLimits,
  ) {}

  /** Throws SIGN_IN_LOCKED with the seconds to wait when the account or the IP is locked. */
  async assertAllowed(email: string, ip: string | null): Promise<void> {
    for (const subject of subjects(email, ip)) {
      const lockedUntil = await this.store.get(`auth:lock:${subject}`);
      const waitMs = lockedUntil === null ? 0 : Number(lockedUntil) - Date.now();
      if (waitMs > 0) {
        throw new AppError("SIGN_IN_LOCKED", {
          details: { retryAfterSeconds: Math.ceil(waitMs / 1000) },
        });
      }
    }
  }

  /** Records a failure; returns true when it locked the account or the IP. */
  async recordFailure(email: string, ip: string | null): Promise<boolean> {
    let locked = false;
    for (const subject of subjects(email, ip)) {
      const limit = subject.startsWith("ip:")
        ? this.limits.maxFailuresPerIp
        : this.limits.maxFailuresPerAccount;
      const failures = await this.store.incr(`auth:fail:${subject}`, this.limits.failureWindowMs);
      if (failures >= limit) {
        const until = Date.now() + this.limits.lockMs;
        await this.store.set(`auth:lock:${subject}`, String(until), this.limits.lockMs);
        await this.store.del(`auth:fail:${subject}`);
        locked = true;
      }
    }
    return locked;
  }

  /**
   * Clears the account's count after a good password ("ten in a row"). The IP's count stays, so
   * an attacker cannot reset it by signing in to an account of their own now and then.
   */
  async recordSuccess(email: string): Promise<void> {
    await this.store.del(`auth:fail:${accountSubject(email)}`);
  }
}

function accountSubject(email: string): string {
  return `account:${sha256Hex(email)}`;
}

function subjects(email: string, ip: string | null): string[] {
  return ip ? [accountSubject(email), `ip:${ip}`] : [accountSubject(email)];
}

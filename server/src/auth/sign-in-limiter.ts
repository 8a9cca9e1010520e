import type { KeyValueStore } from "@viper/shared/store";
import { AppError } from "../errors.ts";
import { sha256Hex } from "./secrets.ts";

export interface SignInLimits {
  maxFailuresPerAccount: number;
  maxFailuresPerIp: number;
  failureWindowMs: number;
  lockMs: number;
}

/** A password check the limiter let through; settle it once the password was compared. */
export interface SignInAttempt {
  /** The password was right: the account's run of failures starts over, the IP gets its try back. */
  succeeded(): Promise<void>;
  /** The password was wrong (the try stays counted); true when this failure locked something. */
  failed(): Promise<boolean>;
}

/** One counter's share of a reservation: the number it drew, and how to give it back. */
interface Draw {
  subject: string;
  /** Tries counted on the subject, this one included, that did not succeed. */
  count: number;
  limit: number;
  giveBack: () => Promise<void>;
}

/**
 * Limits password checks per account (the email as typed, known or not) and per client IP. A try
 * is counted before its password is compared, so parallel requests cannot all be checked before
 * the first failure lands: each draws a number, and only the first `limit` numbers in a window go
 * through. A success gives its try back; failures stay counted. When a count reaches its limit
 * the subject is locked until the lock expires, even for the right password; with a window
 * longer than the lock, tries past the limit stay refused until the window ends. Keys hold a
 * hash of the email, not the email.
 */
export class SignInLimiter {
  constructor(
    private readonly store: KeyValueStore,
    private readonly limits: SignInLimits,
  ) {}

  /**
   * Reserves one password check for the account and the IP. Throws SIGN_IN_LOCKED with the
   * seconds to wait when either is locked or has no tries left. A reservation never settled (the
   * check itself failed) counts as a failure.
   */
  async reserve(email: string, ip: string | null): Promise<SignInAttempt> {
    const account = accountSubject(email);
    const address = ip ? `ip:${ip}` : null;
    await this.assertNotLocked(address ? [account, address] : [account]);

    // The account first: a refusal for it then leaves the IP's count alone. (A refusal for the
    // IP costs the account the try it drew; only a success gives tries back.)
    const draws = [await this.drawAccount(account)];
    if (address) {
      draws.push(await this.drawAddress(address));
    }
    return {
      succeeded: async () => {
        for (const draw of draws) {
          await draw.giveBack();
        }
      },
      failed: async () => {
        let locked = false;
        for (const draw of draws.filter((each) => each.count >= each.limit)) {
          await this.lock(draw.subject, "renew");
          locked = true;
        }
        return locked;
      },
    };
  }

  private async assertNotLocked(subjects: string[]): Promise<void> {
    for (const subject of subjects) {
      const lockedUntil = await this.store.get(lockKey(subject));
      const waitMs = lockedUntil === null ? 0 : Number(lockedUntil) - Date.now();
      if (waitMs > 0) {
        throw lockedError(waitMs);
      }
    }
  }

  /**
   * The account's counter runs from its first failure for one window; a success deletes it
   * ("ten in a row"). It is not reset when the account locks: parallel tries that drew numbers
   * past the limit must stay refused.
   */
  private async drawAccount(subject: string): Promise<Draw> {
    const key = `auth:fail:${subject}`;
    const count = await this.store.incr(key, this.limits.failureWindowMs);
    const draw = {
      subject,
      count,
      limit: this.limits.maxFailuresPerAccount,
      giveBack: () => this.store.del(key),
    };
    await this.refuseOverLimit(draw);
    return draw;
  }

  /**
   * The IP's tries and given-back tries are counted in fixed windows, so both counters of a
   * window expire together: a success cannot be saved up to pay for failures in a later window,
   * and signing in to an account of one's own now and then does not clear earlier failures.
   */
  private async drawAddress(subject: string): Promise<Draw> {
    const windowMs = this.limits.failureWindowMs;
    const window = Math.floor(Date.now() / windowMs);
    const triesKey = `auth:tries:${subject}:${window}`;
    const givenBackKey = `auth:given-back:${subject}:${window}`;
    const tries = await this.store.incr(triesKey, 2 * windowMs);
    const givenBack = Number((await this.store.get(givenBackKey)) ?? 0);
    const draw = {
      subject,
      count: tries - givenBack,
      limit: this.limits.maxFailuresPerIp,
      giveBack: async () => {
        await this.store.incr(givenBackKey, 2 * windowMs);
      },
    };
    await this.refuseOverLimit(draw);
    return draw;
  }

  private async refuseOverLimit(draw: Draw): Promise<void> {
    if (draw.count > draw.limit) {
      const until = await this.lock(draw.subject, "keep");
      throw lockedError(until - Date.now());
    }
  }

  /**
   * Locks a subject and returns until when. "renew" starts a fresh lock (the failure that reached
   * the limit); "keep" leaves a running one alone (tries refused past the limit).
   */
  private async lock(subject: string, mode: "renew" | "keep"): Promise<number> {
    const until = Date.now() + this.limits.lockMs;
    const key = lockKey(subject);
    if (mode === "renew") {
      await this.store.set(key, String(until), this.limits.lockMs);
      return until;
    }
    if (await this.store.setIfAbsent(key, String(until), this.limits.lockMs)) {
      return until;
    }
    const running = Number((await this.store.get(key)) ?? until);
    return running > Date.now() ? running : until;
  }
}

function lockedError(waitMs: number): AppError {
  return new AppError("SIGN_IN_LOCKED", {
    details: { retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) },
  });
}

function lockKey(subject: string): string {
  return `auth:lock:${subject}`;
}

function accountSubject(email: string): string {
  return `account:${sha256Hex(email)}`;
}

import type { KeyValueStore } from "@viper/shared/store";
import { AppError } from "./errors.ts";

/**
 * Allows `max` hits per key in a fixed window that starts at the first hit; the next one is
 * refused with RATE_LIMITED. For actions that send mail or cost a password hash.
 */
export async function enforceRateLimit(
  store: KeyValueStore,
  key: string,
  max: number,
  windowMs: number,
): Promise<void> {
  const hits = await store.incr(`ratelimit:${key}`, windowMs);
  if (hits > max) {
    // The store cannot tell the window's remaining time; the whole window is the safe answer.
    throw new AppError("RATE_LIMITED", {
      details: { retryAfterSeconds: Math.ceil(windowMs / 1000) },
    });
  }
}

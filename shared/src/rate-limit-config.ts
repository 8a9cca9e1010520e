import type { KeyValueStore } from "./store/index.ts";

/**
 * The contract between the server, whose admin procedure changes the rate limits at run time,
 * and every relay instance, which enforces them: the configuration JSON (the shape of the
 * relay's RATE_LIMITS, see relay/src/rate-limit/config.ts) lives under this store key and
 * replaces each relay's own RATE_LIMITS while it is there; a message on this channel makes the
 * relays read it again at once.
 */
export const rateLimitConfigChannel = "rate-limit-config";

/**
 * Where the configuration in force lives in the shared store.
 * TODO: it lives only there, so a Redis that loses its data sends the relays back to their
 * RATE_LIMITS; move it to a database table (read by the relays at start and on each message)
 * before operators depend on run-time limit changes surviving a Redis restart.
 */
export const rateLimitConfigStoreKey = "relay:rate-limit-config";

/**
 * Puts a rate limit configuration in force on every relay, or with null sends them back to
 * their own RATE_LIMITS. Pass JSON the relay's schema has accepted: a relay keeps its current
 * limits (and logs an error) when it cannot read what it finds. Throws when the store fails.
 */
export async function publishRateLimitConfig(
  store: KeyValueStore,
  json: string | null,
): Promise<void> {
  if (json === null) {
    await store.del(rateLimitConfigStoreKey);
  } else {
    await store.set(rateLimitConfigStoreKey, json);
  }
  await store.publish(rateLimitConfigChannel, json === null ? "cleared" : "set");
}

/** The configuration the admin put in force, as JSON; null when the relays use their own. */
export async function readRateLimitConfig(store: KeyValueStore): Promise<string | null> {
  return store.get(rateLimitConfigStoreKey);
}

import { invalidateKeyHashes } from "@viper/shared/key-invalidation";
import type { Logger } from "@viper/shared/logger";
import type { KeyValueStore } from "@viper/shared/store";
import { describeError } from "../errors.ts";

/** The key hashes a row answers to: its current one and, during a grace period, the previous. */
export function hashesOf(row: { keyHash: string; previousKeyHash: string | null }): string[] {
  return row.previousKeyHash ? [row.keyHash, row.previousKeyHash] : [row.keyHash];
}

/**
 * Tells every relay to drop its cached records of these keys, after the change committed. A
 * store failure is logged and swallowed: the change is in the database, which the relays read
 * again when their cache entries expire (KEY_CACHE_TTL_MS), so the request still succeeds.
 */
export async function publishKeyInvalidations(
  deps: { store: KeyValueStore; logger: Logger },
  keyHashes: string[],
  reason: string,
): Promise<void> {
  if (keyHashes.length === 0) {
    return;
  }
  try {
    await invalidateKeyHashes(deps.store, keyHashes);
    deps.logger.debug({ keys: keyHashes.length, reason }, "key invalidation published");
  } catch (error) {
    deps.logger.warn(
      { keys: keyHashes.length, reason, err: describeError(error) },
      "key invalidation failed",
    );
  }
}

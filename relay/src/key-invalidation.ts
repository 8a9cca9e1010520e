import { invalidateKeyHashes } from "@viper/shared/key-invalidation";
import type { KeyValueStore } from "@viper/shared/store";

// The channel and the store key are the contract with the server, so they come from the one
// shared definition rather than a copy that could drift.
export { keyInvalidatedChannel, keyRecordStoreKey } from "@viper/shared/key-invalidation";

/**
 * Makes every relay instance forget what it cached about a key, so a revocation, expiry change,
 * rule change or project change takes effect on the next request. Call it after the change has
 * committed: it clears the shared entry, then tells the instances to clear theirs.
 */
export async function invalidateKey(store: KeyValueStore, keyHash: string): Promise<void> {
  await invalidateKeyHashes(store, [keyHash]);
}

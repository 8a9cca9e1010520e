import type { KeyValueStore } from "./store/index.ts";

/**
 * The contract between the server, which changes keys, and every relay instance, which caches
 * them: a message on this store channel carries one key hash (SHA-256 hex, as api_keys stores
 * it), and each relay drops what it cached under that hash. relay/src/key-invalidation.ts
 * re-exports these names, so server and relay cannot drift apart.
 */
export const keyInvalidatedChannel = "key-invalidated";

/** Where the relay keeps a key record in the shared store. */
export function keyRecordStoreKey(keyHash: string): string {
  return `relay:key:${keyHash}`;
}

/**
 * Makes every relay forget the given key hashes: deletes the shared entries, then publishes one
 * message per hash. Call it after the database change has committed, or a relay could reload
 * the old row. Throws when the store fails; the relay's cache TTL then bounds the staleness.
 */
export async function invalidateKeyHashes(
  store: KeyValueStore,
  keyHashes: Iterable<string>,
): Promise<void> {
  const unique = [...new Set(keyHashes)];
  await Promise.all(unique.map((keyHash) => store.del(keyRecordStoreKey(keyHash))));
  await Promise.all(unique.map((keyHash) => store.publish(keyInvalidatedChannel, keyHash)));
}

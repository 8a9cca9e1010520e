import type { KeyValueStore } from "./key-value-store.ts";
import { MemoryStore } from "./memory-store.ts";
import { RedisStore } from "./redis-store.ts";

export type { KeyValueStore } from "./key-value-store.ts";
export { MemoryStore } from "./memory-store.ts";
export { RedisStore } from "./redis-store.ts";

/** Redis when a URL is configured, the in-process store otherwise. */
export function createStore(redisUrl: string | undefined, prefix = "vp:"): KeyValueStore {
  return redisUrl ? new RedisStore({ url: redisUrl, prefix }) : new MemoryStore();
}

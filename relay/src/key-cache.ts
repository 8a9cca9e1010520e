import type { Database } from "@viper/db/client";
import type { Logger } from "@viper/shared/logger";
import type { RelayMetrics } from "@viper/shared/metrics/relay-metrics";
import type { KeyValueStore } from "@viper/shared/store";
import { keyInvalidatedChannel, keyRecordStoreKey } from "./key-invalidation.ts";
import { type KeyRecord, loadKeyRecord } from "./key-record.ts";

export interface KeyCacheOptions {
  db: Database;
  store: KeyValueStore;
  logger: Logger;
  /** How long a record may be served from the shared store. */
  ttlMs: number;
  /** Counts hits per layer (viper_cache_lookups_total). */
  metrics?: RelayMetrics;
}

interface LocalEntry {
  record: KeyRecord | null;
  expiresAt: number;
}

// The in-process layer only saves the store round trip on hot keys, so it stays short-lived:
// an invalidation message that gets lost costs at most this long.
const LOCAL_TTL_MS = 5_000;
// A key the database does not know is remembered briefly, so a flood of requests with a
// well-formed but unknown key does not reach the database, and a new key works soon after.
const NEGATIVE_TTL_MS = 5_000;
const LOCAL_MAX_ENTRIES = 10_000;

/** A record as the shared store holds it; `cachedAt` (epoch ms) is when it was read from the db. */
interface SharedEntry {
  record: KeyRecord | null;
  cachedAt: number;
}

/**
 * Key records by key hash, read through two caches: a small in-process map, then the shared
 * store, then the database. A message on the `key-invalidated` channel drops a key from both
 * caches; a reconnect of the store's subscriber (messages may have been lost) empties the local
 * one and stops trusting shared entries cached before it.
 */
export class KeyCache {
  readonly #options: KeyCacheOptions;
  readonly #local = new Map<string, LocalEntry>();
  readonly #loading = new Map<string, Promise<KeyRecord | null>>();
  // Bumped by every invalidation, so a load that started before one does not cache stale data.
  #epoch = 0;
  // Shared entries cached before this instant are read as misses: they may predate an
  // invalidation this process never heard of (see #resync). An entry from a relay whose clock
  // runs ahead may pass for a little longer; the shared TTL still bounds it.
  #trustSince = 0;
  #unsubscribe: (() => Promise<void>) | null = null;
  #stopReconnects: (() => void) | null = null;

  constructor(options: KeyCacheOptions) {
    this.#options = options;
  }

  /** Starts listening for invalidations; resolves once the subscription is live. */
  async listen(): Promise<void> {
    this.#stopReconnects = this.#options.store.onReconnect(() => this.#resync());
    this.#unsubscribe = await this.#options.store.subscribe(keyInvalidatedChannel, (keyHash) => {
      this.invalidate(keyHash);
      void this.#dropShared(keyHash);
    });
  }

  /**
   * The server deletes the shared entry before it publishes, but another relay that read the
   * old row just before the change may write it back after that delete; every relay deleting
   * it again on the message closes that window (the write, if any, went out first).
   */
  async #dropShared(keyHash: string): Promise<void> {
    try {
      await this.#options.store.del(keyRecordStoreKey(keyHash));
    } catch (error) {
      this.#options.logger.warn({ err: error }, "key cache store delete failed");
    }
  }

  /**
   * After the subscriber reconnected: invalidations published while it was away are lost, and
   * a Redis that restarted with its data may still hold records from before them. So forget
   * every local record and read shared entries older than now as misses; the database decides.
   */
  #resync(): void {
    this.#epoch += 1;
    this.#trustSince = Date.now();
    const dropped = this.#local.size;
    this.#local.clear();
    this.#loading.clear();
    this.#options.logger.info({ dropped }, "key cache emptied after the store reconnected");
  }

  /** Drops what this process cached about a key. */
  invalidate(keyHash: string): void {
    this.#epoch += 1;
    this.#local.delete(keyHash);
    this.#loading.delete(keyHash);
  }

  /** The key's record, or null when no key has this hash. */
  async lookup(keyHash: string): Promise<KeyRecord | null> {
    const local = this.#local.get(keyHash);
    if (local && local.expiresAt > Date.now()) {
      this.#options.metrics?.countCacheLookup("key", "hit_local");
      return local.record;
    }
    const pending = this.#loading.get(keyHash);
    if (pending) {
      return pending;
    }
    const loading: Promise<KeyRecord | null> = this.#load(keyHash).finally(() => {
      if (this.#loading.get(keyHash) === loading) {
        this.#loading.delete(keyHash);
      }
    });
    this.#loading.set(keyHash, loading);
    return loading;
  }

  async #load(keyHash: string): Promise<KeyRecord | null> {
    const epoch = this.#epoch;
    const shared = await this.#readShared(keyHash);
    this.#options.metrics?.countCacheLookup("key", shared === undefined ? "miss" : "hit_store");
    if (shared !== undefined) {
      this.#remember(keyHash, shared, epoch);
      return shared.record;
    }
    const entry: SharedEntry = {
      cachedAt: Date.now(),
      record: await loadKeyRecord(this.#options.db, keyHash),
    };
    if (epoch === this.#epoch) {
      await this.#writeShared(keyHash, entry);
    }
    this.#remember(keyHash, entry, epoch);
    return entry.record;
  }

  /** The entry from the store; undefined when the store has none, or none to trust, or fails. */
  async #readShared(keyHash: string): Promise<SharedEntry | undefined> {
    try {
      const text = await this.#options.store.get(keyRecordStoreKey(keyHash));
      if (text === null) {
        return undefined;
      }
      const entry = JSON.parse(text) as Partial<SharedEntry>;
      const { record, cachedAt } = entry;
      const trusted = typeof cachedAt === "number" && cachedAt >= this.#trustSince;
      return trusted && record !== undefined ? { record, cachedAt } : undefined;
    } catch (error) {
      this.#options.logger.warn({ err: error }, "key cache store read failed");
      return undefined;
    }
  }

  async #writeShared(keyHash: string, entry: SharedEntry): Promise<void> {
    try {
      await this.#options.store.set(
        keyRecordStoreKey(keyHash),
        JSON.stringify(entry),
        this.#sharedTtlMs(entry.record),
      );
    } catch (error) {
      this.#options.logger.warn({ err: error }, "key cache store write failed");
    }
  }

  #sharedTtlMs(record: KeyRecord | null): number {
    return record === null ? Math.min(NEGATIVE_TTL_MS, this.#options.ttlMs) : this.#options.ttlMs;
  }

  // A local copy never outlives the shared entry it came from: reading must not extend how long
  // a record read from the database may be served.
  #remember(keyHash: string, entry: SharedEntry, epoch: number): void {
    if (epoch !== this.#epoch) {
      return;
    }
    const localTtlMs = entry.record === null ? NEGATIVE_TTL_MS : LOCAL_TTL_MS;
    const expiresAt = Math.min(
      Date.now() + localTtlMs,
      entry.cachedAt + this.#sharedTtlMs(entry.record),
    );
    this.#local.delete(keyHash);
    this.#local.set(keyHash, { record: entry.record, expiresAt });
    if (this.#local.size > LOCAL_MAX_ENTRIES) {
      const oldest = this.#local.keys().next();
      if (!oldest.done) {
        this.#local.delete(oldest.value);
      }
    }
  }

  /** Stops listening for invalidations. */
  async close(): Promise<void> {
    this.#stopReconnects?.();
    this.#stopReconnects = null;
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = null;
    if (unsubscribe) {
      await unsubscribe().catch(() => undefined);
    }
  }
}

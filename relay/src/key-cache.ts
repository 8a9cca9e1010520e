import type { Database } from "@viper/db/client";
import type { Logger } from "@viper/shared/logger";
import type { KeyValueStore } from "@viper/shared/store";
import { keyInvalidatedChannel, keyRecordStoreKey } from "./key-invalidation.ts";
import { type KeyRecord, loadKeyRecord } from "./key-record.ts";

export interface KeyCacheOptions {
  db: Database;
  store: KeyValueStore;
  logger: Logger;
  /** How long a record may be served from the shared store. */
  ttlMs: number;
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
const NEGATIVE_MARK = "null";

/**
 * Key records by key hash, read through two caches: a small in-process map, then the shared
 * store, then the database. Messages on the `key-invalidated` channel drop a key's local entry.
 */
export class KeyCache {
  readonly #options: KeyCacheOptions;
  readonly #local = new Map<string, LocalEntry>();
  readonly #loading = new Map<string, Promise<KeyRecord | null>>();
  // Bumped by every invalidation, so a load that started before one does not cache stale data.
  #epoch = 0;
  #unsubscribe: (() => Promise<void>) | null = null;

  constructor(options: KeyCacheOptions) {
    this.#options = options;
  }

  /** Starts listening for invalidations; resolves once the subscription is live. */
  async listen(): Promise<void> {
    this.#unsubscribe = await this.#options.store.subscribe(keyInvalidatedChannel, (keyHash) => {
      this.invalidate(keyHash);
    });
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
    if (shared !== undefined) {
      this.#remember(keyHash, shared, epoch);
      return shared;
    }
    const record = await loadKeyRecord(this.#options.db, keyHash);
    if (epoch === this.#epoch) {
      await this.#writeShared(keyHash, record);
    }
    this.#remember(keyHash, record, epoch);
    return record;
  }

  /** The record from the store; undefined when the store has none or cannot be read. */
  async #readShared(keyHash: string): Promise<KeyRecord | null | undefined> {
    try {
      const text = await this.#options.store.get(keyRecordStoreKey(keyHash));
      if (text === null) {
        return undefined;
      }
      return text === NEGATIVE_MARK ? null : (JSON.parse(text) as KeyRecord);
    } catch (error) {
      this.#options.logger.warn({ err: error }, "key cache store read failed");
      return undefined;
    }
  }

  async #writeShared(keyHash: string, record: KeyRecord | null): Promise<void> {
    const text = record === null ? NEGATIVE_MARK : JSON.stringify(record);
    const ttlMs =
      record === null ? Math.min(NEGATIVE_TTL_MS, this.#options.ttlMs) : this.#options.ttlMs;
    try {
      await this.#options.store.set(keyRecordStoreKey(keyHash), text, ttlMs);
    } catch (error) {
      this.#options.logger.warn({ err: error }, "key cache store write failed");
    }
  }

  #remember(keyHash: string, record: KeyRecord | null, epoch: number): void {
    if (epoch !== this.#epoch) {
      return;
    }
    const ttlMs = Math.min(record === null ? NEGATIVE_TTL_MS : LOCAL_TTL_MS, this.#options.ttlMs);
    this.#local.delete(keyHash);
    this.#local.set(keyHash, { record, expiresAt: Date.now() + ttlMs });
    if (this.#local.size > LOCAL_MAX_ENTRIES) {
      const oldest = this.#local.keys().next();
      if (!oldest.done) {
        this.#local.delete(oldest.value);
      }
    }
  }

  /** Stops listening for invalidations. */
  async close(): Promise<void> {
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = null;
    if (unsubscribe) {
      await unsubscribe().catch(() => undefined);
    }
  }
}

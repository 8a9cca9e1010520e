/**
 * The small surface both services need from a cache: Redis in production, an in-process map on
 * one machine. Both implementations must behave the same; one test suite runs on each.
 */
export interface KeyValueStore {
  readonly kind: "redis" | "memory";
  get(key: string): Promise<string | null>;
  /** Sets a value, expiring after ttlMs when given. */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Sets a value only when the key is absent; true when it was set (single-use tokens, nonces). */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Reads and deletes in one step, so two callers never both consume the same value. */
  take(key: string): Promise<string | null>;
  del(key: string): Promise<void>;
  /** Increments a counter, starting its expiry window on the first increment. */
  incr(key: string, ttlMs?: number): Promise<number>;
  publish(channel: string, message: string): Promise<void>;
  /** Subscribes to a channel; the returned function unsubscribes. */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>>;
  /**
   * Calls `listener` each time the store is back after its connection was lost (never on the
   * first connection): before the first command on it is answered, and once more when the
   * subscriptions are live again. Messages published meanwhile are lost and a restarted store
   * may hold old data, so a subscriber that caches on their strength should forget what it
   * cached. Returns a function that stops the calls.
   */
  onReconnect(listener: () => void): () => void;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

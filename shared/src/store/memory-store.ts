import { EventEmitter } from "node:events";
import type { KeyValueStore } from "./key-value-store.ts";

interface Entry {
  value: string;
  expiresAt: number;
}

/**
 * The in-process store for one machine (no REDIS_URL). Expiry is checked on read and swept once
 * a minute so an idle process does not keep dead entries forever.
 */
export class MemoryStore implements KeyValueStore {
  readonly kind = "memory" as const;
  private readonly entries = new Map<string, Entry>();
  private readonly bus = new EventEmitter();
  private readonly sweeper: ReturnType<typeof setInterval>;

  constructor() {
    this.bus.setMaxListeners(0);
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  private read(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) {
        this.entries.delete(key);
      }
    }
  }

  async get(key: string): Promise<string | null> {
    return this.read(key)?.value ?? null;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.entries.set(key, {
      value,
      expiresAt: ttlMs ? Date.now() + ttlMs : Number.POSITIVE_INFINITY,
    });
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.read(key)) {
      return false;
    }
    this.entries.set(key, { value, expiresAt: Date.now() + ttlMs });
    return true;
  }

  async take(key: string): Promise<string | null> {
    const entry = this.read(key);
    this.entries.delete(key);
    return entry?.value ?? null;
  }

  async del(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async incr(key: string, ttlMs?: number): Promise<number> {
    const entry = this.read(key);
    const next = (entry ? Number(entry.value) : 0) + 1;
    const expiresAt = entry?.expiresAt ?? (ttlMs ? Date.now() + ttlMs : Number.POSITIVE_INFINITY);
    this.entries.set(key, { value: String(next), expiresAt });
    return next;
  }

  async publish(channel: string, message: string): Promise<void> {
    this.bus.emit(channel, message);
  }

  async subscribe(channel: string, onMessage: (message: string) => void) {
    this.bus.on(channel, onMessage);
    return async () => {
      this.bus.off(channel, onMessage);
    };
  }

  /** The in-process bus never disconnects, so the listener is never called. */
  onReconnect(_listener: () => void): () => void {
    return () => undefined;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.bus.removeAllListeners();
    this.entries.clear();
  }
}

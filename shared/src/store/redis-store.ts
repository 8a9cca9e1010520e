import { Redis } from "ioredis";
import type { KeyValueStore } from "./key-value-store.ts";

export interface RedisStoreOptions {
  url: string;
  /** Prepended to every key and channel, so tests and tenants do not see each other. */
  prefix?: string;
}

/**
 * The Redis store. Subscriptions need a connection of their own (a subscribed ioredis client
 * accepts no other commands), opened on first use.
 */
export class RedisStore implements KeyValueStore {
  readonly kind = "redis" as const;
  /** The command connection; the rate limiter runs its Lua scripts on it. */
  readonly client: Redis;
  readonly prefix: string;
  private subscriber: Redis | null = null;
  private readonly handlers = new Map<string, Set<(message: string) => void>>();
  private readonly reconnectListeners = new Set<() => void>();

  constructor(options: RedisStoreOptions) {
    this.prefix = options.prefix ?? "";
    this.client = new Redis(options.url, {
      keyPrefix: this.prefix,
      // While Redis is away a command waits for one reconnect attempt, then fails, so callers
      // can fall back instead of hanging.
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      // Commands issued in the same tick go out in one write: under load the relay sends one
      // rate limit script per request, and a socket write each was a quarter of its CPU.
      enableAutoPipelining: true,
    });
    // Errors surface on the commands that fail; without a listener ioredis would print them.
    this.client.on("error", () => undefined);
    // "ready" fires before ioredis sends the commands queued while it was away, so a listener
    // acts before any read of a restarted Redis returns.
    afterReconnects(this.client, () => this.notifyReconnect());
  }

  async get(key: string): Promise<string | null> {
    return this.client.get(key);
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    if (ttlMs) {
      await this.client.set(key, value, "PX", ttlMs);
    } else {
      await this.client.set(key, value);
    }
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    return (await this.client.set(key, value, "PX", ttlMs, "NX")) === "OK";
  }

  async take(key: string): Promise<string | null> {
    return this.client.getdel(key);
  }

  async del(key: string): Promise<void> {
    await this.client.del(key);
  }

  async incr(key: string, ttlMs?: number): Promise<number> {
    if (!ttlMs) {
      return this.client.incr(key);
    }
    // NX: only the first increment starts the window, later ones must not extend it.
    const replies = await this.client.multi().incr(key).pexpire(key, ttlMs, "NX").exec();
    const [error, count] = replies?.[0] ?? [new Error("empty MULTI reply"), 0];
    if (error) {
      throw error;
    }
    return Number(count);
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.client.publish(this.prefix + channel, message);
  }

  async subscribe(channel: string, onMessage: (message: string) => void) {
    const subscriber = await this.ensureSubscriber();
    const name = this.prefix + channel;
    let set = this.handlers.get(name);
    if (!set) {
      set = new Set();
      this.handlers.set(name, set);
      await subscriber.subscribe(name);
    }
    set.add(onMessage);
    return async () => {
      set.delete(onMessage);
      if (set.size === 0) {
        this.handlers.delete(name);
        await subscriber.unsubscribe(name);
      }
    };
  }

  private async ensureSubscriber(): Promise<Redis> {
    if (!this.subscriber) {
      const subscriber = this.client.duplicate({ keyPrefix: "" });
      subscriber.on("error", () => undefined);
      subscriber.on("message", (channel: string, message: string) => {
        for (const handler of this.handlers.get(channel) ?? []) {
          handler(message);
        }
      });
      afterReconnects(subscriber, () => void this.announceReconnect(subscriber));
      this.subscriber = subscriber;
    }
    return this.subscriber;
  }

  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => {
      this.reconnectListeners.delete(listener);
    };
  }

  /** Tells the reconnect listeners once the channels are subscribed again. */
  private async announceReconnect(subscriber: Redis): Promise<void> {
    const channels = [...this.handlers.keys()];
    try {
      // ioredis resubscribes by itself but gives no signal when that is done; subscribing again
      // is harmless, and its reply means the channels are live.
      if (channels.length > 0) {
        await subscriber.subscribe(...channels);
      }
    } catch {
      // The connection dropped again; its next "ready" announces the reconnect.
      return;
    }
    this.notifyReconnect();
  }

  private notifyReconnect(): void {
    for (const listener of this.reconnectListeners) {
      listener();
    }
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.client.ping()) === "PONG";
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
    this.client.disconnect();
  }
}

/** Calls `callback` each time the connection is ready again, but not when it first is. */
function afterReconnects(redis: Redis, callback: () => void): void {
  let readies = 0;
  redis.on("ready", () => {
    readies += 1;
    if (readies > 1) {
      callback();
    }
  });
}

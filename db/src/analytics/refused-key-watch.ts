import type { Logger } from "@viper/shared/logger";
import type { KeyValueStore } from "@viper/shared/store";
import type { Database } from "../client.ts";
import { recordAuditEventSafely } from "./audit-log.ts";

export interface RefusedKeyWatchOptions {
  db: Database;
  store: KeyValueStore;
  logger: Logger;
  /** Refusals from one IP within one window that make a security event. */
  threshold?: number;
  windowMs?: number;
}

/**
 * Counts requests refused for a bad key (unknown, revoked, expired) per client IP in the shared
 * store, so every relay instance adds to the same count. The request that reaches the threshold
 * in a window records one security event; the rest of that window records nothing more. Windows
 * are fixed (aligned to the epoch), so an IP probing steadily gets one event per window.
 */
export class RefusedKeyWatch {
  readonly #db: Database;
  readonly #store: KeyValueStore;
  readonly #logger: Logger;
  readonly #threshold: number;
  readonly #windowMs: number;

  constructor(options: RefusedKeyWatchOptions) {
    this.#db = options.db;
    this.#store = options.store;
    this.#logger = options.logger;
    this.#threshold = options.threshold ?? 20;
    this.#windowMs = options.windowMs ?? 60_000;
  }

  /**
   * Notes one refusal. Never throws and may be left unawaited: a store or database that is away
   * costs the event, not the request.
   */
  async noteRefusal(ip: string | null, reason: string, now: Date = new Date()): Promise<void> {
    if (!ip) {
      return;
    }
    const window = Math.floor(now.getTime() / this.#windowMs);
    let count: number;
    try {
      count = await this.#store.incr(`refused-keys:${ip}:${window}`, this.#windowMs * 2);
    } catch (error) {
      this.#logger.warn({ err: error }, "refused key count not kept");
      return;
    }
    if (count !== this.#threshold) {
      return;
    }
    this.#logger.warn(
      { ip, refusals: count, windowMs: this.#windowMs },
      "many refused keys from one ip",
    );
    await recordAuditEventSafely(
      this.#db,
      {
        action: "relay.refused_keys_from_ip",
        targetType: "ip",
        targetId: ip,
        ip,
        details: {
          refusals: count,
          windowSeconds: this.#windowMs / 1000,
          windowStart: new Date(window * this.#windowMs).toISOString(),
          lastReason: reason,
        },
      },
      this.#logger,
    );
  }
}

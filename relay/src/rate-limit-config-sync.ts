import type { Logger } from "@viper/shared/logger";
import { rateLimitConfigChannel, readRateLimitConfig } from "@viper/shared/rate-limit-config";
import type { KeyValueStore } from "@viper/shared/store";
import { parseRateLimitConfig, type RateLimitConfig } from "./rate-limit/config.ts";
import type { LimitPolicy } from "./rate-limit/policy.ts";

export interface RateLimitConfigSyncOptions {
  store: KeyValueStore;
  policy: LimitPolicy;
  /** The relay's own configuration (RATE_LIMITS), in force while the store holds none. */
  baseline: RateLimitConfig;
  logger: Logger;
  /**
   * How often the store is read besides the messages: a message lost while the subscription
   * reconnects is made up for within this time.
   */
  pollIntervalMs?: number;
}

/**
 * Keeps the limit policy in step with the configuration an admin put in the shared store
 * (@viper/shared/rate-limit-config): read at start, again on every message of the
 * `rate-limit-config` channel, and on a slow poll. Only the policy's settings change at run
 * time (tiers, default tier, burst, costs); how the limiter treats a Redis outage and the event
 * window are fixed when the relay starts.
 */
export class RateLimitConfigSync {
  readonly #options: RateLimitConfigSyncOptions;
  #unsubscribe: (() => Promise<void>) | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  /** The store's text now in force; null while the baseline is. */
  #applied: string | null = null;
  /** The last text that failed to parse, so it is reported once rather than on every poll. */
  #rejected: string | null = null;
  #reading: Promise<void> | null = null;
  #again = false;

  constructor(options: RateLimitConfigSyncOptions) {
    this.#options = options;
  }

  /** Subscribes, reads the store once, and starts the poll; resolves once the first read is done. */
  async start(): Promise<void> {
    try {
      this.#unsubscribe = await this.#options.store.subscribe(rateLimitConfigChannel, () => {
        void this.refresh();
      });
    } catch (error) {
      this.#options.logger.warn({ err: error }, "rate limit config subscription failed");
    }
    this.#timer = setInterval(() => void this.refresh(), this.#options.pollIntervalMs ?? 10_000);
    this.#timer.unref();
    await this.refresh();
  }

  /**
   * Reads the store and puts what it holds in force. Calls during a read run once more after
   * it, so a message that arrives mid-read is never answered with the older text.
   */
  refresh(): Promise<void> {
    if (this.#reading) {
      this.#again = true;
      return this.#reading;
    }
    this.#reading = (async () => {
      do {
        this.#again = false;
        await this.#readOnce();
      } while (this.#again);
    })().finally(() => {
      this.#reading = null;
    });
    return this.#reading;
  }

  async #readOnce(): Promise<void> {
    const { store, policy, baseline, logger } = this.#options;
    let text: string | null;
    try {
      text = await readRateLimitConfig(store);
    } catch (error) {
      logger.warn({ err: error }, "rate limit config read failed, keeping the limits in force");
      return;
    }
    if (text === this.#applied || (text !== null && text === this.#rejected)) {
      return;
    }
    if (text === null) {
      policy.replace(baseline);
      this.#applied = null;
      logger.info("rate limit config back to the relay's own");
      return;
    }
    try {
      policy.replace(parseRateLimitConfig(text));
      this.#applied = text;
      this.#rejected = null;
      logger.info("rate limit config from the store in force");
    } catch (error) {
      this.#rejected = text;
      logger.error(
        { err: error },
        "rate limit config in the store is invalid, keeping the limits in force",
      );
    }
  }

  /** Stops the poll and the subscription. */
  async close(): Promise<void> {
    if (this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = null;
    if (unsubscribe) {
      await unsubscribe().catch(() => undefined);
    }
    await this.#reading;
  }
}

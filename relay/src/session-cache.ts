import type { Logger } from "@viper/shared/logger";
import type { RelayMetrics } from "@viper/shared/metrics/relay-metrics";
import type { DispatchResponse } from "@viper/shared/protocol";
import { dispatchResponseSchema, latestSessionHeight } from "@viper/shared/protocol";
import type { KeyValueStore } from "@viper/shared/store";
import type { DispatcherClient } from "./dispatcher-client.ts";
import type { ServicerHealth } from "./servicer-health.ts";

export interface SessionCacheOptions {
  dispatcher: DispatcherClient;
  store: KeyValueStore;
  logger: Logger;
  requestorPublicKey: string;
  numServicers: number;
  blocksPerSession: number;
  /** How often the chain height is polled to notice that a session ended. */
  pollIntervalMs: number;
  /** Counts dispatches (viper_session_refreshes_total). */
  metrics?: RelayMetrics;
}

// Sessions are checked against the chain height before use, so the store entry only needs to
// outlive a session by a comfortable margin.
const STORE_TTL_MS = 10 * 60_000;

/**
 * The current Viper session per (chain, zone), shared by every request of this process and,
 * through the store, by other relay instances. Polling the height tells when a session ends so
 * the next one is dispatched before requests need it; a relay error carrying a newer session
 * replaces the cached one at once.
 */
export class SessionCache {
  readonly #options: SessionCacheOptions;
  readonly #sessions = new Map<string, DispatchResponse>();
  readonly #dispatching = new Map<string, Promise<DispatchResponse>>();
  #height = 0;
  #heightLoading: Promise<void> | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  constructor(options: SessionCacheOptions) {
    this.#options = options;
  }

  /** The latest Viper height this process knows of (0 before the first answer). */
  get latestHeight(): number {
    return this.#height;
  }

  /** Records a height seen anywhere (poll, dispatch answer); heights only move forward. */
  noteHeight(height: number): void {
    if (height > this.#height) {
      this.#height = height;
    }
  }

  /** The session to relay on now. Throws DispatcherError when none can be had. */
  async current(chain: string, zone: string): Promise<DispatchResponse> {
    this.#startPolling();
    if (this.#height === 0) {
      await this.#loadHeight();
    }
    const key = this.#key(chain, zone);
    const local = this.#sessions.get(key);
    if (local && this.#isCurrent(local)) {
      return local;
    }
    const shared = await this.#readShared(key);
    if (shared && this.#isCurrent(shared) && shared.session.servicers.length > 0) {
      this.#adopt(key, shared);
      return shared;
    }
    try {
      return await this.#dispatch(chain, zone);
    } catch (error) {
      if (local) {
        this.#options.logger.warn(
          { err: error, chain, zone },
          "dispatch failed, using old session",
        );
        return local;
      }
      throw error;
    }
  }

  /** Takes a session a servicer sent back because ours moved on. */
  replace(chain: string, zone: string, dispatch: DispatchResponse): void {
    const key = this.#key(chain, zone);
    const cached = this.#sessions.get(key);
    this.noteHeight(dispatch.block_height);
    if (cached && cached.session.header.session_height > dispatch.session.header.session_height) {
      return;
    }
    this.#adopt(key, dispatch);
    this.#writeShared(key, dispatch);
  }

  #key(chain: string, zone: string): string {
    const { requestorPublicKey, numServicers } = this.#options;
    return `relay:session:${requestorPublicKey}:${chain}:${zone}:${numServicers}`;
  }

  #isCurrent(dispatch: DispatchResponse): boolean {
    const height = Math.max(this.#height, dispatch.block_height);
    if (height < 1) {
      return true;
    }
    const expected = latestSessionHeight(height, this.#options.blocksPerSession);
    return dispatch.session.header.session_height === expected;
  }

  #adopt(key: string, dispatch: DispatchResponse): void {
    this.noteHeight(dispatch.block_height);
    this.#sessions.set(key, dispatch);
  }

  #dispatch(chain: string, zone: string): Promise<DispatchResponse> {
    const key = this.#key(chain, zone);
    const pending = this.#dispatching.get(key);
    if (pending) {
      return pending;
    }
    const metrics = this.#options.metrics;
    const work = this.#fetchSession(key, chain, zone)
      .then(
        (dispatch) => {
          metrics?.countSessionRefresh(chain, "ok");
          return dispatch;
        },
        (error: unknown) => {
          metrics?.countSessionRefresh(chain, "error");
          throw error;
        },
      )
      .finally(() => this.#dispatching.delete(key));
    this.#dispatching.set(key, work);
    return work;
  }

  async #fetchSession(key: string, chain: string, zone: string): Promise<DispatchResponse> {
    const { requestorPublicKey, numServicers, blocksPerSession } = this.#options;
    const dispatch = await this.#options.dispatcher.dispatch({
      requestor_public_key: requestorPublicKey,
      chain,
      zone,
      num_servicers: numServicers,
      session_height: this.#height > 0 ? latestSessionHeight(this.#height, blocksPerSession) : 0,
    });
    this.#options.logger.debug(
      {
        chain,
        zone,
        sessionHeight: dispatch.session.header.session_height,
        servicers: dispatch.session.servicers.length,
      },
      "session dispatched",
    );
    if (dispatch.session.servicers.length > 0) {
      this.#adopt(key, dispatch);
      this.#writeShared(key, dispatch);
    }
    return dispatch;
  }

  async #readShared(key: string): Promise<DispatchResponse | null> {
    try {
      const text = await this.#options.store.get(key);
      return text === null ? null : dispatchResponseSchema.parse(JSON.parse(text));
    } catch (error) {
      this.#options.logger.warn({ err: error }, "session store read failed");
      return null;
    }
  }

  #writeShared(key: string, dispatch: DispatchResponse): void {
    this.#options.store.set(key, JSON.stringify(dispatch), STORE_TTL_MS).catch((error: unknown) => {
      this.#options.logger.warn({ err: error }, "session store write failed");
    });
  }

  /** Asks a dispatcher for the height now (after a servicer refused our view of it). */
  refreshHeight(): Promise<void> {
    return this.#loadHeight();
  }

  #loadHeight(): Promise<void> {
    if (!this.#heightLoading) {
      this.#heightLoading = this.#options.dispatcher
        .height()
        .then((height) => this.noteHeight(height))
        .catch((error: unknown) => {
          this.#options.logger.warn({ err: error }, "height query failed");
        })
        .finally(() => {
          this.#heightLoading = null;
        });
    }
    return this.#heightLoading;
  }

  #startPolling(): void {
    if (this.#timer === null && !this.#closed) {
      this.#schedule(this.#options.pollIntervalMs);
    }
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#poll().finally(() => {
        if (!this.#closed) {
          this.#schedule(this.#nextPollDelay());
        }
      });
    }, delayMs);
    this.#timer.unref();
  }

  /** Reads the height and re-dispatches every cached session that has ended. */
  async #poll(): Promise<void> {
    await this.#loadHeight();
    for (const [key, dispatch] of this.#sessions) {
      if (!this.#isCurrent(dispatch)) {
        const { chain, zone } = dispatch.session.header;
        this.#dispatch(chain, zone).catch((error: unknown) => {
          this.#options.logger.warn({ err: error, key }, "session refresh failed");
        });
      }
    }
  }

  /** Polls faster while a cached session is on its last block, so the switch is prompt. */
  #nextPollDelay(): number {
    const { pollIntervalMs, blocksPerSession } = this.#options;
    for (const dispatch of this.#sessions.values()) {
      const lastBlock = dispatch.session.header.session_height + blocksPerSession - 1;
      if (this.#height >= lastBlock) {
        return Math.max(50, Math.floor(pollIntervalMs / 4));
      }
    }
    return pollIntervalMs;
  }

  /** Per chain, the servicers of its cached sessions that `health` would pick now (metrics). */
  healthyServicers(health: ServicerHealth): Map<string, number> {
    const counts = new Map<string, number>();
    for (const dispatch of this.#sessions.values()) {
      const chain = dispatch.session.header.chain;
      const healthy = dispatch.session.servicers.filter((node) => !health.isCooling(node)).length;
      counts.set(chain, (counts.get(chain) ?? 0) + healthy);
    }
    return counts;
  }

  /** Stops polling. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }
}

import type { Logger } from "@viper/shared/logger";
import type { RelayMetrics } from "@viper/shared/metrics/relay-metrics";
import type { Aat, DispatchResponse, KeyPair, ViperNode } from "@viper/shared/protocol";
import { DispatcherError } from "./dispatcher-client.ts";
import { type PortalErrorName, RelayError } from "./errors.ts";
import type { PlainUpstreams } from "./plain-upstreams.ts";
import { callServicer } from "./servicer-call.ts";
import type { ServicerHealth } from "./servicer-health.ts";
import type { SessionCache } from "./session-cache.ts";

export interface RelayerOptions {
  sessions: SessionCache;
  health: ServicerHealth;
  aat: Aat;
  client: KeyPair;
  servicerTimeoutMs: number;
  /** Counts attempts per servicer (viper_servicer_attempts_total). */
  metrics?: RelayMetrics;
  /** Chains also served by plain JSON-RPC endpoints (RELAY_PLAIN_UPSTREAMS). */
  plain?: PlainUpstreams;
}

/** One dApp request to relay. */
export interface RelayJob {
  chain: string;
  zone: string;
  /** The dApp's body, sent as payload.data unchanged. */
  data: string;
  /** Epoch ms by which the answer must be back, retries included. */
  deadline: number;
  logger: Logger;
}

/** A verified answer and who gave it. */
export interface RelayOutcome {
  response: string;
  servicerAddress: string;
  attempts: number;
}

// A servicer may hand us a newer session at most this many times per request; past that the
// network is in flux and trying on is unlikely to help before the deadline.
const MAX_SESSION_SWITCHES = 2;

// Viper failures after which a chain with plain endpoints is served by them instead.
const plainFallbacks = new Set<PortalErrorName>(["servicers_failed", "session_unavailable"]);
// After Viper had no session for a chain that has plain endpoints, requests go straight to them
// for this long: a chain Viper does not serve costs one dispatch per period, not one per request.
// A dispatcher that fails is asked again sooner, since the chain may well be on Viper.
const NO_SESSION_PLAIN_MS = 30_000;
const DISPATCH_FAILED_PLAIN_MS = 5_000;

/**
 * Relays a request to the servicers of the current session: tries the healthiest servicer
 * first, moves on to another after a failure, timeout or bad signature, and gives up when every
 * servicer failed (servicers_failed) or the deadline passed (deadline_exceeded). A chain with
 * plain endpoints goes to them when Viper has no session for it (a chain Viper does not serve,
 * or no dispatcher answers) and when every servicer failed; `servicerAddress` is then
 * `plain:<index>`.
 */
export class Relayer {
  readonly #options: RelayerOptions;
  /** Per chain and zone, until when requests skip Viper and go to the plain endpoints. */
  readonly #plainUntil = new Map<string, number>();

  constructor(options: RelayerOptions) {
    this.#options = options;
  }

  async send(job: RelayJob): Promise<RelayOutcome> {
    const plain = this.#options.plain;
    if (plain === undefined || !plain.serves(job.chain)) {
      return this.#sendViper(job);
    }
    const routeKey = `${job.chain}:${job.zone}`;
    if ((this.#plainUntil.get(routeKey) ?? 0) > Date.now()) {
      return plain.send(job.chain, job.data, job.deadline);
    }
    try {
      return await this.#sendViper(job);
    } catch (error) {
      if (!(error instanceof RelayError && plainFallbacks.has(error.errorName))) {
        throw error;
      }
      this.#notePlainFallback(job, routeKey, error);
      return plain.send(job.chain, job.data, job.deadline);
    }
  }

  #notePlainFallback(job: RelayJob, routeKey: string, error: RelayError): void {
    if (error.errorName === "servicers_failed") {
      job.logger.warn(
        { chain: job.chain },
        "every servicer failed, falling back to plain upstreams",
      );
      return;
    }
    const dispatchFailed = error.cause instanceof DispatcherError;
    const period = dispatchFailed ? DISPATCH_FAILED_PLAIN_MS : NO_SESSION_PLAIN_MS;
    const alreadyNoted = (this.#plainUntil.get(routeKey) ?? 0) > Date.now();
    this.#plainUntil.set(routeKey, Date.now() + period);
    if (alreadyNoted) {
      // Requests that were already asking Viper when another noted the same: one line is enough.
      return;
    }
    const fields = { chain: job.chain, zone: job.zone, forMs: period };
    if (dispatchFailed) {
      job.logger.warn({ ...fields, err: error.cause }, "no Viper session, using plain upstreams");
    } else {
      job.logger.info(fields, "Viper has no servicers for this chain, using plain upstreams");
    }
  }

  async #sendViper(job: RelayJob): Promise<RelayOutcome> {
    let dispatch = await this.#session(job);
    const failed = new Set<string>();
    let attempts = 0;
    let switches = 0;
    for (;;) {
      const remaining = job.deadline - Date.now();
      if (remaining <= 0) {
        throw new RelayError("deadline_exceeded");
      }
      const candidates = dispatch.session.servicers.filter((node) => !failed.has(node.public_key));
      const servicer = this.#options.health.choose(candidates);
      if (servicer === null) {
        throw new RelayError("servicers_failed");
      }
      attempts += 1;
      const started = Date.now();
      const result = await callServicer(servicer, {
        data: job.data,
        chain: job.chain,
        zone: job.zone,
        dispatch,
        blockHeight: Math.max(this.#options.sessions.latestHeight, dispatch.block_height),
        aat: this.#options.aat,
        client: this.#options.client,
        timeoutMs: Math.min(this.#options.servicerTimeoutMs, remaining),
      });
      this.#options.metrics?.observeServicer({
        chain: job.chain,
        servicer: servicer.address,
        outcome: result.kind === "failed" ? result.reason : result.kind,
        latencyMs: Date.now() - started,
      });
      if (result.kind === "ok") {
        this.#options.health.recordSuccess(servicer, Date.now() - started);
        return { response: result.response, servicerAddress: servicer.address, attempts };
      }
      if (result.kind === "new_session" && switches < MAX_SESSION_SWITCHES) {
        switches += 1;
        this.#options.sessions.replace(job.chain, job.zone, result.dispatch);
        dispatch = result.dispatch;
        job.logger.debug(
          { sessionHeight: dispatch.session.header.session_height },
          "session moved on",
        );
        continue;
      }
      failed.add(servicer.public_key);
      this.#logFailure(job, servicer, result.kind === "failed" ? result : null, attempts);
      if (result.kind === "failed" && result.reason === "refused") {
        // A refusal is the servicer judging our relay (most often a stale meta.block_height),
        // not the servicer failing: catch up with the chain before the next servicer sees it.
        await this.#options.sessions.refreshHeight();
      } else {
        this.#options.health.recordFailure(servicer);
      }
    }
  }

  async #session(job: RelayJob): Promise<DispatchResponse> {
    let dispatch: DispatchResponse;
    try {
      dispatch = await this.#options.sessions.current(job.chain, job.zone);
    } catch (error) {
      if (error instanceof DispatcherError) {
        throw new RelayError("session_unavailable", { cause: error });
      }
      throw error;
    }
    if (dispatch.session.servicers.length === 0) {
      throw new RelayError("session_unavailable", { detail: "the session has no servicers" });
    }
    return dispatch;
  }

  #logFailure(
    job: RelayJob,
    servicer: ViperNode,
    failure: { reason: string; refusalCode?: number } | null,
    attempt: number,
  ): void {
    job.logger.warn(
      {
        servicer: servicer.address,
        reason: failure?.reason ?? "session_switch_limit",
        refusalCode: failure?.refusalCode,
        attempt,
      },
      "servicer attempt failed, retrying on another",
    );
  }
}

import type { RelayMetrics } from "@viper/shared/metrics/relay-metrics";
import { RelayError } from "./errors.ts";

/** Plain JSON-RPC endpoints per Viper chain id (RELAY_PLAIN_UPSTREAMS), in order of the list. */
export type PlainUpstreamMap = Readonly<Record<string, readonly string[]>>;

export interface PlainUpstreamsOptions {
  upstreams: PlainUpstreamMap;
  /** One attempt on one endpoint, as for a servicer. */
  timeoutMs: number;
  /** Counts attempts (viper_servicer_attempts_total, servicer `plain:<index>`). */
  metrics?: RelayMetrics;
}

/** An answer from a plain endpoint and which one gave it. */
export interface PlainOutcome {
  response: string;
  /** `plain:<index>` into the chain's list: what logs and metrics name it by, never its URL. */
  servicerAddress: string;
  attempts: number;
}

// An endpoint that failed is tried after the others for this long, so a dead one costs one
// timeout now and then instead of one per request.
const COOL_DOWN_MS = 2_000;

/**
 * Relays to a chain's plain JSON-RPC endpoints: each request starts at the next endpoint in
 * turn (spreading load), moves on after a failure (no answer, a timeout, a status other than
 * 2xx), and gives up when each was tried once (servicers_failed) or the deadline passed
 * (deadline_exceeded). The answer is the endpoint's body, untouched.
 */
export class PlainUpstreams {
  readonly #urls: ReadonlyMap<string, readonly string[]>;
  readonly #timeoutMs: number;
  readonly #metrics: RelayMetrics | undefined;
  readonly #coolingUntil = new Map<string, number>();
  #turn = 0;

  constructor(options: PlainUpstreamsOptions) {
    this.#urls = new Map(Object.entries(options.upstreams).filter(([, urls]) => urls.length > 0));
    this.#timeoutMs = options.timeoutMs;
    this.#metrics = options.metrics;
  }

  /** True when the chain has plain endpoints. */
  serves(chain: string): boolean {
    return this.#urls.has(chain);
  }

  /** Sends the dApp's body to the chain's endpoints until one answers. */
  async send(chain: string, data: string, deadline: number): Promise<PlainOutcome> {
    const urls = this.#urls.get(chain);
    if (urls === undefined) {
      throw new RelayError("servicers_failed", { detail: `no plain upstream for chain ${chain}` });
    }
    const order = this.#order(chain, urls.length);
    let attempts = 0;
    for (const index of order) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new RelayError("deadline_exceeded");
      }
      const url = urls[index] ?? "";
      attempts += 1;
      const started = Date.now();
      const result = await post(url, data, Math.min(this.#timeoutMs, remaining));
      const servicerAddress = `plain:${index}`;
      this.#metrics?.observeServicer({
        chain,
        servicer: servicerAddress,
        outcome: typeof result === "string" ? "ok" : result.failure,
        latencyMs: Date.now() - started,
      });
      if (typeof result === "string") {
        this.#coolingUntil.delete(url);
        return { response: result, servicerAddress, attempts };
      }
      this.#coolingUntil.set(url, Date.now() + COOL_DOWN_MS);
    }
    throw new RelayError("servicers_failed", { detail: "every plain upstream failed" });
  }

  /** Indexes to try: round robin from the next start, endpoints cooling down moved last. */
  #order(chain: string, count: number): number[] {
    const start = this.#turn % count;
    this.#turn = (this.#turn + 1) % 1_000_000;
    const urls = this.#urls.get(chain) ?? [];
    const now = Date.now();
    const ready: number[] = [];
    const cooling: number[] = [];
    for (let step = 0; step < count; step++) {
      const index = (start + step) % count;
      const until = this.#coolingUntil.get(urls[index] ?? "") ?? 0;
      (until > now ? cooling : ready).push(index);
    }
    return ready.concat(cooling);
  }
}

/** One attempt: the body text on a 2xx answer, or why it failed. */
async function post(
  url: string,
  data: string,
  timeoutMs: number,
): Promise<string | { failure: "timeout" | "unreachable" | "http_error" }> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: data,
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status < 200 || response.status > 299) {
      await response.body?.cancel();
      return { failure: "http_error" };
    }
    return await response.text();
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    return { failure: timedOut ? "timeout" : "unreachable" };
  }
}

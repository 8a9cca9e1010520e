import { Counter, Histogram, type Registry } from "prom-client";
import { createMetricsRegistry } from "./registry.ts";

const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * The dashboard server's metrics, on a registry of its own. Procedure names come from the
 * router's own list, so a made-up path cannot add series ("unknown" stands for all of them).
 */
export class ServerMetrics {
  readonly registry: Registry;
  #knownProcedures: ReadonlySet<string> = new Set();
  readonly #requests: Counter<"procedure" | "code">;
  readonly #duration: Histogram<"procedure">;
  readonly #signIns: Counter<"method" | "outcome">;

  constructor(registry: Registry = createMetricsRegistry("server")) {
    this.registry = registry;
    const registers = [registry];
    this.#requests = new Counter({
      name: "viper_server_requests_total",
      help: "API procedure calls by procedure and result code (OK or the tRPC error code).",
      labelNames: ["procedure", "code"],
      registers,
    });
    this.#duration = new Histogram({
      name: "viper_server_request_duration_seconds",
      help: "Time to run one procedure call.",
      labelNames: ["procedure"],
      buckets: durationBuckets,
      registers,
    });
    this.#signIns = new Counter({
      name: "viper_sign_ins_total",
      help: "Sign-in attempts by method (password, google, wallet, web3auth) and outcome.",
      labelNames: ["method", "outcome"],
      registers,
    });
  }

  /** Sets the procedure names that get a series of their own (the router's paths). */
  knowProcedures(names: Iterable<string>): void {
    this.#knownProcedures = new Set(names);
  }

  /** One procedure call; `code` is "OK" or the tRPC error code. */
  observeProcedure(call: { procedure: string; code: string; durationMs: number }): void {
    const procedure = this.#knownProcedures.has(call.procedure) ? call.procedure : "unknown";
    this.#requests.inc({ procedure, code: call.code });
    this.#duration.observe({ procedure }, call.durationMs / 1000);
  }

  /** `outcome`: success, failure (wrong credentials), locked, or error. */
  countSignIn(method: string, outcome: string): void {
    this.#signIns.inc({ method, outcome });
  }
}

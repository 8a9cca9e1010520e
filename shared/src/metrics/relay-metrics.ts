import { Counter, Gauge, type Registry } from "prom-client";
import { LabelledCounter, LabelledHistogram } from "./labelled-series.ts";
import { methodClassOf } from "./method-class.ts";
import { createMetricsRegistry } from "./registry.ts";

/** Seconds; from a cached answer to a slow servicer near the deadline. */
const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What the relay log writer reports (see DurableRelayLogWriter.stats). */
export interface LogWriterSnapshot {
  buffered: number;
  spooled: number;
  written: number;
  failedWrites: number;
  dropped: number;
  /** Rows the database refused for their content, set aside instead of retried. */
  deadLettered?: number;
}

/** How the relay's database answers, read on each scrape. */
export interface DatabaseProbe {
  kind: "postgres" | "pglite";
  poolSize: number;
  ping(): Promise<boolean>;
}

/**
 * The relay's metrics, on a registry of its own. Labels are bounded sets: chain ids the portal
 * serves ("unknown" before the chain is resolved), the portal's status names, method classes and
 * servicer addresses of the staked set. Gauges that mirror other objects read them on scrape.
 */
export class RelayMetrics {
  readonly registry: Registry;
  readonly #relays: LabelledCounter<"chain" | "status" | "method_class">;
  readonly #relayDuration: LabelledHistogram<"chain" | "method_class">;
  readonly #servicerAttempts: LabelledCounter<"chain" | "servicer" | "outcome">;
  readonly #servicerDuration: LabelledHistogram<"chain" | "outcome">;
  readonly #sessionRefreshes: LabelledCounter<"chain" | "outcome">;
  readonly #cacheLookups: LabelledCounter<"cache" | "result">;
  readonly #limiterDecisions: LabelledCounter<"decision">;
  #healthSource: (() => Map<string, number>) | null = null;

  constructor(registry: Registry = createMetricsRegistry("relay")) {
    this.registry = registry;
    const registers = [registry];
    this.#relays = new LabelledCounter({
      name: "viper_relay_requests_total",
      help: "Requests answered by the relay, by chain, portal status and method class.",
      labelNames: ["chain", "status", "method_class"],
      registry,
    });
    this.#relayDuration = new LabelledHistogram({
      name: "viper_relay_request_duration_seconds",
      help: "Time from receiving a request to answering it.",
      labelNames: ["chain", "method_class"],
      buckets: latencyBuckets,
      registry,
    });
    this.#servicerAttempts = new LabelledCounter({
      name: "viper_servicer_attempts_total",
      help: "Relays sent to servicers, by outcome (ok, or why the attempt failed).",
      labelNames: ["chain", "servicer", "outcome"],
      registry,
    });
    this.#servicerDuration = new LabelledHistogram({
      name: "viper_servicer_attempt_duration_seconds",
      help: "Time one servicer took to answer one relay.",
      labelNames: ["chain", "outcome"],
      buckets: latencyBuckets,
      registry,
    });
    this.#sessionRefreshes = new LabelledCounter({
      name: "viper_session_refreshes_total",
      help: "Dispatches for a new session, by outcome.",
      labelNames: ["chain", "outcome"],
      registry,
    });
    this.#cacheLookups = new LabelledCounter({
      name: "viper_cache_lookups_total",
      help: "Cache lookups by cache (key, session, chain) and result (hit_local, hit_store, miss).",
      labelNames: ["cache", "result"],
      registry,
    });
    this.#limiterDecisions = new LabelledCounter({
      name: "viper_rate_limit_decisions_total",
      help: "Rate limiter decisions: allowed, bypassed (internal keys), or the refusal's name.",
      labelNames: ["decision"],
      registry,
    });
    const source = () => this.#healthSource;
    new Gauge({
      name: "viper_servicers_healthy",
      help: "Servicers of the current sessions the relay would pick now, per chain.",
      labelNames: ["chain"],
      registers,
      collect() {
        const read = source();
        if (read === null) {
          return;
        }
        this.reset();
        for (const [chain, count] of read()) {
          this.set({ chain }, count);
        }
      },
    });
  }

  /** One answered request, whatever its outcome. */
  observeRelay(relay: {
    chain: string | null;
    status: string;
    method: string | null;
    latencyMs: number;
  }): void {
    const chain = relay.chain ?? "unknown";
    const methodClass = methodClassOf(relay.method);
    this.#relays.inc([chain, relay.status, methodClass]);
    this.#relayDuration.observe([chain, methodClass], relay.latencyMs / 1000);
  }

  /** One attempt on one servicer; `outcome` is "ok" or the failure's short name. */
  observeServicer(attempt: {
    chain: string;
    servicer: string;
    outcome: string;
    latencyMs: number;
  }): void {
    this.#servicerAttempts.inc([attempt.chain, attempt.servicer, attempt.outcome]);
    this.#servicerDuration.observe([attempt.chain, attempt.outcome], attempt.latencyMs / 1000);
  }

  countSessionRefresh(chain: string, outcome: "ok" | "error"): void {
    this.#sessionRefreshes.inc([chain, outcome]);
  }

  countCacheLookup(cache: "key" | "session" | "chain", result: string): void {
    this.#cacheLookups.inc([cache, result]);
  }

  /** `decision`: allowed, bypassed, or the portal error of the refusal (rate_limited...). */
  countLimiterDecision(decision: string): void {
    this.#limiterDecisions.inc([decision]);
  }

  /** Reports healthy servicers per chain from `read`, called on each scrape. */
  watchServicerHealth(read: () => Map<string, number>): void {
    this.#healthSource = read;
  }

  /** Reports the relay log writer's buffer, spool and counters on each scrape. */
  watchLogWriter(read: () => LogWriterSnapshot): void {
    const registers = [this.registry];
    const gauge = (name: string, help: string, value: (stats: LogWriterSnapshot) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(value(read()));
        },
      });
    // The writer keeps running totals; a counter follows them by the difference since last read.
    const counter = (name: string, help: string, value: (stats: LogWriterSnapshot) => number) => {
      let seen = 0;
      return new Counter({
        name,
        help,
        registers,
        collect() {
          const total = value(read());
          if (total > seen) {
            this.inc(total - seen);
            seen = total;
          }
        },
      });
    };
    gauge("viper_relay_log_buffer_rows", "Relay rows waiting in memory.", (s) => s.buffered);
    gauge("viper_relay_log_spool_rows", "Relay rows waiting on disk.", (s) => s.spooled);
    counter("viper_relay_log_written_rows_total", "Relay rows stored.", (s) => s.written);
    counter(
      "viper_relay_log_failed_writes_total",
      "Failed relay row inserts.",
      (s) => s.failedWrites,
    );
    counter("viper_relay_log_dropped_rows_total", "Relay rows lost.", (s) => s.dropped);
    counter(
      "viper_relay_log_dead_letter_rows_total",
      "Relay rows the database refused for their content, set aside in the dead-letter file.",
      (s) => s.deadLettered ?? 0,
    );
  }

  /** Reports the database's pool size and whether it answers, on each scrape. */
  watchDatabase(probe: DatabaseProbe): void {
    const registers = [this.registry];
    new Gauge({
      name: "viper_db_pool_max_connections",
      help: "Connections the database pool may open (1 for the embedded database).",
      labelNames: ["driver"],
      registers,
      collect() {
        this.set({ driver: probe.kind }, probe.kind === "pglite" ? 1 : probe.poolSize);
      },
    });
    new Gauge({
      name: "viper_db_up",
      help: "1 when the database answered a ping at the last scrape.",
      labelNames: ["driver"],
      registers,
      async collect() {
        this.set({ driver: probe.kind }, (await probe.ping()) ? 1 : 0);
      },
    });
  }
}

import { describe, expect, test } from "bun:test";
import { Counter, Histogram, Registry } from "prom-client";
import { LabelledCounter, LabelledHistogram } from "../src/metrics/labelled-series.ts";
import { RelayMetrics } from "../src/metrics/relay-metrics.ts";

const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The text block of one metric family in a /metrics body. */
function family(text: string, name: string): string {
  const block = text.split("\n\n").find((part) => part.startsWith(`# HELP ${name} `));
  if (block === undefined) {
    throw new Error(`no family ${name} in the text`);
  }
  return block.trim();
}

/** The same families fed straight to prom-client, as RelayMetrics did before. */
function plainRegistry() {
  const registry = new Registry();
  registry.setDefaultLabels({ service: "relay" });
  const registers = [registry];
  const requests = new Counter({
    name: "viper_relay_requests_total",
    help: "Requests answered by the relay, by chain, portal status and method class.",
    labelNames: ["chain", "status", "method_class"],
    registers,
  });
  const duration = new Histogram({
    name: "viper_relay_request_duration_seconds",
    help: "Time from receiving a request to answering it.",
    labelNames: ["chain", "method_class"],
    buckets,
    registers,
  });
  const attempts = new Counter({
    name: "viper_servicer_attempts_total",
    help: "Relays sent to servicers, by outcome (ok, or why the attempt failed).",
    labelNames: ["chain", "servicer", "outcome"],
    registers,
  });
  const attemptDuration = new Histogram({
    name: "viper_servicer_attempt_duration_seconds",
    help: "Time one servicer took to answer one relay.",
    labelNames: ["chain", "outcome"],
    buckets,
    registers,
  });
  const decisions = new Counter({
    name: "viper_rate_limit_decisions_total",
    help: "Rate limiter decisions: allowed, bypassed (internal keys), or the refusal's name.",
    labelNames: ["decision"],
    registers,
  });
  return { registry, requests, duration, attempts, attemptDuration, decisions };
}

// Latencies in ms: on bounds, between them, past the last one, fractions whose sums round.
const latencies = [0, 5, 5.2, 10, 12.7, 99.9, 100, 250.3, 999, 1000, 2500, 7000, 10_000, 12_345];
const chains = ["0021", null, 'we"ird\\chain\n'];
const statuses = ["ok", "unknown_key", "rate_limited"];
const methods = ["eth_call", "eth_blockNumber", null, "batch", "eth_getLogs"];

describe("labelled series", () => {
  test("a known sequence of requests gives the same /metrics text as prom-client fed directly", async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ service: "relay" });
    const metrics = new RelayMetrics(registry);
    const plain = plainRegistry();

    latencies.forEach((latencyMs, index) => {
      const chain = chains[index % chains.length] ?? null;
      const status = statuses[index % statuses.length] ?? "ok";
      const method = methods[index % methods.length] ?? null;
      metrics.observeRelay({ chain, status, method, latencyMs });
      const methodClass = { eth_call: "call", eth_blockNumber: "read", batch: "batch" };
      const label =
        method === null ? "none" : (methodClass[method as keyof typeof methodClass] ?? "logs");
      plain.requests.inc({ chain: chain ?? "unknown", status, method_class: label });
      plain.duration.observe({ chain: chain ?? "unknown", method_class: label }, latencyMs / 1000);

      const servicer = `servicer${index % 4}`;
      const outcome = index % 5 === 0 ? "timeout" : "ok";
      metrics.observeServicer({ chain: chain ?? "0021", servicer, outcome, latencyMs });
      plain.attempts.inc({ chain: chain ?? "0021", servicer, outcome });
      plain.attemptDuration.observe({ chain: chain ?? "0021", outcome }, latencyMs / 1000);

      metrics.countLimiterDecision(index % 2 === 0 ? "allowed" : "bypassed");
      plain.decisions.inc({ decision: index % 2 === 0 ? "allowed" : "bypassed" });
    });
    const text = await registry.metrics();
    const expected = await plain.registry.metrics();

    for (const name of [
      "viper_relay_requests_total",
      "viper_relay_request_duration_seconds",
      "viper_servicer_attempts_total",
      "viper_servicer_attempt_duration_seconds",
      "viper_rate_limit_decisions_total",
    ]) {
      expect(family(text, name)).toBe(family(expected, name));
    }
  });

  test("a scrape reads the totals so far, and later counts add to them", async () => {
    const registry = new Registry();
    const counter = new LabelledCounter({
      name: "demo_total",
      help: "Demo.",
      labelNames: ["kind"],
      registry,
    });
    const histogram = new LabelledHistogram({
      name: "demo_seconds",
      help: "Demo.",
      labelNames: ["kind"],
      buckets: [1, 2],
      registry,
    });

    counter.inc(["a"]);
    histogram.observe(["a"], 1.5);
    const first = await registry.metrics();
    counter.inc(["a"], 2);
    counter.inc(["b"]);
    histogram.observe(["a"], 3);
    const second = await registry.metrics();

    expect(first).toContain('demo_total{kind="a"} 1\n');
    expect(second).toContain('demo_total{kind="a"} 3\ndemo_total{kind="b"} 1\n');
    expect(second).toContain('demo_seconds_bucket{le="1",kind="a"} 0\n');
    expect(second).toContain('demo_seconds_bucket{le="2",kind="a"} 1\n');
    expect(second).toContain('demo_seconds_bucket{le="+Inf",kind="a"} 2\n');
    expect(second).toContain('demo_seconds_sum{kind="a"} 4.5\n');
    expect(second).toContain('demo_seconds_count{kind="a"} 2');
  });

  test("wrong label counts and values that are not finite are refused", () => {
    const registry = new Registry();
    const counter = new LabelledCounter({
      name: "demo_total",
      help: "Demo.",
      labelNames: ["kind", "result"],
      registry,
    });
    const histogram = new LabelledHistogram({
      name: "demo_seconds",
      help: "Demo.",
      labelNames: ["kind"],
      buckets: [1],
      registry,
    });

    expect(() => counter.inc(["a"])).toThrow(TypeError);
    expect(() => counter.inc(["a", "b"], -1)).toThrow(TypeError);
    expect(() => histogram.observe(["a"], Number.NaN)).toThrow(TypeError);
  });
});

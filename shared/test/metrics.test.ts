import { describe, expect, test } from "bun:test";
import { methodClassOf } from "../src/metrics/method-class.ts";
import { RelayMetrics } from "../src/metrics/relay-metrics.ts";
import { ServerMetrics } from "../src/metrics/server-metrics.ts";
import {
  parseMetricsText,
  promtoolAvailable,
  promtoolCheckMetrics,
  sampleSum,
  sampleValue,
} from "../src/metrics/testing.ts";

describe("relay metrics", () => {
  test("relays, servicer attempts and mirrored state come out in the Prometheus text format", async () => {
    const metrics = new RelayMetrics();
    const writer = { buffered: 3, spooled: 40, written: 1000, failedWrites: 2, dropped: 0 };
    metrics.watchLogWriter(() => writer);
    metrics.watchServicerHealth(() => new Map([["0021", 4]]));
    metrics.watchDatabase({ kind: "postgres", poolSize: 10, ping: async () => true });

    metrics.observeRelay({ chain: "0021", status: "ok", method: "eth_call", latencyMs: 30 });
    metrics.observeRelay({ chain: "0021", status: "ok", method: "eth_call", latencyMs: 70 });
    metrics.observeServicer({
      chain: "0021",
      servicer: "ab12",
      outcome: "timeout",
      latencyMs: 2500,
    });
    metrics.countLimiterDecision("rate_limited");
    const families = parseMetricsText(await metrics.registry.metrics());

    const labels = { chain: "0021", status: "ok", method_class: "call", service: "relay" };
    expect(sampleValue(families, "viper_relay_requests_total", labels)).toBe(2);
    expect(sampleSum(families, "viper_relay_request_duration_seconds")).toBe(2);
    expect(
      sampleValue(families, "viper_servicer_attempts_total", {
        servicer: "ab12",
        outcome: "timeout",
      }),
    ).toBe(1);
    expect(
      sampleValue(families, "viper_rate_limit_decisions_total", { decision: "rate_limited" }),
    ).toBe(1);
    expect(sampleValue(families, "viper_servicers_healthy", { chain: "0021" })).toBe(4);
    expect(sampleValue(families, "viper_relay_log_spool_rows")).toBe(40);
    expect(sampleValue(families, "viper_relay_log_written_rows_total")).toBe(1000);
    expect(sampleValue(families, "viper_db_up", { driver: "postgres" })).toBe(1);
    expect(families.some((family) => family.name === "viper_process_resident_memory_bytes")).toBe(
      true,
    );
  });

  test("a request refused before its chain is known counts under chain unknown", async () => {
    const metrics = new RelayMetrics();

    metrics.observeRelay({ chain: null, status: "unknown_key", method: null, latencyMs: 1 });
    const families = parseMetricsText(await metrics.registry.metrics());

    expect(
      sampleValue(families, "viper_relay_requests_total", {
        chain: "unknown",
        method_class: "none",
      }),
    ).toBe(1);
  });

  test.skipIf(!promtoolAvailable)("promtool reads the output without a complaint", async () => {
    const metrics = new RelayMetrics();
    metrics.watchLogWriter(() => ({
      buffered: 0,
      spooled: 0,
      written: 1,
      failedWrites: 0,
      dropped: 0,
    }));
    metrics.watchServicerHealth(() => new Map([["0021", 5]]));
    metrics.observeRelay({ chain: "0021", status: "ok", method: "eth_call", latencyMs: 30 });
    metrics.observeServicer({ chain: "0021", servicer: "ab12", outcome: "ok", latencyMs: 20 });
    const server = new ServerMetrics();
    server.knowProcedures(["auth.signIn"]);
    server.observeProcedure({ procedure: "auth.signIn", code: "OK", durationMs: 3 });

    const relayCheck = promtoolCheckMetrics(await metrics.registry.metrics());
    const serverCheck = promtoolCheckMetrics(await server.registry.metrics());

    expect(relayCheck).toEqual({ ok: true, output: "" });
    expect(serverCheck).toEqual({ ok: true, output: "" });
  });

  test("counters that follow the writer's totals grow by what the writer added", async () => {
    const metrics = new RelayMetrics();
    const writer = { buffered: 0, spooled: 0, written: 10, failedWrites: 0, dropped: 0 };
    metrics.watchLogWriter(() => writer);

    await metrics.registry.metrics();
    writer.written = 25;
    const families = parseMetricsText(await metrics.registry.metrics());

    expect(sampleValue(families, "viper_relay_log_written_rows_total")).toBe(25);
  });
});

describe("server metrics", () => {
  test("procedure calls are counted under their name, made-up names under unknown", async () => {
    const metrics = new ServerMetrics();
    metrics.knowProcedures(["usage.summary"]);

    metrics.observeProcedure({ procedure: "usage.summary", code: "OK", durationMs: 12 });
    metrics.observeProcedure({ procedure: "no.such.thing", code: "NOT_FOUND", durationMs: 1 });
    metrics.countSignIn("password", "failure");
    const families = parseMetricsText(await metrics.registry.metrics());

    expect(
      sampleValue(families, "viper_server_requests_total", { procedure: "usage.summary" }),
    ).toBe(1);
    expect(sampleValue(families, "viper_server_requests_total", { procedure: "unknown" })).toBe(1);
    expect(
      sampleValue(families, "viper_server_requests_total", { procedure: "no.such.thing" }),
    ).toBe(null);
    expect(sampleValue(families, "viper_sign_ins_total", { outcome: "failure" })).toBe(1);
  });
});

describe("method classes", () => {
  test("methods fall into a few classes, so dApps cannot grow the series", () => {
    const classes = [
      "eth_blockNumber",
      "eth_getBalance",
      "eth_call",
      "eth_getLogs",
      "eth_getFilterChanges",
      "eth_sendRawTransaction",
      "debug_traceTransaction",
      "batch",
      "made_up_method",
      null,
    ].map(methodClassOf);

    expect(classes).toEqual([
      "read",
      "read",
      "call",
      "logs",
      "filter",
      "send",
      "trace",
      "batch",
      "other",
      "none",
    ]);
  });

  test("a method keeps its class once many made-up names were seen", () => {
    const before = ["eth_call", "eth_getBalance", "trace_block"].map(methodClassOf);

    for (let index = 0; index < 1_500; index++) {
      methodClassOf(`made_up_${index}`);
    }
    const after = ["eth_call", "eth_getBalance", "trace_block", "eth_newFilter"].map(methodClassOf);

    expect(before).toEqual(["call", "read", "trace"]);
    expect(after).toEqual(["call", "read", "trace", "filter"]);
    expect(methodClassOf("made_up_1499")).toBe("other");
  });
});

import { describe, expect, test } from "bun:test";
import { silentLogger } from "@viper/shared/logger";
import type { LoadGenerator } from "../src/load.ts";
import { ProcessGroup } from "../src/processes.ts";
import { type RunContext, runBaselines, runRelayScenarios } from "../src/scenarios.ts";
import { readSettings } from "../src/settings.ts";

const unusedGenerator: LoadGenerator = {
  name: "wrk",
  version: "none",
  run: () => Promise.reject(new Error("no load may run when the relay is missing")),
};

function context(matrix: "quick" | "full", scenarios = "A,B,P,C,D"): RunContext {
  return {
    settings: readSettings({ BENCH_MATRIX: matrix, BENCH_SCENARIOS: scenarios }),
    logger: silentLogger(),
    group: new ProcessGroup(),
    runDir: "/nonexistent",
    generator: unusedGenerator,
    upstreamUrl: "http://127.0.0.1:1",
    watched: {},
  };
}

describe("without a relay", () => {
  test("every C and D cell of the full matrix says the relay is not available", async () => {
    const reason = "relay not available (relay/src/main.ts is missing)";

    const results = await runRelayScenarios(context("full"), {
      available: false,
      reason,
      plainUpstreams: false,
      rateLimitSetting: null,
    });

    expect(results).toHaveLength(3 * 3 * 2);
    expect(new Set(results.map((r) => `${r.scenario} ${r.keys} ${r.batch}`)).size).toBe(18);
    expect(results.every((r) => r.status === "unavailable" && r.reason === reason)).toBe(true);
  });
});

describe("without the proxies", () => {
  test("B and P are marked at every batch size with why they did not run", async () => {
    const results = await runBaselines(context("full", "B,P"), {
      nginx: { url: null, status: "unavailable", reason: "nginx not available" },
      bareProxy: { url: null, status: "failed", reason: "bare proxy: exited" },
    });

    expect(results.map((r) => `${r.scenario} ${r.batch} ${r.status} ${r.reason}`)).toEqual([
      "B 1 unavailable nginx not available",
      "P 1 failed bare proxy: exited",
      "B 10 unavailable nginx not available",
      "P 10 failed bare proxy: exited",
      "B 100 unavailable nginx not available",
      "P 100 failed bare proxy: exited",
    ]);
  });
});

describe("settings", () => {
  test("run the bare Bun proxy (P) between nginx and the relay unless told otherwise", () => {
    expect(readSettings({}).scenarios).toEqual(["A", "B", "P", "C", "D"]);
    expect(readSettings({ BENCH_SCENARIOS: "p,a" }).scenarios).toEqual(["A", "P"]);
  });

  test("the quick matrix is one key and single calls; the full one grows both", () => {
    expect(readSettings({}).keyCounts).toEqual([1]);
    expect(readSettings({}).batchSizes).toEqual([1]);
    expect(readSettings({ BENCH_MATRIX: "full" }).keyCounts).toEqual([1, 10_000, 1_000_000]);
    expect(readSettings({ BENCH_MATRIX: "full" }).batchSizes).toEqual([1, 10, 100]);
  });

  test("refuse services off this machine and values the bench cannot use", () => {
    expect(() => readSettings({ BENCH_REDIS_URL: "redis://10.0.0.5:6379/9" })).toThrow("loopback");
    expect(() => readSettings({ BENCH_DURATION: "0" })).toThrow("BENCH_DURATION");
    expect(() => readSettings({ BENCH_MATRIX: "huge" })).toThrow("BENCH_MATRIX");
    expect(() => readSettings({ BENCH_SCENARIOS: "A,E" })).toThrow("E");
  });
});

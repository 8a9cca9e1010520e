import { describe, expect, test } from "bun:test";
import { evaluateReferences } from "../src/references.ts";
import type { BenchReport } from "../src/report.ts";
import { formatReport, withFigures } from "../src/report.ts";
import { readSettings } from "../src/settings.ts";
import { evaluateTargets, type ScenarioResult } from "../src/targets.ts";
import { cell, cpu } from "./cells.ts";

function report(results: ScenarioResult[]): BenchReport {
  const {
    adminDatabaseUrl: _admin,
    redisUrl: _redis,
    resultsDir: _dir,
    ...settings
  } = readSettings({});
  return {
    startedAt: "2026-01-01T00:00:00.000Z",
    finishedAt: "2026-01-01T00:01:00.000Z",
    machine: {
      cpus: 2,
      cpuModel: "test",
      memoryMb: 1024,
      kernel: "test",
      bun: "test",
      loadGenerator: "wrk",
      nginx: "nginx",
    },
    settings,
    relay: { available: true, reason: null, plainUpstreams: true, rateLimitSetting: null },
    results: withFigures(results),
    targets: evaluateTargets(results),
    references: evaluateReferences(results),
    notes: [],
  };
}

function rowOf(text: string, label: string): string[] {
  const line = text.split("\n").find((candidate) => candidate.startsWith(label)) ?? "";
  return line.split(/\s{2,}/);
}

describe("the report", () => {
  const results = [
    cell("A", 20_000, 3, { cpu: cpu({ upstream: 90 }) }),
    cell("B", 10_000, 4, { cpu: cpu({ nginx: 30, "bare-proxy": 0 }) }),
    cell("P", 6_000, 5, { cpu: cpu({ nginx: 0, "bare-proxy": 24 }) }),
    cell("C", 3_000, 20, { cpu: cpu({ "bare-proxy": 0, relay: 36 }) }),
  ];

  test("shows each server's CPU per request and P's share of nginx beside C's", () => {
    const text = formatReport(report(results));

    expect(text).toContain("relay µs/req");
    expect(rowOf(text, "P")).toEqual([
      "P",
      "-",
      "1",
      "6,000",
      "2.50",
      "5.00",
      "0",
      "-",
      "24%",
      "40",
      "90.0%",
      "60.0%",
    ]);
    expect(rowOf(text, "C")).toEqual([
      "C",
      "1",
      "1",
      "3,000",
      "10.00",
      "20.00",
      "0",
      "80.0 MB",
      "36%",
      "120",
      "90.0%",
      "30.0%",
    ]);
    expect(rowOf(text, "B").slice(8)).toEqual(["-", "-", "90.0%", "-"]);
  });

  test("keeps the per-request CPU and the reference lines in the JSON", () => {
    const json = report(results);

    expect(json.results.map((result) => result.relayCpuUsPerRequest)).toEqual([
      null,
      null,
      40,
      120,
    ]);
    expect(json.references.map((line) => line.reference)).toContain("C rps / P rps");
  });

  test("prints the reference lines as INFO after the targets", () => {
    const lines = formatReport(report(results)).split("\n");
    const firstInfo = lines.findIndex((line) => line.startsWith("  INFO  "));
    const lastTarget = lines.findLastIndex((line) => /^ {2}(PASS|FAIL|N\/A) /.test(line));

    expect(firstInfo).toBeGreaterThan(lastTarget);
    expect(lines).toContain("  INFO  C rps = 50.0% of P (keys=1 batch=1): 3,000 vs 6,000 rps");
  });
});

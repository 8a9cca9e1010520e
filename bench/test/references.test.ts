import { describe, expect, test } from "bun:test";
import { cpuMicrosPerRequest } from "../src/figures.ts";
import { evaluateReferences } from "../src/references.ts";
import type { ScenarioResult } from "../src/targets.ts";
import { cell, cpu } from "./cells.ts";

function atBatch(batch: number, cells: ScenarioResult[]): ScenarioResult[] {
  return cells.map((result) => ({ ...result, batch }));
}

const run = [
  cell("A", 20_000, 3),
  cell("B", 10_000, 4.5),
  cell("P", 6_000, 5),
  cell("C", 3_000, 20),
  cell("D", 1_500, 40),
];

describe("reference lines", () => {
  test("show nginx and the bare proxy over the upstream, P as a share of B, C and D of P", () => {
    const lines = evaluateReferences(run);

    expect(lines.map((line) => line.text)).toEqual([
      "B p99 over A p99 (batch=1): +1.50 ms (nginx itself, at the same load)",
      "P p99 over A p99 (batch=1): +2.00 ms (bare Bun proxy, at the same load)",
      "P rps = 60.0% of B (batch=1): bare Bun proxy, 6,000 vs 10,000 rps",
      "C rps = 50.0% of P (keys=1 batch=1): 3,000 vs 6,000 rps",
      "D rps = 25.0% of P (keys=1 batch=1): 1,500 vs 6,000 rps",
    ]);
    expect(lines.map((line) => line.value)).toEqual([1.5, 2, 0.6, 0.5, 0.25]);
    expect(lines.map((line) => line.reference)).toEqual([
      "B p99 - A p99",
      "P p99 - A p99",
      "P rps / B rps",
      "C rps / P rps",
      "D rps / P rps",
    ]);
  });

  test("come for every batch size, each compared within its own batch size", () => {
    const lines = evaluateReferences([
      ...run,
      ...atBatch(10, [cell("A", 5_000, 9), cell("B", 4_000, 10), cell("P", 1_000, 30)]),
    ]);
    const batch10 = lines.filter((line) => line.batch === 10);

    expect(batch10.map((line) => line.text)).toEqual([
      "B p99 over A p99 (batch=10): +1.00 ms (nginx itself, at the same load)",
      "P p99 over A p99 (batch=10): +21.00 ms (bare Bun proxy, at the same load)",
      "P rps = 25.0% of B (batch=10): bare Bun proxy, 1,000 vs 4,000 rps",
    ]);
  });

  test("say what was not measured, and leave out what was not selected", () => {
    const failedProxy: ScenarioResult = {
      ...cell("P", 0, 0),
      status: "failed",
      reason: "bare proxy: exited",
      load: null,
    };

    const lines = evaluateReferences([cell("A", 20_000, 3), cell("C", 3_000, 20), failedProxy]);

    expect(lines.map((line) => line.text)).toEqual([
      "P p99 over A p99 (batch=1): n/a, P not measured",
      "C rps vs P (keys=1 batch=1): n/a, P not measured",
    ]);
    expect(lines.every((line) => line.value === null)).toBe(true);
  });
});

describe("CPU per request", () => {
  test("is the server under test's CPU time divided by the requests it answered", () => {
    const relay = cell("C", 5_000, 10, { cpu: cpu({ relay: 60, upstream: 30 }) });
    const bareProxy = cell("P", 20_000, 5, { cpu: cpu({ "bare-proxy": 80, relay: 0 }) });

    expect(cpuMicrosPerRequest(relay)).toBe(120);
    expect(cpuMicrosPerRequest(bareProxy)).toBe(40);
  });

  test("is not given for the upstream and nginx, nor without a CPU reading", () => {
    expect(cpuMicrosPerRequest(cell("A", 20_000, 3, { cpu: cpu({ upstream: 90 }) }))).toBeNull();
    expect(cpuMicrosPerRequest(cell("B", 10_000, 4, { cpu: cpu({ nginx: 50 }) }))).toBeNull();
    expect(cpuMicrosPerRequest(cell("C", 5_000, 10))).toBeNull();
  });
});

import { describe, expect, test } from "bun:test";
import { evaluateTargets, type TargetCheck } from "../src/targets.ts";
import { cell, mib } from "./cells.ts";

function statusOf(checks: TargetCheck[], start: string): string[] {
  return checks.filter((check) => check.target.startsWith(start)).map((check) => check.status);
}

const baselines = [cell("A", 20_000, 3), cell("B", 10_000, 4)];

describe("targets", () => {
  test("a relay at 80% of nginx, 1 ms over the upstream's p99, passes C and D", () => {
    const checks = evaluateTargets([...baselines, cell("C", 8_000, 4), cell("D", 6_000, 9)]);

    expect(statusOf(checks, "C rps")).toEqual(["PASS"]);
    expect(statusOf(checks, "C p99")).toEqual(["PASS"]);
    expect(statusOf(checks, "D rps")).toEqual(["PASS"]);
    expect(statusOf(checks, "zero errors")).toEqual(["PASS"]);
    expect(statusOf(checks, "relay peak")).toEqual(["PASS"]);
  });

  test("a slow relay fails the throughput and latency targets", () => {
    const checks = evaluateTargets([...baselines, cell("C", 6_000, 6), cell("D", 4_000, 9)]);

    expect(statusOf(checks, "C rps")).toEqual(["FAIL"]);
    expect(statusOf(checks, "C p99")).toEqual(["FAIL"]);
    expect(statusOf(checks, "D rps")).toEqual(["FAIL"]);
  });

  test("one error anywhere fails the zero-error target and names the configuration", () => {
    const checks = evaluateTargets([cell("A", 20_000, 3, { errors: 1 }), cell("B", 10_000, 4)]);
    const errors = checks.find((check) => check.target.startsWith("zero errors"));

    expect(errors?.status).toBe("FAIL");
    expect(errors?.detail).toContain("A keys=- batch=1: 1");
  });

  test("a relay over 200 MB fails the memory target", () => {
    const heavy = cell("C", 8_000, 4, { relayPeakBytes: 250 * mib });

    expect(statusOf(evaluateTargets([...baselines, heavy]), "relay peak")).toEqual(["FAIL"]);
  });

  test("throughput with a million keys is compared with one key at the same batch size", () => {
    const many = { keys: 1_000_000 };
    const checks = evaluateTargets([
      ...baselines,
      cell("C", 8_000, 4),
      cell("C", 7_500, 4, many),
      cell("D", 6_000, 9),
      cell("D", 5_000, 9, many),
    ]);

    expect(statusOf(checks, "rps with 1,000,000 keys")).toEqual(["PASS", "FAIL"]);
  });

  test("what was not measured is N/A, and a relay that could not run is a failure", () => {
    const checks = evaluateTargets([
      cell("A", 20_000, 3),
      cell("C", 8_000, 4),
      { ...cell("D", 0, 0), status: "failed", reason: "relay exited", load: null },
    ]);

    expect(statusOf(checks, "C rps")).toEqual(["N/A"]);
    expect(statusOf(checks, "D targets")).toEqual(["FAIL"]);
    expect(statusOf(checks, "rps with 1,000,000 keys")).toEqual(["N/A"]);
  });

  test("the bare Bun proxy (P) is a reference with no targets of its own, but its errors count", () => {
    const checks = evaluateTargets([...baselines, cell("P", 6_000, 5, { errors: 2 })]);

    expect(checks.some((check) => check.target.startsWith("P "))).toBe(false);
    expect(statusOf(checks, "zero errors")).toEqual(["FAIL"]);
    expect(statusOf(checks, "relay peak")).toEqual(["N/A"]);
  });
});

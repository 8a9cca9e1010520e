import type { CpuUse } from "./cpu.ts";
import type { LoadResult } from "./load.ts";
import type { BodySample } from "./measure.ts";
import type { ScenarioId } from "./settings.ts";

/** One cell of the matrix for one scenario: measured, not available here, or broken. */
export interface ScenarioResult {
  scenario: ScenarioId;
  /** What was measured, e.g. "C relay, plain endpoint". */
  label: string;
  /** Keys in the database; null for A, B and P, which check no keys. */
  keys: number | null;
  batch: number;
  status: "ok" | "unavailable" | "failed";
  reason: string | null;
  load: LoadResult | null;
  sample: BodySample | null;
  errors: number | null;
  /** The relay process's VmHWM after this run, in bytes; null for A, B and P. */
  relayPeakBytes: number | null;
  /** The relay's resident memory right after this run (VmRSS): tells growth from a spike. */
  relayRssBytes: number | null;
  /** Who used the CPU during the measured run. */
  cpu: CpuUse | null;
}

/** A target of issue #7, checked on this run's numbers. */
export interface TargetCheck {
  target: string;
  status: "PASS" | "FAIL" | "N/A";
  detail: string;
}

export const targetLimits = {
  plainShareOfNginx: 0.7,
  plainExtraP99Ms: 2,
  viperShareOfNginx: 0.5,
  relayPeakBytes: 200 * 1024 * 1024,
  /** Throughput with the most keys may fall at most this far below one key. */
  keyGrowthLoss: 0.1,
} as const;

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const pct = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;

/** The measured cell of a scenario for a key count and batch size, if it ran well enough. */
export function measuredCell(
  results: ScenarioResult[],
  scenario: ScenarioId,
  keys: number | null,
  batch: number,
): ScenarioResult | undefined {
  return results.find(
    (r) => r.scenario === scenario && r.keys === keys && r.batch === batch && r.status === "ok",
  );
}

/** rps of a cell divided by B's at the same batch size; null when either is missing. */
export function shareOfNginx(results: ScenarioResult[], cell: ScenarioResult): number | null {
  const nginx = measuredCell(results, "B", null, cell.batch);
  if (!nginx?.load || !cell.load || nginx.load.rps === 0) {
    return null;
  }
  return cell.load.rps / nginx.load.rps;
}

function relayCellChecks(results: ScenarioResult[], cell: ScenarioResult): TargetCheck[] {
  const where = `keys=${cell.keys} batch=${cell.batch}`;
  const share = shareOfNginx(results, cell);
  const checks: TargetCheck[] = [];
  const minimum =
    cell.scenario === "C" ? targetLimits.plainShareOfNginx : targetLimits.viperShareOfNginx;
  checks.push(
    share === null
      ? {
          target: `${cell.scenario} rps >= ${pct(minimum)} of B (${where})`,
          status: "N/A",
          detail: "B was not measured",
        }
      : {
          target: `${cell.scenario} rps >= ${pct(minimum)} of B (${where})`,
          status: share >= minimum ? "PASS" : "FAIL",
          detail: `${cell.scenario}/B = ${pct(share)}`,
        },
  );
  if (cell.scenario === "C") {
    const direct = measuredCell(results, "A", null, cell.batch);
    const target = `C p99 <= A p99 + ${targetLimits.plainExtraP99Ms} ms (${where})`;
    if (!direct?.load || !cell.load) {
      checks.push({ target, status: "N/A", detail: "A was not measured" });
    } else {
      const extra = cell.load.p99Ms - direct.load.p99Ms;
      checks.push({
        target,
        status: extra <= targetLimits.plainExtraP99Ms ? "PASS" : "FAIL",
        detail: `C p99 ${cell.load.p99Ms.toFixed(2)} ms, A p99 ${direct.load.p99Ms.toFixed(2)} ms (+${extra.toFixed(2)} ms)`,
      });
    }
  }
  return checks;
}

function errorCheck(results: ScenarioResult[]): TargetCheck {
  const measured = results.filter((r) => r.status === "ok");
  const withErrors = measured.filter((r) => (r.errors ?? 0) > 0);
  if (measured.length === 0) {
    return {
      target: "zero errors in every configuration",
      status: "N/A",
      detail: "nothing measured",
    };
  }
  return {
    target: "zero errors in every configuration",
    status: withErrors.length === 0 ? "PASS" : "FAIL",
    detail:
      withErrors.length === 0
        ? `${measured.length} configurations, no errors`
        : withErrors
            .map((r) => `${r.scenario} keys=${r.keys ?? "-"} batch=${r.batch}: ${r.errors}`)
            .join("; "),
  };
}

function memoryCheck(results: ScenarioResult[]): TargetCheck {
  const peaks = results.map((r) => r.relayPeakBytes).filter((bytes) => bytes !== null);
  const target = `relay peak memory < ${mb(targetLimits.relayPeakBytes)}`;
  if (peaks.length === 0) {
    return { target, status: "N/A", detail: "the relay was not measured" };
  }
  const peak = Math.max(...peaks);
  return {
    target,
    status: peak < targetLimits.relayPeakBytes ? "PASS" : "FAIL",
    detail: `peak ${mb(peak)}`,
  };
}

function keyGrowthChecks(results: ScenarioResult[]): TargetCheck[] {
  const relayCells = results.filter((r) => r.status === "ok" && r.keys !== null);
  const most = Math.max(0, ...relayCells.map((r) => r.keys ?? 0));
  const target = `rps with 1,000,000 keys within ${pct(targetLimits.keyGrowthLoss)} of 1 key`;
  if (most < 1_000_000) {
    return [{ target, status: "N/A", detail: "needs BENCH_MATRIX=full" }];
  }
  const checks: TargetCheck[] = [];
  for (const many of relayCells.filter((r) => r.keys === most)) {
    const one = measuredCell(results, many.scenario, 1, many.batch);
    const label = `${target} (${many.scenario} batch=${many.batch})`;
    if (!one?.load || !many.load || one.load.rps === 0) {
      checks.push({ target: label, status: "N/A", detail: "1 key was not measured" });
      continue;
    }
    const ratio = many.load.rps / one.load.rps;
    checks.push({
      target: label,
      status: ratio >= 1 - targetLimits.keyGrowthLoss ? "PASS" : "FAIL",
      detail: `${Math.round(many.load.rps)} vs ${Math.round(one.load.rps)} rps (${pct(ratio)})`,
    });
  }
  return checks;
}

/** Checks every target of issue #7 that this run's numbers can answer. */
export function evaluateTargets(results: ScenarioResult[]): TargetCheck[] {
  const relayCells = results.filter(
    (r) => (r.scenario === "C" || r.scenario === "D") && r.status === "ok",
  );
  const notMeasured = results
    .filter((r) => (r.scenario === "C" || r.scenario === "D") && r.status !== "ok")
    .map(
      (r): TargetCheck => ({
        target: `${r.scenario} targets (keys=${r.keys ?? "-"} batch=${r.batch})`,
        status: r.status === "failed" ? "FAIL" : "N/A",
        detail: r.reason ?? r.status,
      }),
    );
  return [
    ...relayCells.flatMap((cell) => relayCellChecks(results, cell)),
    ...notMeasured,
    errorCheck(results),
    memoryCheck(results),
    ...keyGrowthChecks(results),
  ];
}

import type { CpuUse } from "../src/cpu.ts";
import type { LoadResult } from "../src/load.ts";
import type { ScenarioId } from "../src/settings.ts";
import type { ScenarioResult } from "../src/targets.ts";

export const mib = 1024 * 1024;

/** A 10-second load result at `rps` with the given p99 (p50 half of it). */
export function load(rps: number, p99Ms: number): LoadResult {
  return {
    requests: rps * 10,
    durationSec: 10,
    rps,
    p50Ms: p99Ms / 2,
    p99Ms,
    maxMs: p99Ms * 2,
    badStatus: 0,
    socketErrors: 0,
    timeouts: 0,
  };
}

/** CPU use with the named processes at the given % of one core. */
export function cpu(processes: Record<string, number>): CpuUse {
  return { processes, machineBusyPct: 90 };
}

/** A measured cell: relay cells (C, D) with one key and a relay's memory, the others without. */
export function cell(
  scenario: ScenarioId,
  rps: number,
  p99Ms: number,
  extra: Partial<ScenarioResult> = {},
): ScenarioResult {
  const relay = scenario === "C" || scenario === "D";
  return {
    scenario,
    label: scenario,
    keys: relay ? 1 : null,
    batch: 1,
    status: "ok",
    reason: null,
    load: load(rps, p99Ms),
    sample: { checked: 10, bad: 0, firstProblem: null },
    errors: 0,
    relayPeakBytes: relay ? 80 * mib : null,
    relayRssBytes: relay ? 70 * mib : null,
    cpu: null,
    ...extra,
  };
}

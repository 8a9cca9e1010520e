import type { ScenarioId } from "./settings.ts";
import type { ScenarioResult } from "./targets.ts";
import { measuredCell } from "./targets.ts";

/**
 * Informational comparisons printed beside the targets, neither passed nor failed. The targets
 * hold a JavaScript relay that also checks keys, limits and logs against nginx, a proxy written
 * in C; these lines show what nginx itself adds over the bare upstream and what the runtime alone
 * reaches (scenario P), so a reader can tell the relay's own cost from the runtime's.
 */
export interface ReferenceLine {
  /** What is compared, the same at every batch size: "B p99 - A p99", "C rps / P rps", ... */
  reference: string;
  /** Keys in the database for relay cells; null when neither side checks keys. */
  keys: number | null;
  batch: number;
  /** Milliseconds for a p99 difference, a ratio (0.65 for 65%) for rps; null when not measured. */
  value: number | null;
  /** The line as the report prints it. */
  text: string;
}

/** What each side of a comparison is, said once so the lines read on their own. */
const meaning: Partial<Record<ScenarioId, string>> = {
  B: "nginx itself, at the same load",
  P: "bare Bun proxy, at the same load",
};

const count = (rps: number) => Math.round(rps).toLocaleString("en-US");

function where(keys: number | null, batch: number): string {
  return keys === null ? `batch=${batch}` : `keys=${keys} batch=${batch}`;
}

function selected(results: ScenarioResult[], scenario: ScenarioId): boolean {
  return results.some((result) => result.scenario === scenario);
}

/** Why a comparison has no value: the sides that were not measured, by name. */
function missing(sides: [ScenarioId, ScenarioResult | undefined][]): string {
  const absent = sides.filter(([, cell]) => !cell?.load).map(([id]) => id);
  return absent.length === 0 ? "n/a" : `n/a, ${absent.join(" and ")} not measured`;
}

/** How much higher `scenario`'s p99 is than A's, at the same batch size and load. */
function p99OverDirect(
  results: ScenarioResult[],
  scenario: ScenarioId,
  batch: number,
): ReferenceLine {
  const reference = `${scenario} p99 - A p99`;
  const cell = measuredCell(results, scenario, null, batch);
  const direct = measuredCell(results, "A", null, batch);
  const title = `${scenario} p99 over A p99 (${where(null, batch)})`;
  if (!cell?.load || !direct?.load) {
    const absent = missing([
      [scenario, cell],
      ["A", direct],
    ]);
    return { reference, keys: null, batch, value: null, text: `${title}: ${absent}` };
  }
  const extra = cell.load.p99Ms - direct.load.p99Ms;
  const sign = extra >= 0 ? "+" : "-";
  const text = `${title}: ${sign}${Math.abs(extra).toFixed(2)} ms (${meaning[scenario] ?? ""})`;
  return { reference, keys: null, batch, value: Math.round(extra * 100) / 100, text };
}

/** `cell`'s rps as a share of `base`'s at the same batch size. */
function rpsShare(
  results: ScenarioResult[],
  cell: ScenarioResult,
  base: ScenarioId,
  why: string | null,
): ReferenceLine {
  const { scenario, keys, batch } = cell;
  const reference = `${scenario} rps / ${base} rps`;
  const other = measuredCell(results, base, null, batch);
  const ok = cell.status === "ok" ? cell : undefined;
  if (!ok?.load || !other?.load || other.load.rps === 0) {
    const absent = missing([
      [scenario, ok],
      [base, other],
    ]);
    const text = `${scenario} rps vs ${base} (${where(keys, batch)}): ${absent}`;
    return { reference, keys, batch, value: null, text };
  }
  const share = ok.load.rps / other.load.rps;
  const numbers = `${count(ok.load.rps)} vs ${count(other.load.rps)} rps`;
  const detail = why === null ? numbers : `${why}, ${numbers}`;
  const text = `${scenario} rps = ${(share * 100).toFixed(1)}% of ${base} (${where(keys, batch)}): ${detail}`;
  return { reference, keys, batch, value: Math.round(share * 10_000) / 10_000, text };
}

function batchesOf(results: ScenarioResult[]): number[] {
  return [...new Set(results.map((result) => result.batch))].sort((a, b) => a - b);
}

/**
 * The reference lines this run can show, for every batch size: nginx's and the bare proxy's p99
 * over the upstream's, the bare proxy's rps as a share of nginx's, and each relay cell's rps as a
 * share of the bare proxy's. A line appears when both of its scenarios were selected; a side that
 * was selected but not measured makes its value null.
 */
export function evaluateReferences(results: ScenarioResult[]): ReferenceLine[] {
  const lines: ReferenceLine[] = [];
  for (const batch of batchesOf(results)) {
    for (const proxy of ["B", "P"] as const) {
      if (selected(results, proxy) && selected(results, "A")) {
        lines.push(p99OverDirect(results, proxy, batch));
      }
    }
    const bareProxy = results.find((r) => r.scenario === "P" && r.batch === batch);
    if (bareProxy !== undefined && selected(results, "B")) {
      lines.push(rpsShare(results, bareProxy, "B", "bare Bun proxy"));
    }
    if (!selected(results, "P")) {
      continue;
    }
    for (const relay of results.filter((r) => r.batch === batch && r.keys !== null)) {
      lines.push(rpsShare(results, relay, "P", null));
    }
  }
  return lines;
}

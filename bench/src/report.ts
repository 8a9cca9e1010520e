import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, release, totalmem } from "node:os";
import { join } from "node:path";
import { cpuMicrosPerRequest, serverCpuPct } from "./figures.ts";
import type { ReferenceLine } from "./references.ts";
import type { RelayAvailability } from "./relay-stack.ts";
import type { BenchSettings } from "./settings.ts";
import type { ScenarioResult, TargetCheck } from "./targets.ts";
import { shareOfNginx } from "./targets.ts";

/** The machine a run measured on; numbers from different machines do not compare. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryMb: number;
  kernel: string;
  bun: string;
  loadGenerator: string;
  nginx: string | null;
}

/** Everything one run produced; written as JSON under bench/results/. */
export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  settings: Omit<BenchSettings, "adminDatabaseUrl" | "redisUrl" | "resultsDir">;
  relay: RelayAvailability;
  results: (ScenarioResult & {
    shareOfNginx: number | null;
    /** CPU of the server under test (relay for C and D, bare proxy for P) per request, in µs. */
    relayCpuUsPerRequest: number | null;
  })[];
  targets: TargetCheck[];
  /** Informational comparisons beside the targets (nginx over the upstream, P against B and C). */
  references: ReferenceLine[];
  /** Remarks a reader needs to read the numbers right (e.g. a scenario standing in for another). */
  notes: string[];
}

/** The settings as the report shows them: without the URLs of this machine's services. */
export function publicSettings(settings: BenchSettings): BenchReport["settings"] {
  const { adminDatabaseUrl: _admin, redisUrl: _redis, resultsDir: _results, ...shown } = settings;
  return shown;
}

/** What the machine is, read without running anything but the given versions. */
export function describeMachine(loadGenerator: string, nginx: string | null): MachineInfo {
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryMb: Math.round(totalmem() / 1024 / 1024),
    kernel: release(),
    bun: Bun.version,
    loadGenerator,
    nginx,
  };
}

const columns = [
  "scenario",
  "keys",
  "batch",
  "rps",
  "p50 ms",
  "p99 ms",
  "errors",
  "relay peak",
  "relay cpu",
  "relay µs/req",
  "machine busy",
  "vs B",
];

function row(result: BenchReport["results"][number]): string[] {
  const keys = result.keys === null ? "-" : result.keys.toLocaleString("en-US");
  if (result.status !== "ok" || result.load === null) {
    const why = result.status === "failed" ? `FAILED: ${result.reason}` : (result.reason ?? "n/a");
    return [result.label, keys, String(result.batch), why];
  }
  const share = result.shareOfNginx;
  const cpuPct = serverCpuPct(result);
  const perRequest = result.relayCpuUsPerRequest;
  const comparedWithNginx = ["P", "C", "D"].includes(result.scenario);
  return [
    result.label,
    keys,
    String(result.batch),
    Math.round(result.load.rps).toLocaleString("en-US"),
    result.load.p50Ms.toFixed(2),
    result.load.p99Ms.toFixed(2),
    String(result.errors ?? 0),
    result.relayPeakBytes === null ? "-" : `${(result.relayPeakBytes / 1024 / 1024).toFixed(1)} MB`,
    cpuPct === null ? "-" : `${cpuPct}%`,
    perRequest === null ? "-" : Math.round(perRequest).toLocaleString("en-US"),
    result.cpu === null ? "-" : `${result.cpu.machineBusyPct.toFixed(1)}%`,
    share === null || !comparedWithNginx ? "-" : `${(share * 100).toFixed(1)}%`,
  ];
}

/** Lays out rows as a fixed-width table; a cell too long for its column spills over. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) =>
    Math.min(40, Math.max(title.length, ...rows.map((cells) => (cells[i] ?? "").length))),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** The report as people read it: machine, results table, ratios and targets. */
export function formatReport(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    "",
    `Viper Portal relay bench, ${report.startedAt}`,
    `machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryMb} MB, Linux ${m.kernel}, Bun ${m.bun}`,
    `load: ${m.loadGenerator}, ${report.settings.connections} connections, ${report.settings.threads} thread(s), ` +
      `${report.settings.durationSec} s per run after ${report.settings.warmupSec} s warm-up; nginx: ${m.nginx ?? "none"}`,
    "",
    table(columns, report.results.map(row)),
    ...report.notes.map((note) => `note: ${note}`),
    "",
    "targets:",
    ...report.targets.map((t) => `  ${t.status.padEnd(4)}  ${t.target}: ${t.detail}`),
    ...report.references.map((line) => `  INFO  ${line.text}`),
    "",
  ];
  return lines.join("\n");
}

/**
 * Adds to each cell its share of nginx's throughput (P/B, C/B, D/B) and its server's CPU per
 * request (P, C and D).
 */
export function withFigures(results: ScenarioResult[]): BenchReport["results"] {
  return results.map((result) => ({
    ...result,
    shareOfNginx: shareOfNginx(results, result),
    relayCpuUsPerRequest: cpuMicrosPerRequest(result),
  }));
}

function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** Writes the report as a timestamped file and as latest.json; returns the timestamped path. */
export function writeReport(dir: string, report: BenchReport): string {
  mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, "-");
  const text = `${JSON.stringify(report, null, 2)}\n`;
  const path = join(dir, `bench-${stamp}.json`);
  writeAtomically(path, text);
  writeAtomically(join(dir, "latest.json"), text);
  return path;
}

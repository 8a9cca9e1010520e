import type { NewRelayLog } from "../schema/relay-logs.ts";
import { latencyBoundsMs } from "./latency-histogram.ts";
import { emptyCounts, type UsageCounts } from "./usage-queries.ts";

/**
 * For tests: a known, reproducible mix of relay rows (methods, chains, keys, errors, latencies)
 * and plain JavaScript that counts what the dashboard must show for them, independently of the
 * SQL that the rollups and dashboard queries run.
 */

export type MixRow = Omit<NewRelayLog, "id"> & { createdAt: Date };

export interface MixProject {
  projectId: string;
  keyIds: string[];
}

export interface MixOptions {
  projects: MixProject[];
  chains: string[];
  methods: string[];
  from: Date;
  to: Date;
  count: number;
  seed: number;
}

/** A small seeded generator (mulberry32), so a failing mix can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const outcomes = [
  { status: "ok", httpStatus: 200, weight: 80 },
  { status: "rate_limited", httpStatus: 429, weight: 6 },
  { status: "method_not_allowed", httpStatus: 403, weight: 5 },
  { status: "upstream_failed", httpStatus: 502, weight: 5 },
  { status: "deadline_exceeded", httpStatus: 504, weight: 4 },
] as const;

/** Rows spread over [from, to); a few have no project (an unknown key), as the relay logs them. */
export function relayMix(options: MixOptions): MixRow[] {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const span = options.to.getTime() - options.from.getTime();
  const rows: MixRow[] = [];
  for (let index = 0; index < options.count; index += 1) {
    const createdAt = new Date(options.from.getTime() + Math.floor(random() * span));
    if (random() < 0.03) {
      rows.push(unknownKeyRow(createdAt, index));
      continue;
    }
    const project = pick(options.projects);
    const batch = random() < 0.1;
    const outcome = pickOutcome(random());
    rows.push({
      createdAt,
      requestId: `mix-${options.seed}-${index}`,
      projectId: project.projectId,
      apiKeyId: pick(project.keyIds),
      chainId: pick(options.chains),
      zone: "0001",
      method: batch ? "batch" : pick(options.methods),
      batchSize: batch ? 2 + Math.floor(random() * 4) : 1,
      status: outcome.status,
      httpStatus: outcome.httpStatus,
      errorCode: outcome.status === "ok" ? null : -32000,
      // Mostly fast, with a long tail past the histogram's last bound now and then.
      latencyMs:
        random() < 0.01 ? 61_000 + Math.floor(random() * 5000) : Math.floor(random() ** 3 * 3000),
      servicer: null,
      bytesIn: 60 + Math.floor(random() * 400),
      bytesOut: 40 + Math.floor(random() * 4000),
      computeUnits: 1 + Math.floor(random() * 10),
      origin: null,
    });
  }
  return rows;
}

function pickOutcome(roll: number) {
  let threshold = 0;
  for (const outcome of outcomes) {
    threshold += outcome.weight / 100;
    if (roll < threshold) {
      return outcome;
    }
  }
  return outcomes[0];
}

function unknownKeyRow(createdAt: Date, index: number): MixRow {
  return {
    createdAt,
    requestId: `mix-unknown-${index}`,
    projectId: null,
    apiKeyId: null,
    chainId: null,
    method: "eth_chainId",
    batchSize: 1,
    status: "unknown_key",
    httpStatus: 401,
    latencyMs: 1,
    bytesIn: 70,
    bytesOut: 90,
  };
}

export interface ExpectedTotals extends UsageCounts {
  latencies: number[];
}

/** What the rows add up to, counted one by one. */
export function countRows(rows: readonly MixRow[]): ExpectedTotals {
  const totals: ExpectedTotals = { ...emptyCounts(), latencies: [] };
  for (const row of rows) {
    const ok = row.status === "ok";
    totals.requests += 1;
    totals.errors += ok ? 0 : 1;
    totals.serverErrors += !ok && row.httpStatus >= 500 ? 1 : 0;
    totals.calls += row.batchSize ?? 1;
    totals.computeUnits += ok ? (row.computeUnits ?? 0) : 0;
    totals.bytesIn += row.bytesIn ?? 0;
    totals.bytesOut += row.bytesOut ?? 0;
    totals.latencies.push(row.latencyMs);
  }
  return totals;
}

/** The rows of one project (and optionally one key or chain) in [from, to). */
export function rowsIn(
  rows: readonly MixRow[],
  filter: { projectId: string; apiKeyId?: string; chainId?: string; method?: string },
  from: Date,
  to: Date,
): MixRow[] {
  return rows.filter(
    (row) =>
      row.projectId === filter.projectId &&
      (filter.apiKeyId === undefined || row.apiKeyId === filter.apiKeyId) &&
      (filter.chainId === undefined || row.chainId === filter.chainId) &&
      (filter.method === undefined || row.method === filter.method) &&
      row.createdAt.getTime() >= from.getTime() &&
      row.createdAt.getTime() < to.getTime(),
  );
}

/**
 * The latency the dashboard reports for quantile q: the nearest-rank latency, raised to the
 * histogram bound above it, never past the slowest request.
 */
export function expectedPercentile(
  latencies: readonly number[],
  bounds: readonly number[],
  quantile: number,
): number | null {
  if (latencies.length === 0) {
    return null;
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(quantile * sorted.length));
  const value = sorted[rank - 1] ?? 0;
  const max = sorted[sorted.length - 1] ?? 0;
  const bound = bounds.find((candidate) => value <= candidate);
  return bound === undefined ? max : Math.min(bound, max);
}

/** The totals usageSummary must report for these rows, counted one by one. */
export function expectedTotals(selected: readonly MixRow[]) {
  const totals = countRows(selected);
  const percentile = (q: number) => expectedPercentile(totals.latencies, latencyBoundsMs, q);
  const latencySum = totals.latencies.reduce((sum, value) => sum + value, 0);
  return {
    requests: totals.requests,
    errors: totals.errors,
    serverErrors: totals.serverErrors,
    errorRate: totals.requests === 0 ? 0 : totals.errors / totals.requests,
    calls: totals.calls,
    computeUnits: totals.computeUnits,
    bytesIn: totals.bytesIn,
    bytesOut: totals.bytesOut,
    latencyMs: {
      p50: percentile(0.5),
      p95: percentile(0.95),
      p99: percentile(0.99),
      avg: totals.requests === 0 ? null : latencySum / totals.requests,
      max: totals.requests === 0 ? null : Math.max(...totals.latencies),
    },
  };
}

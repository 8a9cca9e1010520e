/**
 * Latency is kept as a cumulative histogram over fixed bounds, not as per-bucket percentiles:
 * histograms of different minutes, keys or chains add up exactly, percentiles do not. Steps are
 * 20-33% apart, so a reported percentile is at most one step above the true value.
 */
export const latencyBoundsMs: readonly number[] = [
  1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200, 250, 300, 400,
  500, 600, 800, 1000, 1200, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 8000, 10000, 15000, 20000,
  30000, 60000,
];

/** A histogram with nothing counted. */
export function emptyLatencyBuckets(): number[] {
  return latencyBoundsMs.map(() => 0);
}

/** Adds `more` into `into`, element by element. */
export function addLatencyBuckets(into: number[], more: readonly number[]): void {
  for (let index = 0; index < into.length; index += 1) {
    into[index] = (into[index] ?? 0) + (more[index] ?? 0);
  }
}

/** The cumulative histogram of a list of latencies, as the rollups compute it. */
export function latencyBucketsOf(latenciesMs: readonly number[]): number[] {
  return latencyBoundsMs.map((bound) => latenciesMs.filter((latency) => latency <= bound).length);
}

/**
 * The q-quantile (0 < q <= 1) by nearest rank: the bound of the first bucket holding the
 * ceil(q * total)-th fastest request, capped at the slowest request seen (so a percentile never
 * exceeds the maximum, and requests past the last bound report the maximum). Null when empty.
 */
export function latencyPercentile(
  buckets: readonly number[],
  total: number,
  maxMs: number,
  quantile: number,
): number | null {
  if (total <= 0) {
    return null;
  }
  const rank = Math.max(1, Math.ceil(quantile * total));
  for (let index = 0; index < latencyBoundsMs.length; index += 1) {
    if ((buckets[index] ?? 0) >= rank) {
      return Math.min(latencyBoundsMs[index] ?? maxMs, maxMs);
    }
  }
  return maxMs;
}

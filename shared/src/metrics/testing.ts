import { spawnSync } from "node:child_process";
import parsePrometheusTextFormat, { type ParsedFamily } from "parse-prometheus-text-format";

/**
 * For tests: reads a `/metrics` body with a real Prometheus text parser (not a regex), and finds
 * samples in it. The parser throws on text Prometheus could not scrape. It folds the series of a
 * histogram into one (labels dropped, buckets of the last series kept), so tests read a
 * histogram's count only where it has a single series.
 */
export function parseMetricsText(text: string): ParsedFamily[] {
  return parsePrometheusTextFormat(text);
}

/** The value of the sample of `name` whose labels include `labels`; null when absent. */
export function sampleValue(
  families: ParsedFamily[],
  name: string,
  labels: Record<string, string> = {},
): number | null {
  const family = families.find((candidate) => candidate.name === name);
  const sample = family?.metrics.find((metric) =>
    Object.entries(labels).every(([key, value]) => metric.labels?.[key] === value),
  );
  if (sample === undefined) {
    return null;
  }
  return Number(sample.value ?? sample.count ?? sample.buckets?.["+Inf"]);
}

/** The sum of every sample of `name` whose labels include `labels`. */
export function sampleSum(
  families: ParsedFamily[],
  name: string,
  labels: Record<string, string> = {},
): number {
  const family = families.find((candidate) => candidate.name === name);
  return (family?.metrics ?? [])
    .filter((metric) =>
      Object.entries(labels).every(([key, value]) => metric.labels?.[key] === value),
    )
    .reduce(
      (total, metric) =>
        total + Number(metric.value ?? metric.count ?? metric.buckets?.["+Inf"] ?? 0),
      0,
    );
}

/** Whether Prometheus's own checker is installed (Debian's `prometheus` package brings it). */
export const promtoolAvailable = spawnSync("promtool", ["--version"]).status === 0;

/**
 * Feeds a `/metrics` body to `promtool check metrics`: Prometheus's own parser, plus its lint of
 * names and types. Returns what promtool printed; `ok` when it found nothing to complain about.
 */
export function promtoolCheckMetrics(text: string): { ok: boolean; output: string } {
  const result = spawnSync("promtool", ["check", "metrics"], { input: text });
  return {
    ok: result.status === 0,
    output: `${result.stdout?.toString() ?? ""}${result.stderr?.toString() ?? ""}`,
  };
}

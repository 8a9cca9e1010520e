import type { Logger } from "@viper/shared/logger";
import type { BenchDatabase } from "./bench-database.ts";
import { benchChains, createBenchDatabase } from "./bench-database.ts";
import { benchKey, loadKeyIndexes } from "./bench-keys.ts";
import { relayName } from "./figures.ts";
import type { LoadGenerator } from "./load.ts";
import type { MeasureTarget } from "./measure.ts";
import { measure } from "./measure.ts";
import type { BenchProcess, ProcessGroup } from "./processes.ts";
import { memoryBytes } from "./processes.ts";
import type { RelayAvailability } from "./relay-stack.ts";
import { startDevnetProcess, startRelayProcess, warmRelay } from "./relay-stack.ts";
import type { BenchSettings, ScenarioId } from "./settings.ts";
import type { ScenarioResult } from "./targets.ts";

/** What every scenario of one run shares. */
export interface RunContext {
  settings: BenchSettings;
  logger: Logger;
  group: ProcessGroup;
  runDir: string;
  generator: LoadGenerator;
  upstreamUrl: string;
  /** Long-running processes under test whose CPU use each run reports, by name. */
  watched: Record<string, number>;
}

export const scenarioLabels = {
  A: "A upstream direct",
  B: "B nginx -> upstream",
  P: "P bare Bun proxy",
  C: "C relay, plain endpoint",
  /** C when the relay cannot serve plain endpoints yet and C runs on the Viper path instead. */
  cStandIn: "C* relay, Viper path",
  D: "D relay, Viper path",
} as const;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A cell that was not measured, with the reason shown in the table. */
export function notMeasured(
  scenario: ScenarioId,
  label: string,
  keys: number | null,
  batch: number,
  status: "unavailable" | "failed",
  reason: string,
): ScenarioResult {
  return {
    scenario,
    label,
    keys,
    batch,
    status,
    reason,
    load: null,
    sample: null,
    errors: null,
    relayPeakBytes: null,
    relayRssBytes: null,
    cpu: null,
  };
}

/**
 * Measures one cell; anything that goes wrong becomes a failed cell with its reason, so one
 * broken scenario does not hide the others' numbers.
 */
export async function measureCell(
  ctx: RunContext,
  target: MeasureTarget,
  label: string,
  keys: number | null,
  relay: BenchProcess | null,
): Promise<ScenarioResult> {
  const { settings, logger } = ctx;
  logger.info({ scenario: target.scenario, keys, batch: target.batchSize }, "measuring");
  try {
    const measured = await measure(target, {
      generator: ctx.generator,
      durationSec: settings.durationSec,
      warmupSec: settings.warmupSec,
      connections: settings.connections,
      threads: settings.threads,
      watched: relay === null ? ctx.watched : { ...ctx.watched, [relayName]: relay.pid },
    });
    if (relay?.hasExited()) {
      throw new Error(`the relay exited during the run; see ${relay.logPath}`);
    }
    const relayPeakBytes = relay === null ? null : memoryBytes(relay.pid, "VmHWM");
    const relayRssBytes = relay === null ? null : memoryBytes(relay.pid, "VmRSS");
    logger.info(
      { scenario: target.scenario, rps: Math.round(measured.load.rps), errors: measured.errors },
      "measured",
    );
    return {
      scenario: target.scenario,
      label,
      keys,
      batch: target.batchSize,
      status: "ok",
      reason: null,
      ...measured,
      relayPeakBytes,
      relayRssBytes,
    };
  } catch (error) {
    logger.error({ scenario: target.scenario, keys, err: error }, "scenario failed");
    return notMeasured(target.scenario, label, keys, target.batchSize, "failed", errorText(error));
  }
}

/** Where a proxy in front of the upstream listens, or why it is not there. */
export type ProxyEndpoint =
  | { url: string }
  | { url: null; status: "unavailable" | "failed"; reason: string };

/**
 * A, B and P at every batch size: the floor, the reference proxy, and the smallest proxy the
 * relay's runtime can be.
 */
export async function runBaselines(
  ctx: RunContext,
  proxies: { nginx: ProxyEndpoint; bareProxy: ProxyEndpoint },
): Promise<ScenarioResult[]> {
  const endpoints = { A: { url: ctx.upstreamUrl }, B: proxies.nginx, P: proxies.bareProxy };
  const results: ScenarioResult[] = [];
  for (const batch of ctx.settings.batchSizes) {
    for (const scenario of ["A", "B", "P"] as const) {
      if (!ctx.settings.scenarios.includes(scenario)) {
        continue;
      }
      const endpoint: ProxyEndpoint = endpoints[scenario];
      const label = scenarioLabels[scenario];
      if (endpoint.url === null) {
        results.push(notMeasured(scenario, label, null, batch, endpoint.status, endpoint.reason));
        continue;
      }
      const target = {
        scenario,
        baseUrl: endpoint.url,
        paths: ["/"],
        batchSize: batch,
        label: `${scenario}-batch${batch}`,
      };
      results.push(await measureCell(ctx, target, label, null, null));
    }
  }
  return results;
}

function relayScenarios(ctx: RunContext): ScenarioId[] {
  return ctx.settings.scenarios.filter((id) => id === "C" || id === "D");
}

function labelFor(scenario: ScenarioId, availability: RelayAvailability): string {
  if (scenario === "C") {
    return availability.plainUpstreams ? scenarioLabels.C : scenarioLabels.cStandIn;
  }
  return scenarioLabels.D;
}

/** Every relay cell marked with the same status and reason, when none of them can run. */
function allRelayCells(
  ctx: RunContext,
  availability: RelayAvailability,
  keyCounts: number[],
  status: "unavailable" | "failed",
  reason: string,
): ScenarioResult[] {
  return keyCounts.flatMap((keys) =>
    ctx.settings.batchSizes.flatMap((batch) =>
      relayScenarios(ctx).map((id) =>
        notMeasured(id, labelFor(id, availability), keys, batch, status, reason),
      ),
    ),
  );
}

/** The paths the load sends to for one scenario: one per load key, on the scenario's chain. */
function relayPaths(
  scenario: ScenarioId,
  availability: RelayAvailability,
  keys: string[],
): string[] {
  const chain =
    scenario === "C" && availability.plainUpstreams ? benchChains.plain : benchChains.viper;
  return keys.map((key) => `/v1/${chain.slug}/${key}`);
}

/** The keys the load uses with `total` keys in the database (warmed before it runs). */
function loadKeys(firstKey: string, total: number, wanted: number): string[] {
  return total === 1 ? [firstKey] : loadKeyIndexes(total - 1, wanted).map(benchKey);
}

/** C and D for every key count and batch size, on a fresh bench database and one devnet. */
export async function runRelayScenarios(
  ctx: RunContext,
  availability: RelayAvailability,
): Promise<ScenarioResult[]> {
  const { settings } = ctx;
  if (relayScenarios(ctx).length === 0) {
    return [];
  }
  if (!availability.available) {
    return allRelayCells(
      ctx,
      availability,
      settings.keyCounts,
      "unavailable",
      availability.reason ?? "relay not available",
    );
  }
  const database = await createBenchDatabase(
    settings.adminDatabaseUrl,
    settings.databaseName,
    ctx.logger,
  );
  try {
    const devnet = await startDevnetProcess(ctx.group, ctx.runDir, settings, ctx.upstreamUrl).catch(
      (error: unknown) => errorText(error),
    );
    if (typeof devnet === "string") {
      return allRelayCells(ctx, availability, settings.keyCounts, "failed", `devnet: ${devnet}`);
    }
    ctx.watched.devnet = devnet.child.pid;
    const results: ScenarioResult[] = [];
    for (const keys of settings.keyCounts) {
      await database.growTo(keys);
      results.push(...(await runKeyCount(ctx, availability, database, devnet.dispatcherUrl, keys)));
    }
    await devnet.child.stop();
    return results;
  } finally {
    await database.close();
  }
}

/** One key count: a fresh relay (so its peak memory belongs to this count), warmed, measured. */
async function runKeyCount(
  ctx: RunContext,
  availability: RelayAvailability,
  database: BenchDatabase,
  dispatcherUrl: string,
  keys: number,
): Promise<ScenarioResult[]> {
  let relay: { child: BenchProcess; url: string };
  try {
    relay = await startRelayProcess(ctx.group, ctx.runDir, {
      settings: ctx.settings,
      databaseUrl: database.url,
      dispatcherUrl,
      upstreamUrl: ctx.upstreamUrl,
      plainUpstreams: availability.plainUpstreams,
      name: `relay-keys${keys}`,
    });
  } catch (error) {
    return allRelayCells(ctx, availability, [keys], "failed", `relay: ${errorText(error)}`);
  }
  try {
    const load = loadKeys(database.firstKey, keys, ctx.settings.loadKeys);
    return await measureKeyCount(ctx, availability, relay, load, keys);
  } finally {
    await relay.child.stop();
  }
}

async function measureKeyCount(
  ctx: RunContext,
  availability: RelayAvailability,
  relay: { child: BenchProcess; url: string },
  keys: string[],
  keyCount: number,
): Promise<ScenarioResult[]> {
  const scenarios = relayScenarios(ctx);
  const paths = new Map(scenarios.map((id) => [id, relayPaths(id, availability, keys)]));
  try {
    await warmRelay([...paths.values()].flat().map((path) => `${relay.url}${path}`));
  } catch (error) {
    return allRelayCells(ctx, availability, [keyCount], "failed", errorText(error));
  }
  const results: ScenarioResult[] = [];
  for (const batch of ctx.settings.batchSizes) {
    for (const scenario of scenarios) {
      const target: MeasureTarget = {
        scenario,
        baseUrl: relay.url,
        paths: paths.get(scenario) ?? [],
        batchSize: batch,
        label: `${scenario}-keys${keyCount}-batch${batch}`,
      };
      results.push(
        await measureCell(ctx, target, labelFor(scenario, availability), keyCount, relay.child),
      );
    }
  }
  return results;
}

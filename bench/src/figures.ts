import type { ScenarioId } from "./settings.ts";
import type { ScenarioResult } from "./targets.ts";

/** The bare Bun proxy of scenario P, as its process, its log and its CPU figure are named. */
export const bareProxyName = "bare-proxy";

/** The relay of scenarios C and D, as its CPU figure is named. */
export const relayName = "relay";

/**
 * The process a scenario puts under test, by the name the bench watches its CPU under
 * (RunContext.watched). A and B have none of ours: the upstream and nginx are the yardsticks.
 */
export function serverUnderTest(scenario: ScenarioId): string | null {
  switch (scenario) {
    case "P":
      return bareProxyName;
    case "C":
    case "D":
      return relayName;
    default:
      return null;
  }
}

/** CPU of the cell's server under test during the measured run, in % of one core. */
export function serverCpuPct(result: ScenarioResult): number | null {
  const name = serverUnderTest(result.scenario);
  if (name === null || result.cpu === null) {
    return null;
  }
  return result.cpu.processes[name] ?? null;
}

/**
 * CPU time the cell's server under test spent per request answered, in microseconds. Steadier
 * than rps on a shared machine: when other work takes the cores, rps falls but this barely moves.
 */
export function cpuMicrosPerRequest(result: ScenarioResult): number | null {
  const cpuPct = serverCpuPct(result);
  if (cpuPct === null || result.load === null || result.load.rps <= 0) {
    return null;
  }
  // cpuPct is CPU seconds per second x 100; rps is requests per second.
  const micros = ((cpuPct / 100) * 1_000_000) / result.load.rps;
  return Math.round(micros * 10) / 10;
}

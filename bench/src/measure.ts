import { type CpuUse, startCpuWatch } from "./cpu.ts";
import { answerProblem, requestBody } from "./json-rpc-bodies.ts";
import type { LoadGenerator, LoadResult } from "./load.ts";
import type { ScenarioId } from "./settings.ts";

/** A server to measure and the requests to send it. */
export interface MeasureTarget {
  scenario: ScenarioId;
  baseUrl: string;
  paths: string[];
  batchSize: number;
  /** Names the run's files; unique within a run. */
  label: string;
}

export interface MeasureOptions {
  generator: LoadGenerator;
  durationSec: number;
  warmupSec: number;
  connections: number;
  threads: number;
  /** Processes whose CPU use is read over the measured run, by name. */
  watched: Record<string, number>;
}

/** Bodies checked while the load ran: how many, how many were wrong, and the first problem. */
export interface BodySample {
  checked: number;
  bad: number;
  firstProblem: string | null;
}

/** A measured run: the load generator's numbers, the body sample, and the errors of both. */
export interface Measurement {
  load: LoadResult;
  sample: BodySample;
  /** Bad statuses, socket errors, timeouts, and wrong bodies in the sample. */
  errors: number;
  cpu: CpuUse;
}

/** The target answered its first request wrongly; nothing was measured. */
export class PreflightError extends Error {
  override name = "PreflightError";
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends one request and returns why its answer is wrong, or null when it is right. */
export async function checkOnce(
  url: string,
  body: string,
  batchSize: number,
): Promise<string | null> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      signal: AbortSignal.timeout(5_000),
    });
    return answerProblem(response.status, await response.text(), batchSize);
  } catch (error) {
    return `request failed: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/**
 * Checks answers while the load runs: one request every `intervalMs`, rotating through the paths
 * like the load does, until `stop()`; at most `maxChecks` requests, so it ends even if stop()
 * never comes.
 */
function startSampler(target: MeasureTarget, body: string, intervalMs: number, maxChecks: number) {
  const sample: BodySample = { checked: 0, bad: 0, firstProblem: null };
  let stopped = false;
  const done = (async () => {
    while (!stopped && sample.checked < maxChecks) {
      const path = target.paths[sample.checked % target.paths.length] ?? "/";
      const problem = await checkOnce(`${target.baseUrl}${path}`, body, target.batchSize);
      sample.checked += 1;
      if (problem !== null) {
        sample.bad += 1;
        sample.firstProblem ??= problem;
      }
      await sleep(intervalMs);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await done;
      return sample;
    },
  };
}

/**
 * Measures one target: a checked first request, an unmeasured warm-up, then the measured load
 * with a sample of answer bodies checked alongside it.
 */
export async function measure(
  target: MeasureTarget,
  options: MeasureOptions,
): Promise<Measurement> {
  const body = requestBody(target.batchSize);
  const firstPath = target.paths[0] ?? "/";
  const preflight = await checkOnce(`${target.baseUrl}${firstPath}`, body, target.batchSize);
  if (preflight !== null) {
    throw new PreflightError(`first request answered wrongly: ${preflight}`);
  }
  const spec = {
    baseUrl: target.baseUrl,
    paths: target.paths,
    body,
    connections: options.connections,
    threads: options.threads,
  };
  if (options.warmupSec > 0) {
    await options.generator.run({
      ...spec,
      durationSec: options.warmupSec,
      label: `${target.label}-warmup`,
    });
  }
  const cpuWatch = startCpuWatch(options.watched);
  const sampler = startSampler(target, body, 100, options.durationSec * 10 + 10);
  const [run] = await Promise.allSettled([
    options.generator.run({ ...spec, durationSec: options.durationSec, label: target.label }),
  ]);
  const cpu = cpuWatch();
  const sample = await sampler.stop();
  if (run.status === "rejected") {
    throw run.reason;
  }
  const load = run.value;
  const errors = load.badStatus + load.socketErrors + load.timeouts + sample.bad;
  return { load, sample, errors, cpu };
}

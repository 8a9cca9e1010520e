/**
 * The relay benchmark (issue #7): `bun run bench/run.ts` or `npm run bench`.
 *
 * Starts a fixed JSON-RPC upstream, nginx, the devnet and the relay, each in its own process,
 * drives them with wrk (or autocannon) and reports throughput, latency, errors and the relay's
 * peak memory for scenarios A-D, with the targets checked. bench/README.md explains the output.
 * Exit code: 0 when every scenario ran (whatever the targets say), 1 when something could not.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, type Logger } from "@viper/shared/logger";
import { assertPostgresReachable, flushBenchRedis } from "./src/bench-database.ts";
import type { LoadGenerator } from "./src/load.ts";
import { autocannonGenerator } from "./src/load-autocannon.ts";
import { wrkGenerator } from "./src/load-wrk.ts";
import { startNginx } from "./src/nginx.ts";
import { ProcessGroup } from "./src/processes.ts";
import { type RelayAvailability, relayAvailability, startReadyChild } from "./src/relay-stack.ts";
import type { BenchReport } from "./src/report.ts";
import {
  describeMachine,
  formatReport,
  publicSettings,
  withShares,
  writeReport,
} from "./src/report.ts";
import type { RunContext } from "./src/scenarios.ts";
import { runBaselines, runRelayScenarios, scenarioLabels } from "./src/scenarios.ts";
import { type BenchSettings, readSettings } from "./src/settings.ts";
import { ensureProgram, programVersion } from "./src/system-tools.ts";
import { evaluateTargets } from "./src/targets.ts";

async function pickGenerator(
  settings: BenchSettings,
  group: ProcessGroup,
  runDir: string,
  logger: Logger,
): Promise<LoadGenerator> {
  if (settings.loadGenerator !== "autocannon") {
    const wrk = await ensureProgram("wrk", "wrk", logger);
    if (wrk !== null) {
      // "wrk debian/4.1.0-3+b2 [epoll] Copyright ..." -> "wrk debian/4.1.0-3+b2"
      const version = (await programVersion(wrk, "--version")).split(" [")[0] ?? "wrk";
      return wrkGenerator(wrk, version, group, runDir);
    }
    if (settings.loadGenerator === "wrk") {
      throw new Error("BENCH_LOADGEN=wrk but wrk is not installed and could not be installed");
    }
    logger.warn("wrk is not available; using autocannon");
  }
  const { version } = createRequire(import.meta.url)("autocannon/package.json") as {
    version: string;
  };
  return autocannonGenerator(group, `autocannon ${version}`);
}

/** nginx's URL, or null with the reason it is not there. */
async function startNginxIfPossible(
  ctx: RunContext,
): Promise<{ url: string | null; version: string | null; missing: string }> {
  if (!ctx.settings.scenarios.includes("B")) {
    return { url: null, version: null, missing: "not selected" };
  }
  const nginx = await ensureProgram("nginx", "nginx", ctx.logger);
  if (nginx === null) {
    return { url: null, version: null, missing: "nginx not available (apt-get install -y nginx)" };
  }
  const version = (await programVersion(nginx, "-v")).replace("nginx version: ", "");
  const proxy = await startNginx(ctx.group, nginx, ctx.runDir, ctx.upstreamUrl);
  ctx.watched.nginx = proxy.process.pid;
  return { url: proxy.url, version, missing: "" };
}

async function runBench(
  settings: BenchSettings,
  logger: Logger,
  group: ProcessGroup,
  runDir: string,
): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const generator = await pickGenerator(settings, group, runDir, logger);
  const upstream = await startReadyChild(group, runDir, "upstream", "upstream-process.ts", {});
  const upstreamUrl = String(upstream.info.url);
  const watched = { upstream: upstream.child.pid };
  const ctx: RunContext = { settings, logger, group, runDir, generator, upstreamUrl, watched };
  const relay = relayAvailability();
  if (relay.available && settings.scenarios.some((id) => id === "C" || id === "D")) {
    // Before anything else, so a Postgres or Redis that is down ends the run before the long part.
    await assertPostgresReachable(settings.adminDatabaseUrl);
    await flushBenchRedis(settings.redisUrl);
  }

  const nginx = await startNginxIfPossible(ctx);
  const results = await runBaselines(ctx, nginx.url, nginx.missing);
  results.push(...(await runRelayScenarios(ctx, relay)));

  return {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: describeMachine(generator.version, nginx.version),
    settings: publicSettings(settings),
    relay,
    results: withShares(results),
    targets: evaluateTargets(results),
    notes: relayNotes(settings, relay),
  };
}

/** What a reader must know about how the relay ran, while some of its features are missing. */
function relayNotes(settings: BenchSettings, relay: RelayAvailability): string[] {
  const notes: string[] = [];
  if (!relay.available || !settings.scenarios.some((id) => id === "C" || id === "D")) {
    return notes;
  }
  if (!relay.plainUpstreams && settings.scenarios.includes("C")) {
    notes.push(
      `${scenarioLabels.cStandIn}: the relay has no plain upstream endpoints yet, so C runs on the Viper path (like D) and is held to C's targets.`,
    );
  }
  notes.push(
    relay.rateLimitSetting === null
      ? "rate limiting: the relay reads no rate limit setting yet, so C and D ran without it."
      : `rate limiting: on, through ${relay.rateLimitSetting} (a tier far above the load).`,
  );
  return notes;
}

async function main(): Promise<number> {
  const logger = createLogger({
    service: "bench",
    level: process.env.LOG_LEVEL ?? "info",
    format: process.stdout.isTTY ? "pretty" : "json",
  });
  const settings = readSettings();
  const group = new ProcessGroup();
  const runDir = mkdtempSync(join(tmpdir(), "viper-bench-"));
  let interrupted = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (interrupted) {
        return;
      }
      interrupted = true;
      logger.warn({ signal }, "interrupted; stopping everything the bench started");
      group.stopAll().finally(() => {
        rmSync(runDir, { recursive: true, force: true });
        process.exit(130);
      });
    });
  }
  let keepLogs = true;
  try {
    const report = await runBench(settings, logger, group, runDir);
    const path = writeReport(settings.resultsDir, report);
    process.stdout.write(formatReport(report));
    process.stdout.write(`results: ${path}\n`);
    const failed = report.results.some((result) => result.status === "failed");
    keepLogs = failed;
    if (failed) {
      process.stdout.write(`logs of the failed run: ${runDir}\n`);
    }
    return failed ? 1 : 0;
  } catch (error) {
    logger.error({ err: error, logs: runDir }, "the bench could not run");
    return 1;
  } finally {
    await group.stopAll();
    if (!keepLogs) {
      rmSync(runDir, { recursive: true, force: true });
    }
  }
}

process.exit(await main());

/**
 * The relay benchmark (issue #7): `bun run bench/run.ts` or `npm run bench`.
 *
 * Starts a fixed JSON-RPC upstream, nginx, a bare Bun proxy, the devnet and the relay, each in its
 * own process, drives them with wrk (or autocannon) and reports throughput, latency, errors, CPU
 * and the relay's peak memory for scenarios A, B, P, C and D, with the targets checked and
 * reference lines beside them. bench/README.md explains the output.
 * Exit code: 0 when every scenario ran (whatever the targets say), 1 when something could not.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, type Logger } from "@viper/shared/logger";
import { startBareProxy } from "./src/bare-proxy.ts";
import { assertPostgresReachable, flushBenchRedis } from "./src/bench-database.ts";
import { bareProxyName } from "./src/figures.ts";
import type { LoadGenerator } from "./src/load.ts";
import { autocannonGenerator } from "./src/load-autocannon.ts";
import { wrkGenerator } from "./src/load-wrk.ts";
import { startNginx } from "./src/nginx.ts";
import { ProcessGroup } from "./src/processes.ts";
import { evaluateReferences } from "./src/references.ts";
import { type RelayAvailability, relayAvailability, startReadyChild } from "./src/relay-stack.ts";
import type { BenchReport } from "./src/report.ts";
import {
  describeMachine,
  formatReport,
  publicSettings,
  withFigures,
  writeReport,
} from "./src/report.ts";
import type { ProxyEndpoint, RunContext } from "./src/scenarios.ts";
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

/** nginx's URL and version, or the reason it is not there. */
async function startNginxIfPossible(
  ctx: RunContext,
): Promise<{ endpoint: ProxyEndpoint; version: string | null }> {
  if (!ctx.settings.scenarios.includes("B")) {
    return {
      endpoint: { url: null, status: "unavailable", reason: "not selected" },
      version: null,
    };
  }
  const nginx = await ensureProgram("nginx", "nginx", ctx.logger);
  if (nginx === null) {
    const reason = "nginx not available (apt-get install -y nginx)";
    return { endpoint: { url: null, status: "unavailable", reason }, version: null };
  }
  const version = (await programVersion(nginx, "-v")).replace("nginx version: ", "");
  const proxy = await startNginx(ctx.group, nginx, ctx.runDir, ctx.upstreamUrl);
  ctx.watched.nginx = proxy.process.pid;
  return { endpoint: { url: proxy.url }, version };
}

/** The bare Bun proxy of scenario P when it is selected; a start that fails fails only P. */
async function startBareProxyIfSelected(ctx: RunContext): Promise<ProxyEndpoint> {
  if (!ctx.settings.scenarios.includes("P")) {
    return { url: null, status: "unavailable", reason: "not selected" };
  }
  try {
    const proxy = await startBareProxy(ctx.group, ctx.runDir, ctx.upstreamUrl);
    ctx.watched[bareProxyName] = proxy.process.pid;
    return { url: proxy.url };
  } catch (error) {
    ctx.logger.error({ err: error }, "the bare proxy did not start");
    const reason = `bare proxy: ${error instanceof Error ? error.message : String(error)}`;
    return { url: null, status: "failed", reason };
  }
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
  const bareProxy = await startBareProxyIfSelected(ctx);
  const results = await runBaselines(ctx, { nginx: nginx.endpoint, bareProxy });
  results.push(...(await runRelayScenarios(ctx, relay)));

  return {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: describeMachine(generator.version, nginx.version),
    settings: publicSettings(settings),
    relay,
    results: withFigures(results),
    targets: evaluateTargets(results),
    references: evaluateReferences(results),
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

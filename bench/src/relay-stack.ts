import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { generateKeyPair } from "@viper/shared/protocol";
import { benchChains } from "./bench-database.ts";
import { bareProxyName } from "./figures.ts";
import { requestBody } from "./json-rpc-bodies.ts";
import { checkOnce } from "./measure.ts";
import type { BenchProcess, ProcessGroup } from "./processes.ts";
import { BenchProcessError, waitForReady } from "./processes.ts";
import {
  plainUpstreamsEnv,
  rateLimitEnv,
  rateLimitSetting,
  relayHasPlainUpstreams,
} from "./relay-seams.ts";
import type { BenchSettings } from "./settings.ts";

const benchDir = new URL("..", import.meta.url).pathname;
const relayMain = new URL("../../relay/src/main.ts", import.meta.url).pathname;

/** Whether the relay can be benchmarked yet, and on which path scenario C runs. */
export interface RelayAvailability {
  available: boolean;
  reason: string | null;
  /** True when C runs on plain upstream endpoints; false when it stands in on the Viper path. */
  plainUpstreams: boolean;
  /** The relay setting the bench's rate limits go in; null while the relay has none. */
  rateLimitSetting: string | null;
}

/** Looks for the relay's entry point and for plain upstream support in its configuration. */
export function relayAvailability(): RelayAvailability {
  if (!existsSync(relayMain)) {
    const reason = "relay not available (relay/src/main.ts is missing)";
    return { available: false, reason, plainUpstreams: false, rateLimitSetting: null };
  }
  return {
    available: true,
    reason: null,
    plainUpstreams: relayHasPlainUpstreams(),
    rateLimitSetting: rateLimitSetting(),
  };
}

/**
 * With BENCH_PROFILE_DIR set, the relay, the devnet and the bare proxy write a CPU profile there
 * when they stop (Bun's --cpu-prof-md: a markdown summary of where the time went).
 */
function profileArgs(name: string): string[] {
  const dir = process.env.BENCH_PROFILE_DIR;
  const profiled = name.startsWith("relay") || name === "devnet" || name === bareProxyName;
  if (dir === undefined || dir === "" || !profiled) {
    return [];
  }
  return ["--cpu-prof-md", `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}.md`];
}

/** Starts a bench child that writes a ready file, and waits for it. */
export async function startReadyChild(
  group: ProcessGroup,
  runDir: string,
  name: string,
  script: string,
  env: Record<string, string>,
): Promise<{ child: BenchProcess; info: Record<string, unknown> }> {
  const readyFile = join(runDir, `${name}.ready.json`);
  // A file left by an earlier child of the same name would make this one look ready at once.
  rmSync(readyFile, { force: true });
  const child = group.spawn({
    name,
    cmd: [process.execPath, ...profileArgs(name), join(benchDir, script)],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env, BENCH_READY_FILE: readyFile },
    logDir: runDir,
  });
  const info = await waitForReady(child, readyFile, 60_000);
  return { child, info };
}

function stringField(info: Record<string, unknown>, field: string): string {
  const value = info[field];
  if (typeof value !== "string") {
    throw new BenchProcessError(`ready file has no ${field}`);
  }
  return value;
}

/** Starts the devnet process whose servicers forward to the fixed upstream. */
export async function startDevnetProcess(
  group: ProcessGroup,
  runDir: string,
  settings: BenchSettings,
  upstreamUrl: string,
): Promise<{ child: BenchProcess; dispatcherUrl: string }> {
  const { child, info } = await startReadyChild(group, runDir, "devnet", "devnet-process.ts", {
    BENCH_UPSTREAM_URL: upstreamUrl,
    BENCH_CHAIN_ID: benchChains.viper.id,
    BENCH_SERVICERS: String(settings.servicerCount),
    BENCH_BLOCK_TIME_MS: String(settings.blockTimeMs),
    BENCH_BLOCKS_PER_SESSION: String(settings.blocksPerSession),
  });
  return { child, dispatcherUrl: stringField(info, "dispatcherUrl") };
}

export interface RelayProcessInput {
  settings: BenchSettings;
  databaseUrl: string;
  dispatcherUrl: string;
  upstreamUrl: string;
  plainUpstreams: boolean;
  /** Names the process and its log, e.g. "relay-keys10000". */
  name: string;
}

/** A relay process for the bench, with everything on: key checks, limits, usage logging. */
export async function startRelayProcess(
  group: ProcessGroup,
  runDir: string,
  input: RelayProcessInput,
): Promise<{ child: BenchProcess; url: string }> {
  const env: Record<string, string> = {
    NODE_ENV: "production",
    LOG_LEVEL: "info",
    LOG_FORMAT: "json",
    DATABASE_URL: input.databaseUrl,
    REDIS_URL: input.settings.redisUrl,
    RELAY_HOST: "127.0.0.1",
    RELAY_PORT: "0",
    VIPER_DISPATCH_URLS: input.dispatcherUrl,
    // Any requestor: the devnet stakes none, so it accepts every one.
    VIPER_REQUESTOR_PRIVATE_KEY: generateKeyPair().privateKeyHex,
    VIPER_BLOCKS_PER_SESSION: String(input.settings.blocksPerSession),
    ...rateLimitEnv(),
    ...(input.plainUpstreams ? plainUpstreamsEnv(benchChains.plain.id, input.upstreamUrl) : {}),
    ...engineRamEnv(input.settings.relayEngineRamBytes),
  };
  const { child, info } = await startReadyChild(group, runDir, input.name, "relay-process.ts", env);
  return { child, url: stringField(info, "url") };
}

/** The engine setting relay/README.md advises for production, unless the run turns it off. */
function engineRamEnv(bytes: number): Record<string, string> {
  return bytes > 0 ? { BUN_JSC_forceRAMSize: String(bytes) } : {};
}

/**
 * Sends one request per key on each path, so the measured load finds every key and the session
 * already cached; fails with the first wrong answer. At most `parallel` requests at a time.
 */
export async function warmRelay(urls: string[], parallel = 16): Promise<void> {
  const body = requestBody(1);
  let next = 0;
  const worker = async () => {
    while (next < urls.length) {
      const url = urls[next] ?? "";
      next += 1;
      const problem = await checkOnce(url, body, 1);
      if (problem !== null) {
        throw new BenchProcessError(
          `warming ${url.replace(/vpr_\w+/, "vpr_…")} failed: ${problem}`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, urls.length) }, worker));
}

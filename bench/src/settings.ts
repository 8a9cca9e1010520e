/** What one bench run measures and against which services; read from BENCH_* variables. */
export interface BenchSettings {
  /** Seconds of measured load per scenario. */
  durationSec: number;
  /** Seconds of unmeasured load before each measured run (JIT, caches, keep-alive pools). */
  warmupSec: number;
  connections: number;
  /** wrk threads; one leaves the second core of a small machine to the server under test. */
  threads: number;
  matrix: "quick" | "full";
  keyCounts: number[];
  batchSizes: number[];
  /** Distinct keys the load rotates through when the database holds more than one. */
  loadKeys: number;
  scenarios: ScenarioId[];
  loadGenerator: "auto" | "wrk" | "autocannon";
  /** A Postgres URL with the right to create databases; the bench makes its own from it. */
  adminDatabaseUrl: string;
  databaseName: string;
  /** Redis URL including a database number the bench may flush. */
  redisUrl: string;
  /** Devnet block time; a session lasts blocksPerSession of these. */
  blockTimeMs: number;
  blocksPerSession: number;
  servicerCount: number;
  /**
   * The RAM, in bytes, the relay's JavaScript engine is told the machine has
   * (BUN_JSC_forceRAMSize), as relay/README.md advises for production; 0 leaves the engine's
   * own reading of the machine.
   */
  relayEngineRamBytes: number;
  resultsDir: string;
}

export type ScenarioId = "A" | "B" | "P" | "C" | "D";

const allScenarios: ScenarioId[] = ["A", "B", "P", "C", "D"];

/** Raised when a BENCH_* variable holds a value the bench cannot use. */
export class SettingsError extends Error {
  override name = "SettingsError";
}

type Env = Record<string, string | undefined>;

function intSetting(env: Env, name: string, fallback: number, minimum: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new SettingsError(`${name} must be an integer >= ${minimum}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function choice<T extends string>(env: Env, name: string, options: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") {
    return fallback;
  }
  const found = options.find((option) => option === raw);
  if (found === undefined) {
    throw new SettingsError(
      `${name} must be one of ${options.join(", ")}, got ${JSON.stringify(raw)}`,
    );
  }
  return found;
}

function scenarioList(env: Env): ScenarioId[] {
  const raw = env.BENCH_SCENARIOS?.trim();
  if (raw === undefined || raw === "") {
    return allScenarios;
  }
  const picked = raw.split(",").map((part) => part.trim().toUpperCase());
  const unknown = picked.filter((part) => !allScenarios.some((id) => id === part));
  if (unknown.length > 0) {
    throw new SettingsError(`BENCH_SCENARIOS: unknown scenario ${unknown.join(", ")}`);
  }
  return allScenarios.filter((id) => picked.includes(id));
}

const loopbackHosts = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/** The bench only ever talks to this machine; a URL elsewhere is refused before anything runs. */
export function assertLoopbackUrl(name: string, url: string): string {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch (cause) {
    throw new SettingsError(`${name} is not a URL: ${JSON.stringify(url)}`, { cause });
  }
  if (!loopbackHosts.has(host) && !host.startsWith("127.")) {
    throw new SettingsError(`${name} must point at a loopback address, got host ${host}`);
  }
  return url;
}

/** Reads the bench settings; throws SettingsError naming the first bad variable. */
export function readSettings(env: Env = process.env): BenchSettings {
  const matrix = choice(env, "BENCH_MATRIX", ["quick", "full"] as const, "quick");
  return {
    durationSec: intSetting(env, "BENCH_DURATION", 10, 1),
    warmupSec: intSetting(env, "BENCH_WARMUP", 2, 0),
    connections: intSetting(env, "BENCH_CONNECTIONS", 64, 1),
    threads: intSetting(env, "BENCH_THREADS", 1, 1),
    matrix,
    keyCounts: matrix === "full" ? [1, 10_000, 1_000_000] : [1],
    batchSizes: matrix === "full" ? [1, 10, 100] : [1],
    loadKeys: intSetting(env, "BENCH_LOAD_KEYS", 1_000, 1),
    scenarios: scenarioList(env),
    loadGenerator: choice(env, "BENCH_LOADGEN", ["auto", "wrk", "autocannon"] as const, "auto"),
    adminDatabaseUrl: assertLoopbackUrl(
      "BENCH_PG_ADMIN_URL",
      env.BENCH_PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    ),
    databaseName: "viper_bench",
    redisUrl: assertLoopbackUrl(
      "BENCH_REDIS_URL",
      env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379/9",
    ),
    blockTimeMs: intSetting(env, "BENCH_BLOCK_TIME_MS", 5_000, 100),
    blocksPerSession: intSetting(env, "BENCH_BLOCKS_PER_SESSION", 4, 1),
    servicerCount: intSetting(env, "BENCH_SERVICERS", 5, 1),
    relayEngineRamBytes: intSetting(env, "BENCH_RELAY_ENGINE_RAM", 400_000_000, 0),
    resultsDir: new URL("../results", import.meta.url).pathname,
  };
}

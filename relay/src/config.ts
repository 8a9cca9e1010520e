import {
  baseConfigShape,
  ConfigError,
  loadConfig,
  optionalString,
  port,
} from "@viper/shared/config";
import { keyPairFromPrivateKey } from "@viper/shared/protocol";
import { z } from "zod";
import { type RateLimitConfig, rateLimitConfigSchema } from "./rate-limit/config.ts";

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** A 1-4 byte lower-case hex id, as Viper names chains and zones. */
const shortHexId = z
  .string()
  .regex(/^(?:[0-9a-f]{2}){1,4}$/, "must be 1 to 4 bytes of lower-case hex");

/** RATE_LIMITS: JSON in the shape of rateLimitConfigSchema; absent or empty means the defaults. */
const rateLimitsJson = optionalString().transform((text, ctx): RateLimitConfig => {
  let value: unknown = {};
  try {
    value = text === undefined ? {} : JSON.parse(text);
  } catch {
    ctx.addIssue({ code: "custom", message: "must be a JSON object" });
    return z.NEVER;
  }
  const parsed = rateLimitConfigSchema.safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      ctx.addIssue({ code: "custom", message: `${issue.path.join(".")}: ${issue.message}` });
    }
    return z.NEVER;
  }
  return parsed.data;
});

const httpUrl = z.url({ protocol: /^https?$/ });

const plainUpstreamsSchema = z.record(shortHexId, z.array(httpUrl).min(1));

/**
 * What is wrong with RELAY_PLAIN_UPSTREAMS (JSON mapping a Viper chain id to its plain JSON-RPC
 * endpoints, e.g. `{"0b01":["http://127.0.0.1:8081"]}`), without repeating it: its URLs may
 * hold a provider's key.
 */
function plainUpstreamProblems(text: string | undefined): string[] {
  if (text === undefined || text.trim() === "") {
    return [];
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return ["RELAY_PLAIN_UPSTREAMS: must be a JSON object"];
  }
  const parsed = plainUpstreamsSchema.safeParse(value);
  if (parsed.success) {
    return [];
  }
  return parsed.error.issues.map((issue) => {
    const where = issue.path.length > 0 ? `.${issue.path.join(".")}` : "";
    // A record key that fails names itself in the path; chain ids are not secret.
    return `RELAY_PLAIN_UPSTREAMS${where}: ${issue.code === "invalid_format" ? "must be an http(s) URL" : issue.message}`;
  });
}

/** The plain upstream endpoints per chain id; {} when RELAY_PLAIN_UPSTREAMS is absent. */
export function plainUpstreamsOf(config: RelayConfig): Record<string, string[]> {
  const text = config.RELAY_PLAIN_UPSTREAMS;
  if (text === undefined || text.trim() === "") {
    return {};
  }
  const parsed = plainUpstreamsSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new ConfigError(plainUpstreamProblems(text));
  }
  return parsed.data;
}

const dispatchUrls = z
  .string()
  .transform((value) =>
    value
      .split(",")
      .map((url) => url.trim().replace(/\/+$/, ""))
      .filter((url) => url !== ""),
  )
  .pipe(z.array(httpUrl).min(1, "needs at least one http(s) URL"));

/** Everything the relay reads from its environment. */
export const relayConfigSchema = z.object({
  ...baseConfigShape,
  RELAY_HOST: z.string().min(1).default("127.0.0.1"),
  RELAY_PORT: port(8545),
  RELAY_MAX_BODY_BYTES: positiveInt(1024 * 1024),
  // The whole request, retries included, must answer within this many milliseconds.
  RELAY_DEADLINE_MS: positiveInt(10_000),
  // One attempt on one servicer; past it the relay moves on to another servicer.
  SERVICER_TIMEOUT_MS: positiveInt(2_500),
  VIPER_DISPATCH_URLS: dispatchUrls,
  // Checked by loadRelayConfig, not here: a failing zod field is echoed in the error message,
  // and a private key must never reach a terminal or a log.
  VIPER_REQUESTOR_PRIVATE_KEY: z.string().min(1),
  // Absent: the requestor key signs its own AAT and relays.
  VIPER_CLIENT_PRIVATE_KEY: optionalString(),
  VIPER_NUM_SERVICERS: positiveInt(5),
  VIPER_BLOCKS_PER_SESSION: positiveInt(4),
  VIPER_DEFAULT_ZONE: shortHexId.default("0001"),
  // How often the relay asks a dispatcher for the chain height to notice new sessions.
  VIPER_HEIGHT_POLL_MS: positiveInt(1_000),
  // How long a key record may be served from cache before it is read again.
  KEY_CACHE_TTL_MS: positiveInt(30_000),
  // Where relay rows wait while the database is away (one folder per relay instance); empty: in
  // memory only.
  RELAY_LOG_SPOOL_DIR: z.string().default(".data/relay-log-spool"),
  // Chains also served by plain JSON-RPC endpoints: straight to them when Viper has no session
  // for the chain, and as the fallback when every servicer failed (README, "Plain upstreams").
  // Checked by loadRelayConfig (plainUpstreamsOf reads it): its URLs may hold a provider's key,
  // and a failing zod field is echoed in the error message.
  RELAY_PLAIN_UPSTREAMS: optionalString(),
  // Tiers, method costs and bursts (README, "Rate limits"). Listed before the switch below:
  // bench/src/relay-seams.ts takes the first setting named like RATE_LIMIT as this one.
  RATE_LIMITS: rateLimitsJson,
  // While Redis is down: degrade (each instance limits on its own) or refuse every request.
  // Overrides RATE_LIMITS.onRedisDown when set.
  RATE_LIMIT_ON_REDIS_DOWN: z.enum(["degrade", "refuse"]).optional(),
});

export type RelayConfig = z.infer<typeof relayConfigSchema>;

/** The rate limiter's settings: RATE_LIMITS with the RATE_LIMIT_ON_REDIS_DOWN switch applied. */
export function rateLimitConfigOf(config: RelayConfig): RateLimitConfig {
  const onRedisDown = config.RATE_LIMIT_ON_REDIS_DOWN ?? config.RATE_LIMITS.onRedisDown;
  return { ...config.RATE_LIMITS, onRedisDown };
}

function isPrivateKey(hex: string): boolean {
  try {
    keyPairFromPrivateKey(hex);
    return true;
  } catch {
    return false;
  }
}

/** Problems with the private keys, named without their values. */
function privateKeyProblems(env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  for (const field of ["VIPER_REQUESTOR_PRIVATE_KEY", "VIPER_CLIENT_PRIVATE_KEY"] as const) {
    const value = env[field];
    if (value !== undefined && value !== "" && !isPrivateKey(value)) {
      problems.push(
        `${field}: must be 128 hex characters (seed + public key) or a 64-character seed`,
      );
    }
  }
  return problems;
}

/**
 * Reads and validates the relay settings; throws one ConfigError naming every bad field.
 * Private keys are checked here rather than in the schema so that the error names the field
 * without printing its value (values from CONFIG_FILE are checked once loaded).
 */
export function loadRelayConfig(
  env: Record<string, string | undefined> = process.env,
): RelayConfig {
  let config: RelayConfig | null = null;
  let problems = [...privateKeyProblems(env), ...plainUpstreamProblems(env.RELAY_PLAIN_UPSTREAMS)];
  try {
    config = loadConfig(relayConfigSchema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) {
      throw error;
    }
    problems = [...error.problems, ...problems];
  }
  if (config !== null && problems.length === 0) {
    problems = [
      ...privateKeyProblems({
        VIPER_REQUESTOR_PRIVATE_KEY: config.VIPER_REQUESTOR_PRIVATE_KEY,
        VIPER_CLIENT_PRIVATE_KEY: config.VIPER_CLIENT_PRIVATE_KEY,
      }),
      ...plainUpstreamProblems(config.RELAY_PLAIN_UPSTREAMS),
    ];
  }
  if (config === null || problems.length > 0) {
    throw new ConfigError(problems);
  }
  return config;
}

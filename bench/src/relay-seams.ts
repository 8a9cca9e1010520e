import { relayConfigSchema } from "@viper/relay/config";

/**
 * Where the bench meets relay features that are still being built. Each is found by looking at
 * the relay's config schema, so the bench uses a feature by itself once the relay has it, and
 * says what is missing until then. These are the only places the bench needs to change when the
 * relay's settings differ from what is assumed here.
 */

function relaySettingNames(): string[] {
  return Object.keys(relayConfigSchema.shape);
}

/**
 * Plain upstream endpoints (issue #7, part 1): chains served by configured JSON-RPC URLs instead
 * of (or as the fallback for) Viper servicers. The relay reads this setting as JSON that maps a
 * Viper chain id to its endpoint URLs, e.g. `{"0b01":["http://127.0.0.1:8081"]}`
 * (relay/src/config.ts); the devnet serves no such chain, so the relay goes straight to them.
 */
export const PLAIN_UPSTREAMS_SETTING = "RELAY_PLAIN_UPSTREAMS";

/** True when the relay's configuration knows plain upstream endpoints. */
export function relayHasPlainUpstreams(): boolean {
  return relaySettingNames().includes(PLAIN_UPSTREAMS_SETTING);
}

/** The relay environment that serves `chainId` from `url` alone. */
export function plainUpstreamsEnv(chainId: string, url: string): Record<string, string> {
  return { [PLAIN_UPSTREAMS_SETTING]: JSON.stringify({ [chainId]: [url] }) };
}

/** The tier every bench project is on: limits far above what the load can send. */
export const BENCH_TIER = "bench";

const benchTierLimits = { perSecond: 10_000_000 };

/**
 * The relay setting that carries its rate limit settings as JSON (relay/src/rate-limit/config.ts):
 * RATE_LIMITS, or failing that the first setting named like it; null while the relay reads none.
 */
export function rateLimitSetting(): string | null {
  const names = relaySettingNames();
  if (names.includes("RATE_LIMITS")) {
    return "RATE_LIMITS";
  }
  return names.find((name) => /RATE_?LIMIT/.test(name)) ?? null;
}

/**
 * Rate limit settings under which the limiter does all its work on every request (buckets per
 * key and per project, in Redis) and never refuses one of the bench's requests.
 */
export function rateLimitEnv(): Record<string, string> {
  const setting = rateLimitSetting();
  if (setting === null) {
    return {};
  }
  const tier = { project: benchTierLimits, key: benchTierLimits, methods: {} };
  return { [setting]: JSON.stringify({ defaultTier: BENCH_TIER, tiers: { [BENCH_TIER]: tier } }) };
}

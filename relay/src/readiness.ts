import { type CheckState, checkState } from "@viper/shared/readiness-check";
import { sql } from "drizzle-orm";
import { isHealthyMode, type LimiterMode } from "./rate-limit/limiter.ts";
import type { RelayRuntime } from "./runtime.ts";

export type { CheckState };

/**
 * What /ready answers. ready: everything answers. degraded: the relay serves, but the store is
 * unreachable, so the rate limiter counts in this process alone (limits are per instance until
 * Redis is back). not_ready: database or dispatcher unreachable, or the limiter refuses every
 * request because Redis is down and RATE_LIMIT_ON_REDIS_DOWN=refuse.
 */
export interface Readiness {
  status: "ready" | "degraded" | "not_ready";
  checks: {
    database: CheckState;
    store: CheckState;
    dispatcher: CheckState;
    rateLimiter: LimiterMode;
  };
}

const CHECK_TIMEOUT_MS = 2_000;

/**
 * The limiter's mode, as it will be on the next request: a limiter that has not yet been asked
 * since Redis went away would still say "redis".
 */
function limiterMode(runtime: RelayRuntime, store: CheckState): LimiterMode {
  const mode = runtime.rateLimit.limiter.mode();
  if (mode !== "redis" || store === "ok") {
    return mode;
  }
  return runtime.rateLimit.onRedisDown === "refuse" ? "degraded-refusing" : "degraded-memory";
}

/** Checks the database, the store and the dispatchers in parallel, each within 2 s. */
export async function checkReadiness(runtime: RelayRuntime): Promise<Readiness> {
  const { db, store } = runtime.deps;
  const [database, storeState, dispatcher] = await Promise.all([
    checkState(() => db.execute(sql`select 1`), CHECK_TIMEOUT_MS),
    checkState(() => store.ping(), CHECK_TIMEOUT_MS),
    checkState(() => runtime.dispatcher.height(), CHECK_TIMEOUT_MS),
  ]);
  const rateLimiter = limiterMode(runtime, storeState);
  const checks = { database, store: storeState, dispatcher, rateLimiter };
  if (database !== "ok" || dispatcher !== "ok" || rateLimiter === "degraded-refusing") {
    return { status: "not_ready", checks };
  }
  const healthy = storeState === "ok" && isHealthyMode(rateLimiter);
  return { status: healthy ? "ready" : "degraded", checks };
}

import { type CheckState, checkState } from "@viper/shared/readiness-check";
import { sql } from "drizzle-orm";
import type { Services } from "./services.ts";

export type { CheckState };

/**
 * What /ready answers, in the relay's shape. ready: the database and the store answer.
 * degraded: the database answers but the store does not; calls that need the store fail
 * (sign-in, calls with a bearer token, key changes the relays must hear of) while cookie calls
 * still read projects and usage. Every instance shares the store, so taking this one out of a
 * load balancer would not help. not_ready: the database does not answer; nothing works.
 */
export interface Readiness {
  status: "ready" | "degraded" | "not_ready";
  checks: { database: CheckState; store: CheckState };
}

/** How long one check may take before it counts as unavailable (a hung pool, a lost Redis). */
const checkTimeoutMs = 2_000;

/** Asks the database and the store at once, each within two seconds. */
export async function checkReadiness(services: Services): Promise<Readiness> {
  const [database, store] = await Promise.all([
    checkState(() => services.db.execute(sql`select 1`), checkTimeoutMs),
    checkState(() => services.store.ping(), checkTimeoutMs),
  ]);
  const checks = { database, store };
  if (database !== "ok") {
    return { status: "not_ready", checks };
  }
  return { status: store === "ok" ? "ready" : "degraded", checks };
}

/** /ready: 503 only when the server cannot serve at all, so a load balancer takes it out. */
export async function readinessResponse(services: Services): Promise<Response> {
  const readiness = await checkReadiness(services);
  return Response.json(readiness, { status: readiness.status === "not_ready" ? 503 : 200 });
}

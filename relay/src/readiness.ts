import { sql } from "drizzle-orm";
import type { RelayRuntime } from "./runtime.ts";

export type CheckState = "ok" | "unavailable";

/** What /ready answers: each dependency the relay cannot serve without. */
export interface Readiness {
  status: "ready" | "not_ready";
  checks: { database: CheckState; store: CheckState; dispatcher: CheckState };
}

const CHECK_TIMEOUT_MS = 2_000;

async function passes(check: () => Promise<unknown>): Promise<CheckState> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS);
  });
  try {
    const result = await Promise.race([check(), timeout]);
    return result === false ? "unavailable" : "ok";
  } catch {
    return "unavailable";
  } finally {
    clearTimeout(timer);
  }
}

/** Checks the database, the store and the dispatchers in parallel, each within 2 s. */
export async function checkReadiness(runtime: RelayRuntime): Promise<Readiness> {
  const { db, store } = runtime.deps;
  const [database, storeState, dispatcher] = await Promise.all([
    passes(() => db.execute(sql`select 1`)),
    passes(() => store.ping()),
    passes(() => runtime.dispatcher.height()),
  ]);
  const checks = { database, store: storeState, dispatcher };
  const ready = Object.values(checks).every((state) => state === "ok");
  return { status: ready ? "ready" : "not_ready", checks };
}

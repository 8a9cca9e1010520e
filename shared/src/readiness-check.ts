import { withTimeLimit } from "./time-limit.ts";

/** One dependency as a /ready answer shows it. */
export type CheckState = "ok" | "unavailable";

/**
 * Asks a dependency once: "ok" when the check answers in time with anything but `false`;
 * "unavailable" when it fails, answers `false` (a store's ping) or takes longer than `ms` (a hung
 * pool, a lost Redis), so /ready always answers.
 */
export async function checkState(check: () => Promise<unknown>, ms: number): Promise<CheckState> {
  try {
    const outcome = await withTimeLimit(check(), ms, () => new Error(`no answer within ${ms} ms`));
    return outcome === false ? "unavailable" : "ok";
  } catch {
    return "unavailable";
  }
}

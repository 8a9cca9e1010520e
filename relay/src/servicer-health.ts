import type { ViperNode } from "@viper/shared/protocol";

interface Health {
  /** Exponentially weighted latency of successful relays, in ms; null until one succeeds. */
  latencyMs: number | null;
  consecutiveFailures: number;
  coolingUntil: number;
}

// Weight of the newest sample in the latency average: recent behaviour matters most, but one
// slow answer does not erase a long good record.
const LATENCY_WEIGHT = 0.3;
const COOL_DOWN_BASE_MS = 2_000;
const COOL_DOWN_MAX_MS = 60_000;
// Penalty that ranks a cooling servicer behind every healthy one without excluding it, so a
// session whose servicers all failed recently is still tried.
const COOLING_PENALTY_MS = 1_000_000;
const MAX_TRACKED = 5_000;

/**
 * Remembers how each servicer did recently and picks the next one to try: healthy and fast
 * servicers first, those that failed lately only when nothing better is left. Two candidates
 * are drawn at random and the better one wins, which spreads load across good servicers instead
 * of piling it onto the single fastest one.
 */
export class ServicerHealth {
  readonly #health = new Map<string, Health>();

  /** Chooses among `candidates` (servicers not yet tried for this request); null when empty. */
  choose(candidates: readonly ViperNode[], now = Date.now()): ViperNode | null {
    if (candidates.length <= 1) {
      return candidates[0] ?? null;
    }
    const firstIndex = Math.floor(Math.random() * candidates.length);
    let secondIndex = Math.floor(Math.random() * (candidates.length - 1));
    if (secondIndex >= firstIndex) {
      secondIndex += 1;
    }
    const first = candidates[firstIndex];
    const second = candidates[secondIndex];
    if (!first || !second) {
      return first ?? second ?? null;
    }
    const best = this.#score(first, now) <= this.#score(second, now) ? first : second;
    return this.#bestOverall(candidates, best, now);
  }

  /** Records a relay that came back correctly signed. */
  recordSuccess(servicer: ViperNode, latencyMs: number): void {
    const health = this.#get(servicer.public_key);
    health.latencyMs =
      health.latencyMs === null
        ? latencyMs
        : health.latencyMs + LATENCY_WEIGHT * (latencyMs - health.latencyMs);
    health.consecutiveFailures = 0;
    health.coolingUntil = 0;
  }

  /** Records a failure (error, timeout, bad signature): the servicer cools down for a while. */
  recordFailure(servicer: ViperNode, now = Date.now()): void {
    const health = this.#get(servicer.public_key);
    health.consecutiveFailures += 1;
    const coolDown = Math.min(
      COOL_DOWN_MAX_MS,
      COOL_DOWN_BASE_MS * 2 ** (health.consecutiveFailures - 1),
    );
    health.coolingUntil = now + coolDown;
  }

  /** True while a servicer is cooling down after a failure. */
  isCooling(servicer: ViperNode, now = Date.now()): boolean {
    return (this.#health.get(servicer.public_key)?.coolingUntil ?? 0) > now;
  }

  #score(servicer: ViperNode, now: number): number {
    const health = this.#health.get(servicer.public_key);
    if (!health) {
      return 0;
    }
    const penalty = health.coolingUntil > now ? COOLING_PENALTY_MS : 0;
    return (health.latencyMs ?? 0) + penalty;
  }

  /** A cooling pick is swapped for any candidate that is not cooling. */
  #bestOverall(candidates: readonly ViperNode[], pick: ViperNode, now: number): ViperNode {
    if (!this.isCooling(pick, now)) {
      return pick;
    }
    let best = pick;
    for (const candidate of candidates) {
      if (this.#score(candidate, now) < this.#score(best, now)) {
        best = candidate;
      }
    }
    return best;
  }

  #get(publicKey: string): Health {
    let health = this.#health.get(publicKey);
    if (!health) {
      if (this.#health.size >= MAX_TRACKED) {
        const oldest = this.#health.keys().next();
        if (!oldest.done) {
          this.#health.delete(oldest.value);
        }
      }
      health = { latencyMs: null, consecutiveFailures: 0, coolingUntil: 0 };
      this.#health.set(publicKey, health);
    }
    return health;
  }
}

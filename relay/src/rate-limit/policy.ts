import type { BucketSpec, TakeRequest } from "./bucket-spec.ts";
import type { Limit, RateLimitConfig, TierLimits } from "./config.ts";
import { CostTable } from "./costs.ts";

/** Who a request is charged to, and the limits its key and project carry right now. */
export interface LimitSubject {
  keyId: string;
  projectId: string;
  /** The project's tier (projects.tier); an unknown tier gets the configured default tier. */
  tier: string;
  /** api_keys.rules.ratePerSecond in compute units per second; lowers the tier's key limit. */
  keyRatePerSecond?: number | undefined;
  /** A limit set on the project itself, replacing its tier's project limit. */
  projectLimit?: Limit | undefined;
}

/** Anything with an `internal` flag, such as the relay's KeyRecord or an api_keys row. */
export interface BypassCandidate {
  internal: boolean;
}

/** Internal keys (monitoring, status checks) skip the limiter; their requests are still logged. */
export function bypassesRateLimit(key: BypassCandidate): boolean {
  return key.internal;
}

/**
 * Turns the configuration into what the limiter is asked per request. Holds the config and cost
 * table so an operator's change applies from the next request: call replace() with the new one.
 */
export class LimitPolicy {
  private config: RateLimitConfig;
  private table: CostTable;

  constructor(config: RateLimitConfig) {
    this.config = config;
    this.table = new CostTable(config.costs);
  }

  /** Puts a new configuration in force for every later request. */
  replace(config: RateLimitConfig): void {
    this.config = config;
    this.table = new CostTable(config.costs);
  }

  get costs(): CostTable {
    return this.table;
  }

  get settings(): RateLimitConfig {
    return this.config;
  }

  /**
   * The take() request for one relayed request: its cost, the key's bucket, the project's
   * bucket and a bucket for each of its methods the tier limits. `methods` holds one entry per
   * JSON-RPC call, so a batch of ten lists ten.
   */
  requestFor(subject: LimitSubject, methods: string[]): TakeRequest {
    const tier = this.tierOf(subject.tier);
    const keyLimit = lowered(tier.key, subject.keyRatePerSecond);
    const buckets: BucketSpec[] = [
      this.spec("key", subject.keyId, keyLimit),
      this.spec("project", subject.projectId, subject.projectLimit ?? tier.project),
    ];
    for (const [method, count] of countMethods(methods)) {
      // hasOwn: method names come from the dApp, and "constructor" must not find Object's.
      const limit = Object.hasOwn(tier.methods, method) ? tier.methods[method] : undefined;
      if (limit) {
        buckets.push({
          ...this.spec("method", `${subject.keyId}:${method}`, limit),
          cost: count * this.table.costOfMethod(method),
          method,
        });
      }
    }
    return { buckets, cost: this.table.costOf(methods) };
  }

  private tierOf(name: string): TierLimits {
    const { tiers, defaultTier } = this.config;
    const tier = Object.hasOwn(tiers, name) ? tiers[name] : tiers[defaultTier];
    if (!tier) {
      // The config schema refuses a defaultTier that names no tier, so this means a bad config
      // object was built by hand.
      throw new Error(`rate limit config has no tier "${name}" and no default tier`);
    }
    return tier;
  }

  private spec(kind: BucketSpec["kind"], id: string, limit: Limit): BucketSpec {
    return {
      kind,
      id,
      capacity: limit.burst ?? limit.perSecond * this.config.burstSeconds,
      refillPerSecond: limit.perSecond,
    };
  }
}

/** The tier's key limit, lowered (never raised) by the key's own rate; its burst scales along. */
function lowered(limit: Limit, perSecond: number | undefined): Limit {
  if (perSecond === undefined || !(perSecond > 0) || perSecond >= limit.perSecond) {
    return limit;
  }
  if (limit.burst === undefined) {
    return { perSecond };
  }
  return { perSecond, burst: (limit.burst * perSecond) / limit.perSecond };
}

function countMethods(methods: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const method of methods) {
    counts.set(method, (counts.get(method) ?? 0) + 1);
  }
  return counts;
}

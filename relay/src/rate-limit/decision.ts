import {
  type BucketKind,
  type BucketSpec,
  bucketCost,
  type TakeRequest,
  warnThreshold,
} from "./bucket-spec.ts";

/**
 * allow: under the rate. warn: allowed, but living on the burst. refuse: a bucket lacked room.
 * unavailable: the shared limiter is down and the configuration says to refuse meanwhile.
 */
export type LimitOutcome = "allow" | "warn" | "refuse" | "unavailable";

/** Which store answered: Redis (shared by every instance) or this process alone. */
export type DecisionSource = "redis" | "memory" | "none";

/** One bucket as this request left it. Amounts are compute units, times milliseconds. */
export interface BucketState {
  kind: BucketKind;
  id: string;
  method?: string;
  capacity: number;
  refillPerSecond: number;
  /** What this request would cost this bucket (charged only when the request was allowed). */
  cost: number;
  /** Units left after this request; unchanged by a refused request. */
  remaining: number;
  /** Until the bucket is full again. */
  resetMs: number;
  /** False when this bucket lacked room for its cost and so refused the request. */
  sufficient: boolean;
  /** Until this bucket holds its cost again; 0 when it was sufficient. */
  retryAfterMs: number;
  /** Allowed, but below its warning threshold. */
  warning: boolean;
}

/** The limiter's answer to one request. */
export interface LimitDecision {
  outcome: LimitOutcome;
  allowed: boolean;
  cost: number;
  /**
   * The bucket that decided: when refused, the refusing bucket with the longest wait; otherwise
   * the bucket with the fewest units left. Null only for a request with no buckets.
   */
  binding: BucketState | null;
  buckets: BucketState[];
  /** How long to wait before retrying; 0 when allowed. */
  retryAfterMs: number;
  /** The clock the decision was made at (Redis time when Redis answered), epoch ms. */
  at: number;
  source: DecisionSource;
}

/** What a limiter read from one bucket: its level before this request, and whether it had room. */
export interface BucketReading {
  /** Units in use after refill and before this request (capacity - level are left). */
  level: number;
  sufficient: boolean;
}

/**
 * Builds a decision from what the limiter read from each bucket (in request order). The request
 * is allowed when every bucket had room. Both limiters share this, so they answer alike.
 */
export function assembleDecision(
  request: TakeRequest,
  readings: BucketReading[],
  at: number,
  source: DecisionSource,
): LimitDecision {
  const allowed = readings.every((reading) => reading.sufficient);
  const buckets = request.buckets.map((spec, index) =>
    bucketState(spec, bucketCost(spec, request), readings[index] ?? emptyReading, allowed),
  );
  const binding = allowed ? fewestRemaining(buckets) : longestWait(buckets);
  const warned = allowed && buckets.some((bucket) => bucket.warning);
  return {
    outcome: allowed ? (warned ? "warn" : "allow") : "refuse",
    allowed,
    cost: request.cost,
    binding,
    buckets,
    retryAfterMs: allowed ? 0 : (binding?.retryAfterMs ?? 0),
    at,
    source,
  };
}

/** The answer while the shared limiter is down and the configuration says to refuse. */
export function unavailableDecision(request: TakeRequest, at: number): LimitDecision {
  const buckets = request.buckets.map((spec) => ({
    ...bucketState(spec, bucketCost(spec, request), emptyReading, false),
    remaining: 0,
    sufficient: false,
    retryAfterMs: 1000,
  }));
  const binding = buckets[0] ?? null;
  return {
    outcome: "unavailable",
    allowed: false,
    cost: request.cost,
    binding,
    buckets,
    retryAfterMs: 1000,
    at,
    source: "none",
  };
}

/**
 * The bucket a refused request could never fit in, because it costs more than the bucket holds
 * when full (a batch larger than the burst); null when waiting would let it through.
 */
export function tooCostlyBucket(decision: LimitDecision): BucketState | null {
  if (decision.outcome !== "refuse") {
    return null;
  }
  return decision.buckets.find((bucket) => bucket.cost > bucket.capacity) ?? null;
}

const emptyReading: BucketReading = { level: 0, sufficient: true };

function bucketState(
  spec: BucketSpec,
  cost: number,
  reading: BucketReading,
  allowed: boolean,
): BucketState {
  const { level: levelBefore, sufficient } = reading;
  const level = allowed ? levelBefore + cost : levelBefore;
  const remaining = Math.max(0, spec.capacity - level);
  const perMs = spec.refillPerSecond / 1000;
  const state: BucketState = {
    kind: spec.kind,
    id: spec.id,
    capacity: spec.capacity,
    refillPerSecond: spec.refillPerSecond,
    cost,
    remaining,
    resetMs: level / perMs,
    sufficient,
    retryAfterMs: sufficient ? 0 : Math.max(0, levelBefore + cost - spec.capacity) / perMs,
    warning: allowed && remaining < warnThreshold(spec),
  };
  if (spec.method !== undefined) {
    state.method = spec.method;
  }
  return state;
}

function fewestRemaining(buckets: BucketState[]): BucketState | null {
  let best: BucketState | null = null;
  for (const bucket of buckets) {
    if (!best || bucket.remaining < best.remaining) {
      best = bucket;
    }
  }
  return best;
}

function longestWait(buckets: BucketState[]): BucketState | null {
  let best: BucketState | null = null;
  for (const bucket of buckets) {
    if (!bucket.sufficient && (!best || bucket.retryAfterMs > best.retryAfterMs)) {
      best = bucket;
    }
  }
  return best;
}

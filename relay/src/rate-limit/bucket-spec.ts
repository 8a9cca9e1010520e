/** Which limit a bucket enforces: one API key, a whole project (all its keys), or one method. */
export type BucketKind = "key" | "project" | "method";

/**
 * One token bucket to check and charge, with the limits in force right now. Limits travel with
 * every call instead of living in the limiter, so a changed key rule or tier applies on the next
 * request without a restart. Amounts are compute units (see costs.ts).
 */
export interface BucketSpec {
  kind: BucketKind;
  /** Unique within its kind: a key id, a project id, or "<key id>:<method>" for method buckets. */
  id: string;
  /** The burst size: the most compute units the bucket holds when full. */
  capacity: number;
  /** The sustained rate: compute units added back each second. Must be above zero. */
  refillPerSecond: number;
  /**
   * Below this many units left, an allowed request carries a warning (the caller is spending
   * faster than the rate and living on its burst). Defaults to capacity - refillPerSecond: a
   * client that stays under its rate never drops a full second's worth below a full bucket.
   */
  warnBelow?: number;
  /** What this bucket is charged; defaults to the request's cost (method buckets charge less). */
  cost?: number;
  /** The method a method bucket limits, for notifications and messages. */
  method?: string;
}

/** What take() checks: all buckets are charged together, or none is. */
export interface TakeRequest {
  buckets: BucketSpec[];
  /** The request's cost in compute units; a batch costs the sum of its items. */
  cost: number;
}

/** A BucketSpec or TakeRequest that cannot be enforced; a programming error in the caller. */
export class BucketSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BucketSpecError";
  }
}

const isFiniteAtLeast = (value: number, floor: number) => Number.isFinite(value) && value >= floor;

/** The cost a bucket is charged for this request. */
export function bucketCost(spec: BucketSpec, request: TakeRequest): number {
  return spec.cost ?? request.cost;
}

/** The warning threshold in force for a bucket, never below zero. */
export function warnThreshold(spec: BucketSpec): number {
  return Math.max(0, spec.warnBelow ?? spec.capacity - spec.refillPerSecond);
}

/** The storage name of a bucket, shared by the Redis and the in-process limiter. */
export function bucketName(spec: BucketSpec): string {
  return `${spec.kind}:${spec.id}`;
}

/**
 * Rejects requests the limiter cannot answer correctly: non-positive or non-finite limits,
 * negative costs, and the same bucket twice (it would be charged twice from one reading).
 */
export function validateTakeRequest(request: TakeRequest): void {
  if (!isFiniteAtLeast(request.cost, 0)) {
    throw new BucketSpecError(`request cost must be a finite number >= 0, got ${request.cost}`);
  }
  const seen = new Set<string>();
  for (const spec of request.buckets) {
    const name = bucketName(spec);
    if (spec.id === "") {
      throw new BucketSpecError(`a ${spec.kind} bucket needs an id`);
    }
    if (seen.has(name)) {
      throw new BucketSpecError(`bucket ${name} appears twice in one request`);
    }
    seen.add(name);
    if (!(isFiniteAtLeast(spec.capacity, 0) && spec.capacity > 0)) {
      throw new BucketSpecError(`bucket ${name}: capacity must be > 0, got ${spec.capacity}`);
    }
    if (!(isFiniteAtLeast(spec.refillPerSecond, 0) && spec.refillPerSecond > 0)) {
      throw new BucketSpecError(
        `bucket ${name}: refillPerSecond must be > 0, got ${spec.refillPerSecond}`,
      );
    }
    if (!isFiniteAtLeast(bucketCost(spec, request), 0)) {
      throw new BucketSpecError(`bucket ${name}: cost must be a finite number >= 0`);
    }
  }
}

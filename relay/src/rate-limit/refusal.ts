import type { BucketKind } from "./bucket-spec.ts";
import { type BucketState, type LimitDecision, tooCostlyBucket } from "./decision.ts";
import { describeBucket, retryAfterSeconds } from "./headers.ts";

/**
 * The wire errors of a refused request. -32005 is the JSON-RPC "limit exceeded" code wallets and
 * libraries recognise; the relay's error table must give these their own entries.
 */
export const rateLimitErrorCodes = {
  rate_limited: { code: -32005, status: 429 },
  limiter_unavailable: { code: -32023, status: 503 },
  // 413 and no Retry-After: retrying the same request can never succeed, only a smaller one.
  request_too_costly: { code: -32013, status: 413 },
} as const;

export type RateLimitErrorName = keyof typeof rateLimitErrorCodes;

/** What the relay answers for a refused request: HTTP status and the JSON-RPC error object. */
export interface RateLimitRefusal {
  errorName: RateLimitErrorName;
  status: number;
  code: number;
  message: string;
  data: {
    /** Which limit refused: the key's, the project's, or a per-method one. */
    limit: BucketKind | "limiter";
    method?: string;
    /** Whole seconds, as in the Retry-After header; absent when waiting cannot help. */
    retryAfter?: number;
    /** request_too_costly: what the request costs and the most the limit ever holds. */
    cost?: number;
    capacity?: number;
  };
}

/** The refusal for a decision that was not allowed; null when the request may go on. */
export function refusalFor(decision: LimitDecision): RateLimitRefusal | null {
  if (decision.allowed) {
    return null;
  }
  const retryAfter = retryAfterSeconds(decision.retryAfterMs);
  if (decision.outcome === "unavailable") {
    return {
      errorName: "limiter_unavailable",
      ...rateLimitErrorCodes.limiter_unavailable,
      message: `Rate limiting is unavailable right now, so requests are refused; retry in ${retryAfter} s`,
      data: { limit: "limiter", retryAfter },
    };
  }
  const tooCostly = tooCostlyBucket(decision);
  if (tooCostly !== null) {
    return tooCostlyRefusal(tooCostly);
  }
  const bucket = decision.binding;
  const kind = bucket?.kind ?? "key";
  const name = bucket ? describeBucket(bucket) : "rate limit";
  const message = `Rate limit exceeded: the ${name} of ${bucket?.refillPerSecond ?? 0} compute units per second is used up; retry in ${retryAfter} s`;
  const data: RateLimitRefusal["data"] = { limit: kind, retryAfter };
  if (bucket?.method !== undefined) {
    data.method = bucket.method;
  }
  return { errorName: "rate_limited", ...rateLimitErrorCodes.rate_limited, message, data };
}

/** A request larger than a bucket's capacity: refused for good, whatever the client waits. */
function tooCostlyRefusal(bucket: BucketState): RateLimitRefusal {
  const capacity = Math.floor(bucket.capacity);
  const data: RateLimitRefusal["data"] = { limit: bucket.kind, cost: bucket.cost, capacity };
  if (bucket.method !== undefined) {
    data.method = bucket.method;
  }
  return {
    errorName: "request_too_costly",
    ...rateLimitErrorCodes.request_too_costly,
    message: `Request too costly: it costs ${bucket.cost} compute units, more than the ${describeBucket(bucket)} holds at once (${capacity}); send smaller batches`,
    data,
  };
}

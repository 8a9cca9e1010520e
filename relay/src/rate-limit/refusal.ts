import type { BucketKind } from "./bucket-spec.ts";
import type { LimitDecision } from "./decision.ts";
import { describeBucket, retryAfterSeconds } from "./headers.ts";

/**
 * The wire errors of a refused request. -32005 is the JSON-RPC "limit exceeded" code wallets and
 * libraries recognise; the relay's error table must give these their own entries.
 */
export const rateLimitErrorCodes = {
  rate_limited: { code: -32005, status: 429 },
  limiter_unavailable: { code: -32023, status: 503 },
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
    /** Whole seconds, as in the Retry-After header. */
    retryAfter: number;
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
  const bucket = decision.binding;
  const kind = bucket?.kind ?? "key";
  const name = bucket ? describeBucket(bucket) : "rate limit";
  const tooBig = bucket !== null && bucket.cost > bucket.capacity;
  const message = tooBig
    ? `Rate limit exceeded: this request costs ${bucket.cost} compute units, more than the ${name} allows at once (${Math.floor(bucket.capacity)}); send smaller batches`
    : `Rate limit exceeded: the ${name} of ${bucket?.refillPerSecond ?? 0} compute units per second is used up; retry in ${retryAfter} s`;
  const data: RateLimitRefusal["data"] = { limit: kind, retryAfter };
  if (bucket?.method !== undefined) {
    data.method = bucket.method;
  }
  return { errorName: "rate_limited", ...rateLimitErrorCodes.rate_limited, message, data };
}

import { type BucketState, type LimitDecision, tooCostlyBucket } from "./decision.ts";

/** Whole seconds before a refused request may be retried; at least 1, never an instant retry. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** How a bucket is named in headers and messages. */
export function describeBucket(bucket: Pick<BucketState, "kind" | "method">): string {
  if (bucket.kind === "method") {
    return `key limit for ${bucket.method ?? "this method"}`;
  }
  return `${bucket.kind} limit`;
}

/**
 * The response headers for a decision, on every answer of a limited request: the IETF draft
 * RateLimit-Limit / -Remaining / -Reset and the older X-RateLimit-* names, from the bucket that
 * decided (units are compute units, Reset is seconds until that bucket is full). A warned answer
 * adds X-RateLimit-Warning; a refused one adds Retry-After, unless no wait would let it through
 * (it costs more than a bucket holds). Empty when no bucket applied.
 */
export function rateLimitHeaders(decision: LimitDecision): Record<string, string> {
  const bucket = decision.binding;
  if (!bucket) {
    return {};
  }
  const limit = String(Math.floor(bucket.capacity));
  const remaining = String(Math.max(0, Math.floor(bucket.remaining)));
  const reset = String(Math.ceil(bucket.resetMs / 1000));
  const headers: Record<string, string> = {
    "RateLimit-Limit": limit,
    "RateLimit-Remaining": remaining,
    "RateLimit-Reset": reset,
    "X-RateLimit-Limit": limit,
    "X-RateLimit-Remaining": remaining,
    "X-RateLimit-Reset": reset,
  };
  if (decision.outcome === "warn") {
    headers["X-RateLimit-Warning"] = warningText(decision);
  }
  if (!decision.allowed && tooCostlyBucket(decision) === null) {
    headers["Retry-After"] = String(retryAfterSeconds(decision.retryAfterMs));
  }
  return headers;
}

function warningText(decision: LimitDecision): string {
  const warned = decision.buckets
    .filter((bucket) => bucket.warning)
    .sort((a, b) => a.remaining - b.remaining)[0];
  if (!warned) {
    return "burst in use";
  }
  const left = Math.floor(warned.remaining);
  return `${describeBucket(warned)}: above ${warned.refillPerSecond} compute units per second, ${left} of ${Math.floor(warned.capacity)} burst units left`;
}

/**
 * The rate limiter's public surface. Per relayed request, after the key is authorized:
 *
 *   if (!bypassesRateLimit(key)) {
 *     const request = policy.requestFor(subject, methods);   // methods: one per JSON-RPC call
 *     const decision = await limiter.take(request);
 *     void recorder.observe(decision, { projectId, apiKeyId });  // off the request path
 *     headers = rateLimitHeaders(decision);                  // on every answer
 *     const refusal = refusalFor(decision);                  // null when allowed
 *     if (refusal) { throttled.count(apiKeyId, methods); answer refusal.status with it }
 *   }
 */
export {
  type BucketKind,
  type BucketSpec,
  BucketSpecError,
  type TakeRequest,
} from "./bucket-spec.ts";
export {
  defaultTiers,
  type Limit,
  parseRateLimitConfig,
  type RateLimitConfig,
  rateLimitConfigSchema,
  type TierLimits,
} from "./config.ts";
export { type CostConfig, CostTable, createCostTable } from "./costs.ts";
export { type CreateRateLimiterOptions, createRateLimiter } from "./create-limiter.ts";
export type { BucketState, DecisionSource, LimitDecision, LimitOutcome } from "./decision.ts";
export { rateLimitHeaders } from "./headers.ts";
export {
  LimitEventRecorder,
  type LimitEventSubject,
  type LimitThreshold,
  type RecordedLimitEvent,
} from "./limit-events.ts";
export { isHealthyMode, type LimiterMode, type RateLimiter } from "./limiter.ts";
export { MemoryLimiter } from "./memory-limiter.ts";
export { bypassesRateLimit, LimitPolicy, type LimitSubject } from "./policy.ts";
export { RedisLimiter, RedisLimiterError } from "./redis-limiter.ts";
export {
  type RateLimitErrorName,
  type RateLimitRefusal,
  rateLimitErrorCodes,
  refusalFor,
} from "./refusal.ts";
export { type RedisDownPolicy, ResilientLimiter } from "./resilient-limiter.ts";
export { type ThrottleCount, ThrottleCounter } from "./throttle-counter.ts";

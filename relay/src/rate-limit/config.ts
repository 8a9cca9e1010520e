import { z } from "zod";
import { costConfigSchema } from "./costs.ts";

/** A sustained rate in compute units per second and, optionally, a burst size in compute units. */
export const limitSchema = z.object({
  perSecond: z.number().positive(),
  burst: z.number().positive().optional(),
});

export type Limit = z.infer<typeof limitSchema>;

/** What a project tier allows. */
export const tierSchema = z.object({
  /** Shared by all of a project's keys: the sum over its keys. */
  project: limitSchema,
  /** Each key's own limit; a key's rules.ratePerSecond may lower it, never raise it. */
  key: limitSchema,
  /** Extra per-key limits on expensive methods, keyed by exact method name. */
  methods: z.record(z.string().min(1), limitSchema).default({}),
});

export type TierLimits = z.infer<typeof tierSchema>;

/** The tiers a project may be on until an operator configures others. */
export const defaultTiers: Record<string, TierLimits> = {
  free: {
    project: { perSecond: 100 },
    key: { perSecond: 50 },
    methods: { eth_getLogs: { perSecond: 20 } },
  },
  growth: {
    project: { perSecond: 1_000 },
    key: { perSecond: 500 },
    methods: { eth_getLogs: { perSecond: 200 } },
  },
  scale: {
    project: { perSecond: 5_000 },
    key: { perSecond: 5_000 },
    methods: {},
  },
};

/** Everything the rate limiter reads from configuration, with working defaults for all of it. */
export const rateLimitConfigSchema = z
  .object({
    /** A limit without an explicit burst holds this many seconds of its rate. */
    burstSeconds: z.number().positive().default(2),
    /** The tier used for a project whose tier is not configured. */
    defaultTier: z.string().min(1).default("free"),
    tiers: z.record(z.string().min(1), tierSchema).default(defaultTiers),
    costs: costConfigSchema.default({}),
    onRedisDown: z.enum(["degrade", "refuse"]).default("degrade"),
    /** Threshold notifications (80% and 100%) are recorded at most once per bucket per window. */
    eventWindowSeconds: z.number().int().positive().default(3_600),
    /** A Redis answer slower than this counts as Redis being down. */
    redisTimeoutMs: z.number().int().positive().default(250),
    /** How often a degraded limiter asks Redis whether it is back. */
    probeIntervalMs: z.number().int().positive().default(1_000),
  })
  .refine((config) => config.defaultTier in config.tiers, {
    message: "defaultTier must name one of the configured tiers",
    path: ["defaultTier"],
  });

export type RateLimitConfig = z.infer<typeof rateLimitConfigSchema>;

/**
 * Reads the rate limit settings from the operator's JSON (a string, e.g. an env var, or an
 * already-parsed object); absent means every default. Throws when the JSON or a field is bad.
 */
export function parseRateLimitConfig(source?: unknown): RateLimitConfig {
  if (typeof source === "string") {
    return rateLimitConfigSchema.parse(source.trim() === "" ? {} : JSON.parse(source));
  }
  return rateLimitConfigSchema.parse(source ?? {});
}

import { type BucketStep, bucketMs, ceilTo, floorTo } from "@viper/db/analytics/time-buckets";
import { z } from "zod";
import { instantSchema } from "./instant-input.ts";

/**
 * The time ranges the usage procedures accept. Ranges are rounded out to whole steps (whole
 * minutes without a step) and capped per step, so a chart never has more than about 1,500
 * points and no query reads more than 400 days of the daily rollup.
 */
export const maxRangeMs: Record<BucketStep, number> = {
  minute: bucketMs.day,
  hour: 31 * bucketMs.day,
  day: 400 * bucketMs.day,
};

/** How far back each step reaches (defaultRetention): minutes 30 days, hours 90, days 800. */
export const maxAgeMs: Record<BucketStep, number> = {
  minute: 30 * bucketMs.day,
  hour: 90 * bucketMs.day,
  day: 800 * bucketMs.day,
};

/** Each step as a range message names it ("an", not "a", before "hour"). */
const stepNames: Record<BucketStep, string> = {
  minute: "A minute step",
  hour: "An hour step",
  day: "A day step",
};

/** A Viper chain id, as the rollups store it. */
const chainId = z.string().regex(/^(?:[0-9a-f]{2}){1,4}$/, "A chain id is 1 to 4 bytes of hex.");

/** Optional narrowing to one key or one chain of the project. */
export const usageFilterShape = {
  apiKeyId: z.uuid().optional(),
  chainId: chainId.optional(),
};

interface RangeInput {
  from: Date;
  to: Date;
  step?: BucketStep;
}

/** Adds the range rules as input issues on `from`/`to`, where a form shows them. */
function checkRange(input: RangeInput, ctx: z.RefinementCtx, now = new Date()): void {
  const step = input.step ?? "day";
  if (input.from.getTime() >= input.to.getTime()) {
    ctx.addIssue({ code: "custom", path: ["to"], message: "The range must end after it starts." });
    return;
  }
  if (input.to.getTime() - input.from.getTime() > maxRangeMs[step]) {
    const days = maxRangeMs[step] / bucketMs.day;
    ctx.addIssue({
      code: "custom",
      path: ["from"],
      message: `${stepNames[step]} covers at most ${days} day${days === 1 ? "" : "s"}.`,
    });
  }
  if (now.getTime() - input.from.getTime() > maxAgeMs[step]) {
    const days = maxAgeMs[step] / bucketMs.day;
    ctx.addIssue({
      code: "custom",
      path: ["from"],
      message: `Usage at this step is kept for ${days} days.`,
    });
  }
}

/**
 * The range rules run only once every field parsed. Zod runs an object's refinements even after
 * a field failed a format check (such an issue does not abort), and `from` would then still be
 * the refused text, not a Date: "2026-02-30T00:00:00Z" must get its "Invalid ISO datetime" on
 * `from`, not a TypeError from checkRange.
 */
const whenFieldsParsed = { when: (payload: z.core.ParsePayload) => payload.issues.length === 0 };

/** `from`, `to` (ISO 8601 with offset) and `step`, for a series. */
export const seriesRangeSchema = z
  .object({ from: instantSchema, to: instantSchema, step: z.enum(["minute", "hour", "day"]) })
  .superRefine((input, ctx) => checkRange(input, ctx), whenFieldsParsed);

/** `from` and `to` (ISO 8601 with offset), for totals over a range. */
export const totalRangeSchema = z
  .object({ from: instantSchema, to: instantSchema })
  .superRefine((input, ctx) => checkRange(input, ctx), whenFieldsParsed);

/**
 * The range a series reads: rounded out to whole steps, so `to` moves up by less than a day;
 * instantBounds (instant-input.ts) leaves room for that before year 10000.
 */
export function alignToStep(from: Date, to: Date, step: BucketStep) {
  return { from: floorTo(from, step), to: ceilTo(to, step) };
}

/** The range totals read: rounded out to whole minutes. */
export function alignToMinute(from: Date, to: Date) {
  return { from: floorTo(from, "minute"), to: ceilTo(to, "minute") };
}

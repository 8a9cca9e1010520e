import { type BucketStep, ceilTo, floorTo, maxDate, minDate } from "./time-buckets.ts";

/** A half-open time range [from, to). */
export interface TimeRange {
  from: Date;
  to: Date;
}

/** Which table answers which part of a dashboard range. */
export interface SourcePlan {
  /** Whole UTC days the daily rollup holds. */
  day: TimeRange[];
  /** Whole hours the hourly rollup holds (around the days). */
  hour: TimeRange[];
  /** Whole minutes the minute rollup holds (around the hours). */
  minute: TimeRange[];
  /** The minutes the rollup job has not folded yet: read from relay_logs. */
  raw: TimeRange | null;
}

type Tier = "day" | "hour" | "minute";

/** The rollups a step may read, coarsest first: a bucket of the step must not be split. */
const tiersFor: Record<BucketStep | "none", Tier[]> = {
  none: ["day", "hour", "minute"],
  day: ["day", "hour", "minute"],
  hour: ["hour", "minute"],
  minute: ["minute"],
};

function range(from: Date, to: Date): TimeRange | null {
  return from.getTime() < to.getTime() ? { from, to } : null;
}

/**
 * Splits [from, to) (whole minutes) between the rollups and the raw rows: the coarsest rollup
 * for every whole bucket of it, finer ones for the edges, and raw rows only past `frontier`,
 * where the rollup job stopped.
 */
export function planSources(
  from: Date,
  to: Date,
  frontier: Date | null,
  step: BucketStep | null,
): SourcePlan {
  const folded = minDate(to, maxDate(from, frontier ?? from));
  const plan: SourcePlan = { day: [], hour: [], minute: [], raw: range(folded, to) };
  const folding = range(from, folded);
  if (folding) {
    assign(plan, folding, tiersFor[step ?? "none"]);
  }
  return plan;
}

/** Gives the whole buckets of the coarsest tier to it, and the edges to the finer tiers. */
function assign(plan: SourcePlan, part: TimeRange, tiers: Tier[]): void {
  const [tier, ...finer] = tiers;
  if (tier === undefined) {
    return;
  }
  if (tier === "minute") {
    plan.minute.push(part);
    return;
  }
  const inner = range(ceilTo(part.from, tier), floorTo(part.to, tier));
  if (!inner) {
    assign(plan, part, finer);
    return;
  }
  plan[tier].push(inner);
  for (const edge of [range(part.from, inner.from), range(inner.to, part.to)]) {
    if (edge) {
      assign(plan, edge, finer);
    }
  }
}

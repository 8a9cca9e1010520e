import { sql } from "drizzle-orm";
import type { Database } from "../client.ts";
import { dropExpiredRelayLogPartitions } from "./partitions.ts";
import { addBuckets, floorTo } from "./time-buckets.ts";

export interface RetentionSettings {
  /** Days of raw relay rows (whole daily partitions). */
  rawDays: number;
  /** Days of minute rollups; at least rawDays, since late rows are folded from minutes. */
  minuteDays: number;
  /** Days of hour rollups: how far back hourly charts reach. */
  hourDays: number;
  /** Days of day rollups: how far back daily charts, summaries and billing reach. */
  dayDays: number;
}

export const defaultRetention: RetentionSettings = {
  rawDays: 30,
  minuteDays: 30,
  hourDays: 90,
  dayDays: 800,
};

export interface PruneResult {
  droppedPartitions: string[];
  minuteRowsDeleted: number;
  hourRowsDeleted: number;
  dayRowsDeleted: number;
}

/** Throws when the settings would let the hourly rollup be rebuilt from missing minutes. */
export function checkRetention(settings: RetentionSettings): void {
  if (settings.minuteDays < settings.rawDays) {
    throw new Error("minute rollups must be kept at least as long as raw relay rows");
  }
  if (settings.hourDays < settings.minuteDays || settings.dayDays < settings.hourDays) {
    throw new Error("coarser rollups must be kept at least as long as finer ones");
  }
}

/** Drops raw partitions and deletes rollup rows past their retention (whole UTC days). */
export async function pruneUsageData(
  db: Database,
  settings: RetentionSettings = defaultRetention,
  now: Date = new Date(),
): Promise<PruneResult> {
  checkRetention(settings);
  const today = floorTo(now, "day");
  const droppedPartitions = await dropExpiredRelayLogPartitions(db, {
    retentionDays: settings.rawDays,
    now,
  });
  const rawCutoff = addBuckets(today, "day", -settings.rawDays).toISOString();
  await db.execute(
    sql`delete from usage_rollup_marks where bucket_start < ${rawCutoff}::timestamptz`,
  );
  const minuteCutoff = addBuckets(today, "day", -settings.minuteDays).toISOString();
  const minuteRows = await db.execute(
    sql`delete from usage_rollups_minute where bucket_start < ${minuteCutoff}::timestamptz`,
  );
  const hourCutoff = addBuckets(today, "day", -settings.hourDays).toISOString();
  const hourRows = await db.execute(
    sql`delete from usage_rollups_hour where bucket_start < ${hourCutoff}::timestamptz`,
  );
  const dayCutoff = addBuckets(today, "day", -settings.dayDays).toISOString();
  const dayRows = await db.execute(
    sql`delete from usage_rollups_day where bucket_start < ${dayCutoff}::timestamptz`,
  );
  return {
    droppedPartitions,
    minuteRowsDeleted: affectedRows(minuteRows),
    hourRowsDeleted: affectedRows(hourRows),
    dayRowsDeleted: affectedRows(dayRows),
  };
}

/** Rows a delete touched, on either driver (postgres.js: `count`, PGlite: `affectedRows`). */
function affectedRows(result: unknown): number {
  const counted = result as { count?: unknown; affectedRows?: unknown };
  return Number(counted.count ?? counted.affectedRows ?? 0);
}

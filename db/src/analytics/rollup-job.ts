import { type SQL, sql } from "drizzle-orm";
import type { Database } from "../client.ts";
import {
  bucketOf,
  packedBuckets,
  rawDimensions,
  rollupColumnList,
  rollupUpdateSet,
  scalarMeasures,
} from "./rollup-sql.ts";
import { asDate, queryRows } from "./sql-rows.ts";
import { addBuckets, bucketMs, floorTo, maxDate, minDate } from "./time-buckets.ts";

/**
 * The rollup job: folds closed minutes of relay_logs into usage_rollups_minute, those into
 * usage_rollups_hour, and those into usage_rollups_day. Every write is an upsert of a whole recomputed bucket, so running it twice,
 * from two processes, or after a crash gives the same rows. It walks forward from where it
 * stopped (usage_rollup_state), one hour per transaction, so it catches up after downtime, and
 * recomputes minutes the relay marked in usage_rollup_marks when rows arrived after the fact.
 */

const stateName = "usage";
/** Only one process folds at a time; the others skip the run. */
const rollupLockKey = 7_304_211_002;

export interface RollupRunOptions {
  now?: Date;
  /**
   * How long after a minute ends it counts as closed. Rows that come later still count (the
   * writer marks their minute), but each costs a recomputation. 30 s when omitted.
   */
  graceMs?: number;
}

export interface RollupRunResult {
  /** Minutes before this instant are in the rollups. */
  rolledThrough: Date;
  /** Hour-long steps walked forward in this run. */
  chunks: number;
  /** Minutes recomputed because late rows marked them. */
  remarkedMinutes: number;
  /** False when another process held the job's lock, so this run did nothing. */
  ran: boolean;
}

interface TimeRange {
  from: Date;
  to: Date;
}

/** Where the rollups end: minutes before it are folded; null before the job's first run. */
export async function readRolledThrough(db: Database): Promise<Date | null> {
  const rows = await queryRows<{ at: unknown }>(
    db,
    sql`select rolled_through as at from usage_rollup_state where name = ${stateName}`,
  );
  return rows[0] ? asDate(rows[0].at) : null;
}

/** Runs the job once: marked late minutes first, then forward to the last closed minute. */
export async function runUsageRollup(
  db: Database,
  options: RollupRunOptions = {},
): Promise<RollupRunResult> {
  const now = options.now ?? new Date();
  const closedThrough = floorTo(new Date(now.getTime() - (options.graceMs ?? 30_000)), "minute");
  const remarked = await foldMarkedMinutes(db, closedThrough);
  if (remarked === null) {
    return { rolledThrough: closedThrough, chunks: 0, remarkedMinutes: 0, ran: false };
  }
  let chunks = 0;
  for (;;) {
    const step = await foldNextChunk(db, closedThrough);
    if (step === null) {
      return { rolledThrough: closedThrough, chunks, remarkedMinutes: remarked, ran: false };
    }
    if (step.done) {
      return { rolledThrough: step.rolledThrough, chunks, remarkedMinutes: remarked, ran: true };
    }
    chunks += 1;
  }
}

/**
 * Recomputes the minutes marked before the rollup frontier (rows that arrived late). The marks
 * are deleted before the rows are read: a writer committing meanwhile either holds its mark's
 * lock (the delete waits, then the read sees its rows) or leaves a new mark for the next run.
 * Returns the number of minutes recomputed, or null when another process holds the lock.
 */
async function foldMarkedMinutes(db: Database, closedThrough: Date): Promise<number | null> {
  return db.transaction(async (tx) => {
    if (!(await tryLock(tx))) {
      return null;
    }
    const rolledThrough = await readRolledThrough(tx);
    if (rolledThrough === null) {
      return 0;
    }
    const limit = minDate(rolledThrough, closedThrough);
    const marked = await queryRows<{ at: unknown }>(
      tx,
      sql`delete from usage_rollup_marks where bucket_start < ${limit.toISOString()}::timestamptz
          returning bucket_start as at`,
    );
    const minutes = [...new Set(marked.map((row) => asDate(row.at).getTime()))].sort(
      (a, b) => a - b,
    );
    for (const range of contiguousRanges(minutes, bucketMs.minute)) {
      await foldMinutes(tx, range);
    }
    await foldCoarser(tx, minutes);
    return minutes.length;
  });
}

/**
 * Folds the next stretch (up to the end of the hour it starts in) and moves the frontier past
 * it. Skips straight over stretches without rows. Null when another process holds the lock.
 */
async function foldNextChunk(
  db: Database,
  closedThrough: Date,
): Promise<{ done: boolean; rolledThrough: Date } | null> {
  return db.transaction(async (tx) => {
    if (!(await tryLock(tx))) {
      return null;
    }
    const rolledThrough = (await readRolledThrough(tx)) ?? new Date(0);
    if (rolledThrough.getTime() >= closedThrough.getTime()) {
      return { done: true, rolledThrough };
    }
    const next = await firstRowAt(tx, rolledThrough, closedThrough);
    if (next === null) {
      await saveRolledThrough(tx, closedThrough);
      return { done: true, rolledThrough: closedThrough };
    }
    const from = maxDate(rolledThrough, floorTo(next, "minute"));
    const to = minDate(addBuckets(floorTo(from, "hour"), "hour", 1), closedThrough);
    await tx.execute(
      sql`delete from usage_rollup_marks where bucket_start >= ${from.toISOString()}::timestamptz
          and bucket_start < ${to.toISOString()}::timestamptz`,
    );
    await foldMinutes(tx, { from, to });
    // from and to lie in one hour (and so one day): refold that hour and that day.
    await foldCoarser(tx, [from.getTime()]);
    await saveRolledThrough(tx, to);
    return { done: false, rolledThrough: to };
  });
}

async function tryLock(tx: Database): Promise<boolean> {
  const rows = await queryRows<{ locked: boolean }>(
    tx,
    sql`select pg_try_advisory_xact_lock(${rollupLockKey}) as locked`,
  );
  return rows[0]?.locked === true;
}

async function firstRowAt(tx: Database, from: Date, before: Date): Promise<Date | null> {
  const rows = await queryRows<{ at: unknown }>(
    tx,
    sql`select min(created_at) as at from relay_logs
        where created_at >= ${from.toISOString()}::timestamptz
          and created_at < ${before.toISOString()}::timestamptz`,
  );
  const at = rows[0]?.at;
  return at === null || at === undefined ? null : asDate(at);
}

async function saveRolledThrough(tx: Database, at: Date): Promise<void> {
  await tx.execute(
    sql`insert into usage_rollup_state (name, rolled_through, updated_at)
        values (${stateName}, ${at.toISOString()}::timestamptz, now())
        on conflict (name) do update set rolled_through = excluded.rolled_through,
          updated_at = excluded.updated_at`,
  );
}

/** Recomputes the minute rollups of [from, to) from the raw rows (minute-aligned bounds). */
export async function foldMinutes(tx: Database, range: TimeRange): Promise<void> {
  await tx.execute(minuteFoldStatement(range));
}

/** The upsert foldMinutes runs; exported so tests can EXPLAIN it. */
export function minuteFoldStatement(range: TimeRange): SQL {
  const dimensions = Object.values(rawDimensions).join(", ");
  const measures = scalarMeasures.map((measure) => measure.raw).join(", ");
  return sql`insert into usage_rollups_minute (${sql.raw(rollupColumnList)})
    select ${sql.raw(bucketOf("minute", "created_at"))}, ${sql.raw(dimensions)},
      ${sql.raw(measures)}, ${sql.raw(packedBuckets("raw"))}
    from relay_logs
    where created_at >= ${range.from.toISOString()}::timestamptz
      and created_at < ${range.to.toISOString()}::timestamptz
      and project_id is not null
    group by 1, 2, 3, 4, 5
    on conflict on constraint usage_rollups_minute_pk do update set ${sql.raw(rollupUpdateSet)}`;
}

/** Recomputes the hour rollups of [from, to) from the minute rollups (hour-aligned bounds). */
export async function foldHours(tx: Database, range: TimeRange): Promise<void> {
  await tx.execute(
    coarserFoldStatement("usage_rollups_minute", "usage_rollups_hour", "hour", range),
  );
}

/** Recomputes the day rollups of [from, to) from the hour rollups (day-aligned bounds). */
export async function foldDays(tx: Database, range: TimeRange): Promise<void> {
  await tx.execute(coarserFoldStatement("usage_rollups_hour", "usage_rollups_day", "day", range));
}

/** Sums the rows of a finer rollup into the buckets of a coarser one. */
function coarserFoldStatement(
  source: "usage_rollups_minute" | "usage_rollups_hour",
  target: "usage_rollups_hour" | "usage_rollups_day",
  step: "hour" | "day",
  range: TimeRange,
): SQL {
  const measures = scalarMeasures.map((measure) => measure.rollup).join(", ");
  return sql`insert into ${sql.raw(target)} (${sql.raw(rollupColumnList)})
    select ${sql.raw(bucketOf(step, "bucket_start"))}, project_id, api_key_id, chain_id,
      method, ${sql.raw(measures)}, ${sql.raw(packedBuckets("rollup"))}
    from ${sql.raw(source)}
    where bucket_start >= ${range.from.toISOString()}::timestamptz
      and bucket_start < ${range.to.toISOString()}::timestamptz
    group by 1, 2, 3, 4, 5
    on conflict on constraint ${sql.raw(`${target}_pk`)} do update set ${sql.raw(rollupUpdateSet)}`;
}

/** Refolds the hours, then the days, that hold the given minutes (epoch ms, sorted). */
async function foldCoarser(tx: Database, minutes: number[]): Promise<void> {
  const hours = [...new Set(minutes.map((at) => floorTo(new Date(at), "hour").getTime()))];
  for (const range of contiguousRanges(hours, bucketMs.hour)) {
    await foldHours(tx, range);
  }
  const days = [...new Set(minutes.map((at) => floorTo(new Date(at), "day").getTime()))];
  for (const range of contiguousRanges(days, bucketMs.day)) {
    await foldDays(tx, range);
  }
}

/** Sorted bucket starts (epoch ms) merged into ranges of adjacent buckets. */
function contiguousRanges(starts: number[], size: number): TimeRange[] {
  const ranges: TimeRange[] = [];
  let current: { from: number; to: number } | null = null;
  for (const start of starts) {
    if (current !== null && start === current.to) {
      current.to = start + size;
      continue;
    }
    if (current !== null) {
      ranges.push({ from: new Date(current.from), to: new Date(current.to) });
    }
    current = { from: start, to: start + size };
  }
  if (current !== null) {
    ranges.push({ from: new Date(current.from), to: new Date(current.to) });
  }
  return ranges;
}

import { sql } from "drizzle-orm";
import type { Database } from "../client.ts";
import { queryRows } from "./sql-rows.ts";
import { addBuckets, floorTo } from "./time-buckets.ts";

/**
 * relay_logs is partitioned by day on created_at (native range partitioning). Drizzle-kit cannot
 * express that, so migrations create a plain table and this module converts it once, then keeps
 * daily partitions ahead of time; a DEFAULT partition takes any row no day partition covers, so
 * an insert never fails for want of a partition.
 */
const parent = "relay_logs";
const defaultPartition = "relay_logs_default";
const dayPartitionPattern = /^relay_logs_p(\d{4})(\d{2})(\d{2})$/;

/** Serializes partition changes across processes (server instances, the migrate CLI). */
const partitionLockKey = 7_304_211_001;

export interface PartitionWindow {
  /** The instant "today" is taken from; now when omitted. */
  now?: Date;
  /** Days before today that get a partition of their own (late rows land in them). */
  daysBack?: number;
  /** Days after today made ahead, so midnight never waits on maintenance. */
  daysAhead?: number;
}

export interface RelayLogPartition {
  name: string;
  /** Inclusive lower bound (midnight UTC). */
  from: Date;
  /** Exclusive upper bound. */
  to: Date;
}

/** The name of the partition holding the UTC day of `day`. */
export function dayPartitionName(day: Date): string {
  return `relay_logs_p${day.toISOString().slice(0, 10).replaceAll("-", "")}`;
}

/** Whether relay_logs is already a partitioned table. */
export async function isRelayLogsPartitioned(db: Database): Promise<boolean> {
  const rows = await queryRows<{ kind: string }>(
    db,
    sql`select c.relkind::text as kind from pg_class c
        where c.oid = to_regclass(${parent})`,
  );
  return rows[0]?.kind === "p";
}

/**
 * Converts relay_logs to a table partitioned by day if it is not one yet, and makes sure the
 * default partition and the daily partitions of the window exist. Idempotent; called at the end
 * of every migration run and by the maintenance job.
 */
export async function ensureRelayLogPartitions(
  db: Database,
  window: PartitionWindow = {},
): Promise<void> {
  const today = floorTo(window.now ?? new Date(), "day");
  const daysBack = window.daysBack ?? 2;
  const daysAhead = window.daysAhead ?? 7;
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${partitionLockKey})`);
    if (!(await isRelayLogsPartitioned(tx))) {
      await convertToPartitioned(tx);
    }
    await tx.execute(
      sql.raw(`create table if not exists ${defaultPartition} partition of ${parent} default`),
    );
  });
  for (let offset = -daysBack; offset <= daysAhead; offset += 1) {
    await ensureDayPartition(db, addBuckets(today, "day", offset));
  }
}

/**
 * Swaps the plain relay_logs for a partitioned one with the same columns, constraints and index
 * names (later drizzle migrations refer to them by name), and moves its rows over.
 */
async function convertToPartitioned(tx: Database): Promise<void> {
  const constraints = await queryRows<{ name: string; definition: string }>(
    tx,
    sql`select conname as name, pg_get_constraintdef(oid) as definition from pg_constraint
        where conrelid = to_regclass(${parent}) and contype in ('p', 'u', 'f', 'x')`,
  );
  const indexes = await queryRows<{ name: string; definition: string }>(
    tx,
    sql`select i.relname as name, pg_get_indexdef(i.oid) as definition
        from pg_index x join pg_class i on i.oid = x.indexrelid
        where x.indrelid = to_regclass(${parent})
          and not exists (select 1 from pg_constraint c where c.conindid = i.oid)`,
  );
  const legacy = `${parent}_unpartitioned`;
  await tx.execute(sql.raw(`lock table ${parent} in access exclusive mode`));
  await tx.execute(sql.raw(`alter table ${parent} rename to ${legacy}`));
  for (const constraint of constraints) {
    await tx.execute(sql.raw(`alter table ${legacy} drop constraint "${constraint.name}"`));
  }
  for (const index of indexes) {
    await tx.execute(sql.raw(`drop index "${index.name}"`));
  }
  await tx.execute(
    sql.raw(
      `create table ${parent} (like ${legacy} including all excluding indexes)
       partition by range (created_at)`,
    ),
  );
  for (const constraint of constraints) {
    await tx.execute(
      sql.raw(`alter table ${parent} add constraint "${constraint.name}" ${constraint.definition}`),
    );
  }
  for (const index of indexes) {
    // The saved definition names relay_logs, which is now the partitioned table.
    await tx.execute(sql.raw(index.definition));
  }
  await tx.execute(sql.raw(`create table ${defaultPartition} partition of ${parent} default`));
  await tx.execute(sql.raw(`insert into ${parent} select * from ${legacy}`));
  await tx.execute(sql.raw(`drop table ${legacy}`));
}

/**
 * Creates the partition of one UTC day when it is missing. Rows of that day already sitting in
 * the default partition (written before the partition existed) are moved into it first, since
 * Postgres refuses a new partition whose rows the default partition holds.
 */
async function ensureDayPartition(db: Database, day: Date): Promise<void> {
  const name = dayPartitionName(day);
  const from = day.toISOString();
  const to = addBuckets(day, "day", 1).toISOString();
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${partitionLockKey})`);
    const existing = await queryRows<{ found: boolean }>(
      tx,
      sql`select to_regclass(${name}) is not null as found`,
    );
    if (existing[0]?.found) {
      return;
    }
    const strays = await queryRows<{ found: boolean }>(
      tx,
      sql`select exists (select 1 from ${sql.raw(defaultPartition)}
          where created_at >= ${from}::timestamptz and created_at < ${to}::timestamptz) as found`,
    );
    const bounds = `for values from ('${from}') to ('${to}')`;
    if (!strays[0]?.found) {
      await tx.execute(sql.raw(`create table ${name} partition of ${parent} ${bounds}`));
      return;
    }
    await tx.execute(
      sql.raw(`create table ${name} (like ${parent} including defaults including constraints)`),
    );
    await tx.execute(
      sql.raw(
        `with moved as (delete from ${defaultPartition}
           where created_at >= '${from}' and created_at < '${to}' returning *)
         insert into ${name} select * from moved`,
      ),
    );
    await tx.execute(sql.raw(`alter table ${parent} attach partition ${name} ${bounds}`));
  });
}

/** The daily partitions of relay_logs, oldest first (the default partition is not listed). */
export async function listRelayLogPartitions(db: Database): Promise<RelayLogPartition[]> {
  const rows = await queryRows<{ name: string }>(
    db,
    sql`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = to_regclass(${parent})`,
  );
  const partitions: RelayLogPartition[] = [];
  for (const { name } of rows) {
    const match = dayPartitionPattern.exec(name);
    if (match) {
      const from = new Date(`${match[1]}-${match[2]}-${match[3]}T00:00:00Z`);
      partitions.push({ name, from, to: addBuckets(from, "day", 1) });
    }
  }
  return partitions.sort((a, b) => a.from.getTime() - b.from.getTime());
}

export interface RetentionOptions {
  /** Raw rows older than this many whole days (before today, UTC) are dropped. */
  retentionDays: number;
  now?: Date;
}

/**
 * Drops the daily partitions that ended before the retention cutoff, and deletes rows that old
 * from the default partition. Dropping a partition is instant and leaves no dead rows behind,
 * which is why the table is partitioned at all. Returns the names of the dropped partitions.
 */
export async function dropExpiredRelayLogPartitions(
  db: Database,
  options: RetentionOptions,
): Promise<string[]> {
  const cutoff = addBuckets(
    floorTo(options.now ?? new Date(), "day"),
    "day",
    -options.retentionDays,
  );
  const expired = (await listRelayLogPartitions(db)).filter(
    (partition) => partition.to.getTime() <= cutoff.getTime(),
  );
  for (const partition of expired) {
    await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${partitionLockKey})`);
      await tx.execute(sql.raw(`drop table if exists ${partition.name}`));
    });
  }
  await db.execute(
    sql`delete from ${sql.raw(defaultPartition)} where created_at < ${cutoff.toISOString()}::timestamptz`,
  );
  return expired.map((partition) => partition.name);
}

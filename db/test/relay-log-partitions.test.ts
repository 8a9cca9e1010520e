import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import {
  dayPartitionName,
  dropExpiredRelayLogPartitions,
  ensureRelayLogPartitions,
  isRelayLogsPartitioned,
  listRelayLogPartitions,
} from "../src/analytics/partitions.ts";
import { asNumber, queryRows } from "../src/analytics/sql-rows.ts";
import { addBuckets, floorTo } from "../src/analytics/time-buckets.ts";
import { migrateDatabase } from "../src/migrate.ts";
import { createTestDatabase, type TestDatabase, testDriver } from "../src/testing.ts";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database.close();
});

async function insertRow(createdAt: Date, id: string = randomUUID()): Promise<string> {
  await database.db.execute(
    sql`insert into relay_logs (id, created_at, request_id, status, http_status, latency_ms)
        values (${id}, ${createdAt.toISOString()}::timestamptz, 'partition-test', 'ok', 200, 1)
        on conflict do nothing`,
  );
  return id;
}

async function partitionOf(id: string): Promise<string | undefined> {
  const rows = await queryRows<{ name: string }>(
    database.db,
    sql`select tableoid::regclass::text as name from relay_logs where id = ${id}`,
  );
  return rows[0]?.name;
}

async function indexNames(): Promise<string[]> {
  const rows = await queryRows<{ name: string }>(
    database.db,
    sql`select indexname as name from pg_indexes where tablename = 'relay_logs' order by 1`,
  );
  return rows.map((row) => row.name);
}

describe(`relay_logs partitioned by day on ${testDriver}`, () => {
  test("migrations leave relay_logs partitioned, with today, the days ahead and a default", async () => {
    const today = floorTo(new Date(), "day");

    const partitions = (await listRelayLogPartitions(database.db)).map((part) => part.name);

    expect(await isRelayLogsPartitioned(database.db)).toBe(true);
    for (let offset = -2; offset <= 7; offset += 1) {
      expect(partitions).toContain(dayPartitionName(addBuckets(today, "day", offset)));
    }
    expect(await indexNames()).toEqual([
      "relay_logs_created_at_idx",
      "relay_logs_id_created_at_pk",
      "relay_logs_project_time_idx",
    ]);
  });

  test("a row lands in its day's partition, and one far off lands in the default", async () => {
    const today = await insertRow(new Date());
    const farFuture = await insertRow(addBuckets(new Date(), "day", 400));

    expect(await partitionOf(today)).toBe(dayPartitionName(new Date()));
    expect(await partitionOf(farFuture)).toBe("relay_logs_default");
  });

  test("the same id and time inserted twice is stored once", async () => {
    const at = new Date();
    const id = await insertRow(at);

    await insertRow(at, id);

    const [count] = await queryRows<{ n: unknown }>(
      database.db,
      sql`select count(*) as n from relay_logs where id = ${id}`,
    );
    expect(asNumber(count?.n)).toBe(1);
  });

  test("running the migrations again changes nothing", async () => {
    const before = await listRelayLogPartitions(database.db);

    await migrateDatabase(database);

    expect(await listRelayLogPartitions(database.db)).toEqual(before);
    expect(await isRelayLogsPartitioned(database.db)).toBe(true);
  });

  test("a new day's partition takes over that day's rows from the default partition", async () => {
    const laterDay = addBuckets(floorTo(new Date(), "day"), "day", 20);
    const id = await insertRow(addBuckets(laterDay, "hour", 5));
    expect(await partitionOf(id)).toBe("relay_logs_default");

    await ensureRelayLogPartitions(database.db, { now: laterDay, daysBack: 0, daysAhead: 0 });

    expect(await partitionOf(id)).toBe(dayPartitionName(laterDay));
  });

  test("retention drops whole days past the cutoff and old rows in the default", async () => {
    const today = floorTo(new Date(), "day");
    const old = addBuckets(today, "day", -40);
    await ensureRelayLogPartitions(database.db, { now: old, daysBack: 0, daysAhead: 1 });
    const oldRow = await insertRow(addBuckets(old, "hour", 1));
    const olderInDefault = await insertRow(addBuckets(old, "day", -30));
    const recent = await insertRow(new Date());

    const dropped = await dropExpiredRelayLogPartitions(database.db, { retentionDays: 30 });

    expect(dropped).toEqual([dayPartitionName(old), dayPartitionName(addBuckets(old, "day", 1))]);
    expect(await partitionOf(oldRow)).toBeUndefined();
    expect(await partitionOf(olderInDefault)).toBeUndefined();
    expect(await partitionOf(recent)).toBe(dayPartitionName(new Date()));
  });

  test("a plain relay_logs with rows is converted keeping its rows and index names", async () => {
    const other = await createTestDatabase();
    try {
      await other.db.execute(sql`drop table relay_logs`);
      await other.db.execute(
        sql`create table relay_logs (id uuid not null, created_at timestamptz not null,
            request_id text not null, project_id uuid, status text not null,
            http_status integer not null, latency_ms integer not null,
            constraint relay_logs_id_created_at_pk primary key (id, created_at))`,
      );
      await other.db.execute(
        sql`create index relay_logs_project_time_idx on relay_logs (project_id, created_at)`,
      );
      await other.db.execute(
        sql`insert into relay_logs (id, created_at, request_id, status, http_status, latency_ms)
            select gen_random_uuid(), now() - (n || ' hours')::interval, 'old', 'ok', 200, n
            from generate_series(1, 50) as n`,
      );

      await ensureRelayLogPartitions(other.db);

      const [count] = await queryRows<{ n: unknown }>(
        other.db,
        sql`select count(*) as n from relay_logs`,
      );
      const names = await queryRows<{ name: string }>(
        other.db,
        sql`select indexname as name from pg_indexes where tablename = 'relay_logs' order by 1`,
      );
      expect(await isRelayLogsPartitioned(other.db)).toBe(true);
      expect(asNumber(count?.n)).toBe(50);
      expect(names.map((row) => row.name)).toEqual([
        "relay_logs_id_created_at_pk",
        "relay_logs_project_time_idx",
      ]);
    } finally {
      await other.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type SQL, sql } from "drizzle-orm";
import { minuteFoldStatement } from "../src/analytics/rollup-job.ts";
import { queryRows } from "../src/analytics/sql-rows.ts";
import { addBuckets, floorTo } from "../src/analytics/time-buckets.ts";
import { usageStatement } from "../src/analytics/usage-queries.ts";
import { createTestDatabase, type TestDatabase, testDriver } from "../src/testing.ts";

/**
 * The dashboard's and the rollup job's statements use the indexes docs/analytics.md names, on a
 * database holding many projects (so a scan of everything would be the planner's worse choice).
 */

let database: TestDatabase;
const now = new Date();
const projectId = projectUuid(7);

function projectUuid(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
}

/** Every index an EXPLAIN (FORMAT JSON) plan reads, at any depth. */
function indexesIn(plan: unknown): string[] {
  if (Array.isArray(plan)) {
    return plan.flatMap(indexesIn);
  }
  if (plan === null || typeof plan !== "object") {
    return [];
  }
  const node = plan as Record<string, unknown>;
  const own = typeof node["Index Name"] === "string" ? [node["Index Name"]] : [];
  return [...own, ...Object.values(node).flatMap(indexesIn)];
}

async function indexesUsedBy(statement: SQL): Promise<string[]> {
  const rows = await queryRows<Record<string, unknown>>(
    database.db,
    sql`explain (format json) ${statement}`,
  );
  const plan = rows[0]?.["QUERY PLAN"];
  return indexesIn(typeof plan === "string" ? JSON.parse(plan) : plan);
}

beforeAll(async () => {
  database = await createTestDatabase();
  const hour = floorTo(now, "hour").toISOString();
  const zeros = "array_fill(0, array[42])";
  // 60 projects x 400 days x 2 keys, 12 x 30 days of hours x 2 keys, and 12 x a day of minutes.
  await database.db.execute(
    sql.raw(`insert into usage_rollups_hour
      select '${hour}'::timestamptz - (h || ' hours')::interval,
        ('00000000-0000-4000-8000-' || lpad(p::text, 12, '0'))::uuid,
        ('00000000-0000-4000-9000-' || lpad(k::text, 12, '0'))::uuid, '0021', 'eth_call',
        10, 1, 0, 10, 10, 100, 100, 50, 9, ${zeros}
      from generate_series(1, 12) p, generate_series(0, 719) h, generate_series(1, 2) k`),
  );
  await database.db.execute(
    sql.raw(`insert into usage_rollups_day
      select '${floorTo(now, "day").toISOString()}'::timestamptz - (d || ' days')::interval,
        ('00000000-0000-4000-8000-' || lpad(p::text, 12, '0'))::uuid,
        ('00000000-0000-4000-9000-' || lpad(k::text, 12, '0'))::uuid, '0021', 'eth_call',
        10, 1, 0, 10, 10, 100, 100, 50, 9, ${zeros}
      from generate_series(1, 60) p, generate_series(1, 400) d, generate_series(1, 2) k`),
  );
  await database.db.execute(
    sql.raw(`insert into usage_rollups_minute
      select '${hour}'::timestamptz - (m || ' minutes')::interval,
        ('00000000-0000-4000-8000-' || lpad(p::text, 12, '0'))::uuid,
        '00000000-0000-4000-9000-000000000001', '0021', 'eth_call',
        10, 1, 0, 10, 10, 100, 100, 50, 9, ${zeros}
      from generate_series(1, 12) p, generate_series(0, 1439) m`),
  );
  await database.db.execute(
    sql.raw(`insert into relay_logs (id, created_at, request_id, project_id, status, http_status,
        latency_ms)
      select gen_random_uuid(), now() - ((n % 3600) || ' seconds')::interval, 'r',
        ('00000000-0000-4000-8000-' || lpad((n % 12 + 1)::text, 12, '0'))::uuid, 'ok', 200, 5
      from generate_series(1, 12000) n`),
  );
  await database.db.execute(
    sql.raw(`insert into audit_events (category, action, project_id, created_at)
      select 'activity', 'key.created',
        ('00000000-0000-4000-8000-' || lpad((n % 12 + 1)::text, 12, '0'))::uuid,
        now() - (n || ' minutes')::interval
      from generate_series(1, 6000) n`),
  );
  await database.db.execute(sql`analyze`);
});

afterAll(async () => {
  await database.close();
});

describe(`usage indexes on ${testDriver}`, () => {
  test("30 days of a project at hour steps read the hourly rollup by its primary key", async () => {
    const to = floorTo(now, "hour");
    const statement = usageStatement(
      { filter: { projectId }, from: addBuckets(to, "day", -30), to, step: "hour" },
      to,
    );

    expect(statement).not.toBeNull();
    expect(await indexesUsedBy(statement ?? sql``)).toContain("usage_rollups_hour_pk");
  });

  test("30 whole days of a project read the daily rollup by its primary key", async () => {
    const to = floorTo(now, "day");
    const statement = usageStatement(
      { filter: { projectId }, from: addBuckets(to, "day", -30), to },
      to,
    );

    expect(await indexesUsedBy(statement ?? sql``)).toContain("usage_rollups_day_pk");
  });

  test("minute steps read the minute rollup by key and the open minutes by project and time", async () => {
    const frontier = addBuckets(floorTo(now, "minute"), "minute", -1);
    const statement = usageStatement(
      {
        filter: { projectId },
        from: addBuckets(floorTo(now, "hour"), "hour", -6),
        to: addBuckets(floorTo(now, "minute"), "minute", 1),
        step: "minute",
      },
      frontier,
    );

    const used = await indexesUsedBy(statement ?? sql``);

    expect(used).toContain("usage_rollups_minute_pk");
    // Each daily partition has its own copy of relay_logs_project_time_idx, named after it.
    expect(used.some((name) => /^relay_logs_.*project_id_created_at_idx$/.test(name))).toBe(true);
  });

  test("the rollup job reads a closed minute of relay_logs by time", async () => {
    const minute = addBuckets(floorTo(now, "minute"), "minute", -5);

    const used = await indexesUsedBy(
      minuteFoldStatement({ from: minute, to: addBuckets(minute, "minute", 1) }),
    );

    expect(used.some((name) => /^relay_logs_.*created_at_idx$/.test(name))).toBe(true);
  });

  test("a project's activity log is read newest first by project and time", async () => {
    const used = await indexesUsedBy(
      sql`select * from audit_events where project_id = ${projectId}
          order by created_at desc, id desc limit 50`,
    );

    expect(used).toContain("audit_events_project_time_idx");
  });
});

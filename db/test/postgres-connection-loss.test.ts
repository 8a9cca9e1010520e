import { afterAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { testDriver } from "../src/testing.ts";

// postgres.js 3.4.9 on Bun, when Postgres kills its connections (a failover, a pooler restart,
// pg_terminate_backend), could throw from a write queued after the socket closed, outside any
// query, which killed the process; and a reconnected connection could keep the dead one's state
// and hang or fail its next query with the old error (upstream issues 1066, 1154, 1208).
// patches/postgres@3.4.9.patch fixes both; this proves the patch is applied.
const url = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const appName = `vp_kill_${process.pid}`;

function withinMs<T>(work: Promise<T>, ms: number): Promise<T | "no answer"> {
  return Promise.race([work, Bun.sleep(ms).then(() => "no answer" as const)]);
}

describe.skipIf(testDriver !== "postgres")("Postgres killing the pool's connections", () => {
  const sql = postgres(url, {
    max: 4,
    onnotice: () => undefined,
    connection: { application_name: appName },
  });
  const killer = postgres(url, { max: 1, onnotice: () => undefined });

  afterAll(async () => {
    await Promise.all([sql.end({ timeout: 1 }), killer.end({ timeout: 1 })]);
  });

  test("the process survives and the pool answers again once the killing stops", async () => {
    const until = Date.now() + 1_500;
    const failures = new Set<string>();
    // Bodies over 1 KiB and under it take the two write paths of the driver.
    const bodies = ["y", "x".repeat(4_000)];
    const workers = Array.from({ length: 8 }, async (_, index) => {
      while (Date.now() < until) {
        const query = sql`select length(${bodies[index % 2] ?? ""}::text) as n`;
        await withinMs(
          query.catch((error: { code?: string }) => failures.add(String(error.code))),
          500,
        );
      }
    });
    const kills = (async () => {
      while (Date.now() < until) {
        await killer`select pg_terminate_backend(pid) from pg_stat_activity
          where application_name = ${appName}`;
        await Bun.sleep(20);
      }
    })();
    await Promise.all([...workers, kills]);

    const answers = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      answers.push(
        await withinMs(
          sql<{ ok: number }[]>`select 1 as ok`.then((rows) => rows[0]?.ok),
          3_000,
        ),
      );
    }

    expect(failures.size).toBeGreaterThan(0);
    expect(answers).toEqual([1, 1, 1]);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "@viper/shared/logger";
import { sql } from "drizzle-orm";
import pino from "pino";
import postgres from "postgres";
import { DurableRelayLogWriter } from "../src/analytics/durable-relay-log-writer.ts";
import { insertRelayLogRows, type RelayLogRow } from "../src/analytics/relay-log-rows.ts";
import { asNumber, queryRows } from "../src/analytics/sql-rows.ts";
import { createTestDatabase, type TestDatabase, testDriver } from "../src/testing.ts";

let database: TestDatabase;
const dirs: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
});

afterEach(async () => {
  await database.db.execute(sql`alter table if exists relay_logs_away rename to relay_logs`);
});

afterAll(async () => {
  await database.close();
  for (const dir of dirs) {
    rmSync(dir, { recursive: true, force: true });
  }
});

function spoolDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "vp-spool-"));
  dirs.push(dir);
  return dir;
}

function row(requestId: string): Omit<RelayLogRow, "id"> {
  return { createdAt: new Date(), requestId, status: "ok", httpStatus: 200, latencyMs: 3 };
}

async function storedCount(prefix: string): Promise<{ rows: number; distinct: number }> {
  const [found] = await queryRows<{ rows: unknown; distinct: unknown }>(
    database.db,
    sql`select count(*) as rows, count(distinct request_id) as distinct from relay_logs
        where request_id like ${`${prefix}%`}`,
  );
  return { rows: asNumber(found?.rows), distinct: asNumber(found?.distinct) };
}

/** Makes relay_logs unreachable for the writer, as a stopped database would. */
async function takeTableAway(): Promise<void> {
  await database.db.execute(sql`alter table relay_logs rename to relay_logs_away`);
}

async function bringTableBack(): Promise<void> {
  await database.db.execute(sql`alter table relay_logs_away rename to relay_logs`);
}

describe(`relay log spool on ${testDriver}`, () => {
  test("rows wait on disk while writes fail and are stored once when writes work again", async () => {
    const dir = spoolDir();
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
    const writer = new DurableRelayLogWriter({
      db: database.db,
      logger,
      spoolDir: dir,
      flushIntervalMs: 60_000,
      batchSize: 100,
    });
    await takeTableAway();
    for (let index = 0; index < 500; index += 1) {
      writer.add(row(`spooled-${index}`));
    }
    await writer.flush();
    const whileAway = writer.stats();
    const filesWhileAway = readdirSync(dir);

    await bringTableBack();
    await writer.flush();

    expect(whileAway).toMatchObject({ buffered: 0, spooled: 500, databaseDown: true });
    expect(filesWhileAway.length).toBeGreaterThan(0);
    expect(await storedCount("spooled-")).toEqual({ rows: 500, distinct: 500 });
    expect(writer.stats()).toMatchObject({ buffered: 0, spooled: 0, databaseDown: false });
    expect(readdirSync(dir)).toEqual([]);
    expect(lines.some((line) => line.includes("relay log write failed, will retry"))).toBe(true);
    expect(lines.some((line) => line.includes("relay log writes resumed"))).toBe(true);
    await writer.stop();
  });

  test("a spool left by a writer that stopped during an outage is stored by the next one", async () => {
    const dir = spoolDir();
    const first = new DurableRelayLogWriter({
      db: database.db,
      logger: silentLogger(),
      spoolDir: dir,
      flushIntervalMs: 60_000,
    });
    await takeTableAway();
    for (let index = 0; index < 120; index += 1) {
      first.add(row(`restart-${index}`));
    }
    await first.stop();
    await bringTableBack();

    const second = new DurableRelayLogWriter({
      db: database.db,
      logger: silentLogger(),
      spoolDir: dir,
      flushIntervalMs: 60_000,
    });
    const pendingAtStart = second.pending;
    await second.stop();

    expect(pendingAtStart).toBe(120);
    expect(await storedCount("restart-")).toEqual({ rows: 120, distinct: 120 });
    expect(readdirSync(dir)).toEqual([]);
  });

  test("a segment replayed after its rows were already stored adds no duplicates", async () => {
    const dir = spoolDir();
    const rows: RelayLogRow[] = Array.from({ length: 60 }, (_, index) => ({
      ...row(`replayed-${index}`),
      id: crypto.randomUUID(),
    }));
    // As if a writer stored the first half, then died before removing the segment.
    await insertRelayLogRows(database.db, rows.slice(0, 30), "test");
    writeFileSync(
      join(dir, "relay-logs-0-1-abc.jsonl"),
      rows.map((entry) => `${JSON.stringify(entry)}\n`).join(""),
    );

    const writer = new DurableRelayLogWriter({
      db: database.db,
      logger: silentLogger(),
      spoolDir: dir,
      flushIntervalMs: 60_000,
    });
    await writer.stop();

    expect(await storedCount("replayed-")).toEqual({ rows: 60, distinct: 60 });
  });

  test("without a spool, rows past the memory bound are dropped and counted", async () => {
    const writer = new DurableRelayLogWriter({
      db: database.db,
      logger: silentLogger(),
      flushIntervalMs: 60_000,
      maxBuffered: 10,
    });
    await takeTableAway();
    for (let index = 0; index < 15; index += 1) {
      writer.add(row(`bounded-${index}`));
    }
    await writer.flush();
    const stats = writer.stats();
    await bringTableBack();
    await writer.stop();

    expect(stats).toMatchObject({ buffered: 10, dropped: 5 });
    expect(await storedCount("bounded-")).toEqual({ rows: 10, distinct: 10 });
  });

  // A second session is needed to hold the lock; PGlite has only one.
  test.skipIf(testDriver !== "postgres")(
    "a write stuck behind a lock gives up in time, and its rows are stored once",
    async () => {
      const holder = postgres(database.url ?? "", { max: 1, onnotice: () => undefined });
      const release = Promise.withResolvers<void>();
      const lockTaken = Promise.withResolvers<void>();
      const holding = holder.begin(async (tx) => {
        await tx`lock table usage_rollup_marks in access exclusive mode`;
        lockTaken.resolve();
        await release.promise;
      });
      await lockTaken.promise;
      const writer = new DurableRelayLogWriter({
        db: database.db,
        logger: silentLogger(),
        spoolDir: spoolDir(),
        flushIntervalMs: 60_000,
        writeTimeoutMs: 300,
      });
      for (let index = 0; index < 50; index += 1) {
        writer.add(row(`stuck-${index}`));
      }

      const started = Date.now();
      await writer.flush();
      const waitedMs = Date.now() - started;
      const whileStuck = writer.stats();
      release.resolve();
      await holding;
      await holder.end();
      await writer.stop();

      expect(waitedMs).toBeLessThan(5_000);
      expect(whileStuck).toMatchObject({ failedWrites: 1, spooled: 50, databaseDown: true });
      expect(await storedCount("stuck-")).toEqual({ rows: 50, distinct: 50 });
    },
  );
});

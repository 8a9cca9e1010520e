import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asNumber, queryRows } from "@viper/db/analytics/sql-rows";
import { testDriver } from "@viper/db/testing";
import { sql } from "drizzle-orm";
import { CHAIN_SLUG, type Harness, post, rpc, startHarness } from "./harness.ts";

/**
 * Stops the real Postgres server for ten seconds in the middle of 2,000 relays: afterwards the
 * log must hold each of them exactly once. It stops the server every other test uses, so it runs
 * only when scripts/test-all.ts asks for it, in a step of its own after the Postgres run
 * (TEST_DB=postgres TEST_POSTGRES_OUTAGE=1), and it always starts the server again.
 */
const enabled = testDriver === "postgres" && process.env.TEST_POSTGRES_OUTAGE === "1";

const RELAYS = 2_000;
const OUTAGE_MS = 10_000;
const IN_FLIGHT = 8;

/** The cluster behind TEST_DATABASE_URL: the machine's one, unless TEST_PG_CLUSTER names another. */
function cluster(): [version: string, name: string] {
  const version = readdirSync("/etc/postgresql")[0];
  if (!version) {
    throw new Error("no PostgreSQL cluster under /etc/postgresql");
  }
  return [version, process.env.TEST_PG_CLUSTER ?? "main"];
}

const port =
  new URL(process.env.TEST_DATABASE_URL ?? "postgres://127.0.0.1:5432/test").port || "5432";

async function pgCtl(action: "start" | "stop"): Promise<void> {
  const child = Bun.spawn(["pg_ctlcluster", "--skip-systemctl-redirect", ...cluster(), action], {
    stdout: "ignore",
    stderr: "pipe",
  });
  const code = await child.exited;
  if (code !== 0 && action === "stop") {
    throw new Error(`pg_ctlcluster ${action} failed: ${await new Response(child.stderr).text()}`);
  }
}

async function postgresAnswers(): Promise<boolean> {
  const child = Bun.spawn(["pg_isready", "-h", "127.0.0.1", "-p", port, "-q"]);
  return (await child.exited) === 0;
}

/** Starts Postgres again if it is down, and waits until it takes connections. */
async function ensurePostgresUp(): Promise<void> {
  if (!(await postgresAnswers())) {
    await pgCtl("start");
  }
  for (let waited = 0; waited < 60 && !(await postgresAnswers()); waited += 1) {
    await Bun.sleep(500);
  }
}

let harness: Harness;
let spoolDir: string;

describe.skipIf(!enabled)("relay rows through a Postgres outage", () => {
  beforeAll(async () => {
    // A run killed in the middle of its outage leaves Postgres stopped; start from a server up.
    await ensurePostgresUp();
    spoolDir = mkdtempSync(join(tmpdir(), "vp-outage-spool-"));
    harness = await startHarness({
      relayLog: { flushIntervalMs: 200, batchSize: 100, spoolDir },
    });
    // Warm the key, chain and session caches, as a relay that has been serving would have them.
    await post(harness.app, `/v1/${CHAIN_SLUG}/${harness.apiKey}`, rpc("eth_chainId"));
    await harness.app.decorator.relay.relayLogs.flush();
  }, 60_000);

  afterAll(async () => {
    await ensurePostgresUp();
    await harness?.close();
    rmSync(spoolDir, { recursive: true, force: true });
  }, 60_000);

  test("2,000 relays with Postgres stopped for 10 s are all stored, none twice", async () => {
    const writer = harness.app.decorator.relay.relayLogs;
    let started = 0;
    let mostSpooled = 0;
    const outage = (async () => {
      while (started < RELAYS / 5) {
        await Bun.sleep(20);
      }
      await pgCtl("stop");
      await Bun.sleep(OUTAGE_MS);
      await pgCtl("start");
    })();
    try {
      const inFlight = new Set<Promise<unknown>>();
      for (let index = 0; index < RELAYS; index += 1) {
        const request = post(
          harness.app,
          `/v1/${CHAIN_SLUG}/${harness.apiKey}`,
          rpc("eth_chainId"),
          {
            "x-request-id": `outage-${index}`,
          },
        ).finally(() => inFlight.delete(request));
        inFlight.add(request);
        started += 1;
        mostSpooled = Math.max(mostSpooled, writer.stats().spooled);
        if (inFlight.size >= IN_FLIGHT) {
          await Promise.race(inFlight);
        }
        // Paced so the run lasts longer than the outage.
        await Bun.sleep(8);
      }
      await Promise.all(inFlight);
      await outage;
    } finally {
      await ensurePostgresUp();
    }
    for (let attempt = 0; attempt < 120 && writer.pending > 0; attempt += 1) {
      await writer.flush();
      await Bun.sleep(250);
    }

    const [stored] = await queryRows<{ rows: unknown; ids: unknown; requests: unknown }>(
      harness.testDb.db,
      sql`select count(*) as rows, count(distinct id) as ids,
              count(distinct request_id) as requests
            from relay_logs where request_id like 'outage-%'`,
    );
    expect(writer.stats().failedWrites).toBeGreaterThan(0);
    expect(mostSpooled).toBeGreaterThan(0);
    expect(writer.pending).toBe(0);
    expect({
      rows: asNumber(stored?.rows),
      ids: asNumber(stored?.ids),
      requests: asNumber(stored?.requests),
    }).toEqual({ rows: RELAYS, ids: RELAYS, requests: RELAYS });
  }, 240_000);
});

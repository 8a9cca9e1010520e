import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RelayLogRow } from "@viper/db/analytics/relay-log-rows";
import { relayLogs } from "@viper/db/schema/relay-logs";
import { RelayMetrics } from "@viper/shared/metrics/relay-metrics";
import { parseMetricsText, sampleValue } from "@viper/shared/metrics/testing";
import { inArray } from "drizzle-orm";
import { RelayLogWriter } from "../src/relay-log-writer.ts";
import { CHAIN_SLUG, captureLogger, type Harness, post, rpc, startHarness } from "./harness.ts";

let harness: Harness;
let path: string;
let spoolRoot: string;

beforeAll(async () => {
  spoolRoot = mkdtempSync(join(tmpdir(), "vp-hardening-logs-"));
  harness = await startHarness({ relayLog: { spoolDir: join(spoolRoot, "relay") } });
  path = `/v1/${CHAIN_SLUG}/${harness.apiKey}`;
}, 60_000);

afterAll(async () => {
  await harness.close();
  rmSync(spoolRoot, { recursive: true, force: true });
});

async function rowsFor(requestIds: string[]) {
  return harness.testDb.db.select().from(relayLogs).where(inArray(relayLogs.requestId, requestIds));
}

function uniqueId(label: string): string {
  return `${label}-${crypto.randomUUID()}`;
}

/** A usage row as the writer holds it, for rows that skip the relay's row builder. */
function row(requestId: string, method: string): Omit<RelayLogRow, "id"> {
  return {
    createdAt: new Date(),
    requestId,
    method,
    batchSize: 1,
    status: "ok",
    httpStatus: 200,
    latencyMs: 1,
    bytesIn: 10,
    bytesOut: 10,
  };
}

function newWriter(spoolDir: string) {
  const { logger, lines } = captureLogger();
  // A timer that never fires: the test flushes by hand.
  const writer = new RelayLogWriter({
    db: harness.testDb.db,
    logger,
    spoolDir,
    flushIntervalMs: 3_600_000,
  });
  return { writer, lines };
}

describe("a NUL in a method no longer stops usage logging", () => {
  test("the NUL request and the five after it give six rows, the NUL one with a cleaned method", async () => {
    const ids = Array.from({ length: 6 }, (_, index) => uniqueId(`nul-${index}`));
    const logs = harness.app.decorator.relay.relayLogs;

    const poisoned = await post(
      harness.app,
      path,
      '{"jsonrpc":"2.0","id":1,"method":"eth_\\u0000"}',
      {
        "x-request-id": ids[0] ?? "",
      },
    );
    for (const requestId of ids.slice(1)) {
      await post(harness.app, path, rpc("eth_chainId"), { "x-request-id": requestId });
    }
    await logs.flush();

    expect(poisoned.status).toBe(200);
    const rows = await rowsFor(ids);
    expect(rows).toHaveLength(6);
    expect(rows.find((stored) => stored.requestId === ids[0])?.method).toBe("eth_\\u0000");
    expect(logs.stats()).toMatchObject({
      buffered: 0,
      spooled: 0,
      failedWrites: 0,
      deadLettered: 0,
    });
  });

  test("methods and origins are stored as bounded labels", async () => {
    const requestId = uniqueId("long-label");
    const method = `eth_${"x".repeat(300)}\u0001`;
    const origin = `https://${"o".repeat(400)}.example`;

    await post(harness.app, path, rpc(method), { "x-request-id": requestId, origin });
    await harness.app.decorator.relay.relayLogs.flush();

    const [stored] = await rowsFor([requestId]);
    expect(stored?.method).toBe(method.slice(0, 128));
    expect(stored?.origin).toBe(origin.slice(0, 256));
  });
});

describe("a row the database refuses holds up no other row", () => {
  test("a refused row in a buffered batch is set aside and the rest are stored", async () => {
    const spoolDir = join(spoolRoot, "buffered");
    const { writer, lines } = newWriter(spoolDir);
    const metrics = new RelayMetrics();
    metrics.watchLogWriter(() => writer.stats());
    const good = Array.from({ length: 5 }, (_, index) => uniqueId(`good-${index}`));
    const poison = uniqueId("poison");

    writer.add(row(good[0] ?? "", "eth_chainId"));
    writer.add(row(poison, "eth_\u0000"));
    for (const requestId of good.slice(1)) {
      writer.add(row(requestId, "eth_blockNumber"));
    }
    await writer.flush();

    expect(await rowsFor(good)).toHaveLength(5);
    expect(await rowsFor([poison])).toHaveLength(0);
    expect(writer.stats()).toMatchObject({ buffered: 0, spooled: 0, deadLettered: 1 });
    const deadLetters = readFileSync(join(spoolDir, "dead-letter", "relay-logs.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({
      row: { requestId: poison, method: "eth_\u0000" },
      error: { sqlState: expect.stringMatching(/^22/) },
    });
    const errorLine = lines.map((line) => JSON.parse(line)).find((line) => line.level === 50);
    expect(errorLine).toMatchObject({
      msg: "relay log row refused by the database, set aside",
      requestIds: [poison],
    });
    const families = parseMetricsText(await metrics.registry.metrics());
    expect(sampleValue(families, "viper_relay_log_dead_letter_rows_total")).toBe(1);
    await writer.stop();
  });

  test("spool replay gets past a segment holding a refused row", async () => {
    const spoolDir = join(spoolRoot, "replay");
    const before = Array.from({ length: 3 }, (_, index) => uniqueId(`before-${index}`));
    const after = Array.from({ length: 3 }, (_, index) => uniqueId(`after-${index}`));
    const poison = uniqueId("poison-spooled");
    const segment = [...before, poison, ...after].map((requestId) => ({
      ...row(requestId, requestId === poison ? "eth_\u0000" : "eth_chainId"),
      id: crypto.randomUUID(),
    }));
    // What an earlier run left behind while the database was away: rows spooled as JSON lines.
    const { writer: first } = newWriter(spoolDir);
    await first.stop();
    const segmentName = "relay-logs-20260101T000000000Z-1-abcdef.jsonl";
    writeFileSync(
      join(spoolDir, segmentName),
      segment.map((spooled) => `${JSON.stringify(spooled)}\n`).join(""),
    );

    const { writer } = newWriter(spoolDir);
    await writer.flush();

    expect(await rowsFor([...before, ...after])).toHaveLength(6);
    expect(writer.stats()).toMatchObject({ spooled: 0, deadLettered: 1 });
    expect(readdirSync(spoolDir)).not.toContain(segmentName);
    await writer.stop();
  });
});

import { describe, expect, test } from "bun:test";
import { relayLogs } from "@viper/db/schema/relay-logs";
import { generateApiKey } from "@viper/shared/api-key";
import { eq, inArray, sql } from "drizzle-orm";
import { RelayLogWriter } from "../src/relay-log-writer.ts";
import { CHAIN_SLUG, captureLogger, post, rpc, secondRelayApp, useHarness } from "./harness.ts";

const harness = useHarness();

async function rowsFor(requestIds: string[]) {
  return harness.testDb.db.select().from(relayLogs).where(inArray(relayLogs.requestId, requestIds));
}

describe("relay usage rows", () => {
  test("one row per request, with the fields usage pages need", async () => {
    const single = JSON.stringify(rpc("eth_chainId", 1));
    const batch = JSON.stringify([rpc("eth_chainId", 1), rpc("eth_blockNumber", 2)]);
    const origin = "https://dapp.example";

    const singleAnswer = await post(harness.app, harness.rpcPath, single, {
      "x-request-id": "log-single",
      origin,
    });
    const batchAnswer = await post(harness.app, harness.rpcPath, batch, {
      "x-request-id": "log-batch",
    });
    await harness.app.decorator.relay.relayLogs.flush();

    const rows = await rowsFor(["log-single", "log-batch"]);
    expect(rows).toHaveLength(2);
    const singleRow = rows.find((row) => row.requestId === "log-single");
    const batchRow = rows.find((row) => row.requestId === "log-batch");
    const servicers = harness.devnet.servicers.map((servicer) => servicer.address);
    expect(singleRow).toMatchObject({
      projectId: harness.project.projectId,
      apiKeyId: harness.project.keyId,
      chainId: "0021",
      zone: "0001",
      method: "eth_chainId",
      batchSize: 1,
      status: "ok",
      httpStatus: 200,
      errorCode: null,
      bytesIn: Buffer.byteLength(single),
      bytesOut: Buffer.byteLength(singleAnswer.text),
      origin,
    });
    expect(servicers).toContain(singleRow?.servicer ?? "none");
    expect(singleRow?.latencyMs).toBeGreaterThanOrEqual(0);
    expect(batchRow).toMatchObject({
      method: "batch",
      batchSize: 2,
      status: "ok",
      bytesOut: Buffer.byteLength(batchAnswer.text),
      origin: null,
    });
  });

  test("refused requests are logged too, an unknown key without a project", async () => {
    const unknownKey = generateApiKey().key;

    await post(harness.app, `/v1/${CHAIN_SLUG}/${unknownKey}`, rpc("eth_chainId"), {
      "x-request-id": "log-unknown-key",
    });
    await post(harness.app, harness.rpcPath, "not json", { "x-request-id": "log-parse-error" });
    await post(harness.app, `/v1/other-chain/${harness.apiKey}`, rpc("eth_chainId"), {
      "x-request-id": "log-forbidden-chain",
    });
    await harness.app.decorator.relay.relayLogs.flush();

    const rows = await rowsFor(["log-unknown-key", "log-parse-error", "log-forbidden-chain"]);
    const byId = new Map(rows.map((row) => [row.requestId, row]));
    expect(byId.get("log-unknown-key")).toMatchObject({
      projectId: null,
      apiKeyId: null,
      status: "unknown_key",
      httpStatus: 401,
      errorCode: -32001,
    });
    expect(byId.get("log-parse-error")).toMatchObject({
      status: "parse_error",
      httpStatus: 400,
      errorCode: -32700,
      method: null,
    });
    expect(byId.get("log-forbidden-chain")).toMatchObject({
      projectId: harness.project.projectId,
      chainId: "0099",
      status: "chain_not_allowed",
      httpStatus: 403,
    });
  });

  test("neither a row nor a log line contains a raw key", async () => {
    const unknownKey = generateApiKey().key;
    await post(harness.app, `/v1/${CHAIN_SLUG}/${unknownKey}`, rpc("eth_chainId"));
    await post(harness.app, harness.rpcPath, rpc("eth_chainId"));
    await harness.app.decorator.relay.relayLogs.flush();

    const rows = await harness.testDb.db.select().from(relayLogs);
    const everything = JSON.stringify(rows) + harness.logLines.join("\n");

    expect(rows.length).toBeGreaterThan(0);
    expect(harness.logLines.length).toBeGreaterThan(0);
    expect(everything).not.toContain(harness.apiKey);
    expect(everything).not.toContain(unknownKey);
  });

  test("rows survive a failed write and land on a later flush, with a warning", async () => {
    const { logger, lines } = captureLogger();
    const writer = new RelayLogWriter({ db: harness.testDb.db, logger, flushIntervalMs: 60_000 });
    writer.add({
      createdAt: new Date(),
      requestId: "log-retried",
      status: "ok",
      httpStatus: 200,
      latencyMs: 1,
    });

    await harness.testDb.db.execute(sql`alter table relay_logs rename to relay_logs_away`);
    try {
      await writer.flush();
    } finally {
      await harness.testDb.db.execute(sql`alter table relay_logs_away rename to relay_logs`);
    }
    const pendingAfterFailure = writer.pending;
    await writer.stop();

    expect(pendingAfterFailure).toBe(1);
    expect(lines.some((line) => line.includes("relay log write failed"))).toBe(true);
    expect(await rowsFor(["log-retried"])).toHaveLength(1);
  });

  test("closing the relay writes the rows still buffered", async () => {
    const app = secondRelayApp(harness, {
      relayLog: { flushIntervalMs: 60_000, batchSize: 1_000 },
    });

    await post(app, harness.rpcPath, rpc("eth_chainId"), { "x-request-id": "log-on-close" });
    const beforeClose = await rowsFor(["log-on-close"]);
    await app.decorator.relay.close();

    expect(beforeClose).toHaveLength(0);
    const rows = await harness.testDb.db
      .select()
      .from(relayLogs)
      .where(eq(relayLogs.requestId, "log-on-close"));
    expect(rows).toHaveLength(1);
  });
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DurableRelayLogWriter } from "@viper/db/analytics/durable-relay-log-writer";
import { expectedTotals, type MixRow, relayMix, rowsIn } from "@viper/db/analytics/relay-mix";
import { runUsageRollup } from "@viper/db/analytics/rollup-job";
import { addBuckets, ceilTo, floorTo } from "@viper/db/analytics/time-buckets";
import { silentLogger } from "@viper/shared/logger";
import { expectError, type TestServer, testDriver, testStoreKind } from "./helpers/harness.ts";
import { addMember, signUp, startProjectServer, type TestUser } from "./projects-fixtures.ts";

/**
 * The dashboard's usage procedures over a known mix of relay rows written by the relay's own log
 * writer: every number must equal what the rows add up to, counted one by one in JavaScript.
 */

let server: TestServer;
let owner: TestUser;
let viewer: TestUser;
let projectId: string;
let keyIds: string[];
let rows: MixRow[];
let now: Date;
let from: Date;
const chains = ["0021", "0022"];

beforeAll(async () => {
  server = await startProjectServer();
  owner = await signUp(server, "usage-owner");
  viewer = await signUp(server, "usage-viewer");
  const project = await owner.api.projects.create.mutate({ name: "usage", chains });
  projectId = project.id;
  await addMember(server, owner, projectId, viewer, "viewer");
  const first = await owner.api.keys.create.mutate({ projectId, name: "backend" });
  const second = await owner.api.keys.create.mutate({ projectId, name: "frontend" });
  keyIds = [first.key.id, second.key.id];

  now = new Date();
  from = addBuckets(floorTo(now, "hour"), "hour", -3);
  rows = relayMix({
    projects: [{ projectId, keyIds }],
    chains,
    methods: ["eth_blockNumber", "eth_call", "eth_getLogs"],
    from,
    to: now,
    count: 1500,
    seed: 11,
  });
  const writer = new DurableRelayLogWriter({
    db: server.db,
    logger: silentLogger(),
    batchSize: 500,
  });
  for (const row of rows) {
    writer.add(row);
  }
  await writer.stop();
  await runUsageRollup(server.db, { now });
}, 60_000);

afterAll(async () => {
  await server.stop();
});

const iso = (at: Date) => at.toISOString();
const ours = () => rows.filter((row) => row.projectId === projectId);

describe(`usage procedures on ${testDriver} + ${testStoreKind}`, () => {
  test("a viewer's summary counts every request, error and compute unit of the range", async () => {
    const to = ceilTo(now, "minute");

    const summary = await viewer.api.usage.summary.query({
      projectId,
      from: iso(from),
      to: iso(to),
    });

    expect(summary).toEqual({
      from: iso(from),
      to: iso(to),
      ...expectedTotals(rowsIn(ours(), { projectId }, from, to)),
    });
  });

  test("the hourly series has one exact point per hour, the minute series per minute", async () => {
    const hourTo = ceilTo(now, "hour");
    const minuteFrom = addBuckets(floorTo(now, "minute"), "minute", -30);

    const hourly = await owner.api.usage.series.query({
      projectId,
      from: iso(from),
      to: iso(hourTo),
      step: "hour",
    });
    const perMinute = await owner.api.usage.series.query({
      projectId,
      from: iso(minuteFrom),
      to: iso(now),
      step: "minute",
      apiKeyId: keyIds[0],
    });

    expect(hourly.points).toHaveLength((hourTo.getTime() - from.getTime()) / 3_600_000);
    for (const point of hourly.points) {
      const at = new Date(point.at);
      const selected = rowsIn(ours(), { projectId }, at, addBuckets(at, "hour", 1));
      expect(point).toEqual({ at: point.at, ...expectedTotals(selected) });
    }
    expect(perMinute.points.length).toBeGreaterThanOrEqual(30);
    for (const point of perMinute.points) {
      const at = new Date(point.at);
      const filter = { projectId, apiKeyId: keyIds[0] ?? "" };
      const selected = rowsIn(ours(), filter, at, addBuckets(at, "minute", 1));
      expect(point).toEqual({ at: point.at, ...expectedTotals(selected) });
    }
  });

  test("top methods come busiest first with their own numbers", async () => {
    const to = ceilTo(now, "minute");
    const selected = rowsIn(ours(), { projectId }, from, to);

    const top = await viewer.api.usage.topMethods.query({
      projectId,
      from: iso(from),
      to: iso(to),
      limit: 2,
    });

    const counts = [...new Set(selected.map((row) => row.method ?? ""))]
      .map((method) => ({
        method,
        requests: selected.filter((row) => row.method === method).length,
      }))
      .sort((a, b) => b.requests - a.requests || a.method.localeCompare(b.method));
    expect(top.map((entry) => entry.method)).toEqual(
      counts.slice(0, 2).map((entry) => entry.method),
    );
    for (const entry of top) {
      expect(entry).toEqual({
        method: entry.method,
        ...expectedTotals(selected.filter((row) => row.method === entry.method)),
      });
    }
  });

  test("per-key and per-chain breakdowns name each key and add up to the summary", async () => {
    const to = ceilTo(now, "minute");
    const selected = rowsIn(ours(), { projectId }, from, to);
    const range = { projectId, from: iso(from), to: iso(to) };

    const byKey = await viewer.api.usage.breakdown.query({ ...range, by: "key" });
    const byChain = await viewer.api.usage.breakdown.query({ ...range, by: "chain" });

    expect(byKey.map((share) => share.key?.name).sort()).toEqual(["backend", "frontend"]);
    for (const share of byKey) {
      expect(share.requests).toBe(selected.filter((row) => row.apiKeyId === share.value).length);
      expect(share.errorRate).toBe(
        expectedTotals(selected.filter((row) => row.apiKeyId === share.value)).errorRate,
      );
    }
    expect(byChain.map((share) => share.value).sort()).toEqual(chains);
    for (const share of byChain) {
      expect(share).toEqual({
        value: share.value,
        key: null,
        ...expectedTotals(selected.filter((row) => row.chainId === share.value)),
      });
    }
  });

  test("the month's billable usage counts served requests and their compute units", async () => {
    const month = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, "0")}`;
    const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const served = rowsIn(ours(), { projectId }, monthStart, ceilTo(now, "minute")).filter(
      (row) => row.status === "ok",
    );

    const bill = await viewer.api.usage.billing.query({ projectId, month });

    expect(bill).toMatchObject({
      month,
      relays: served.length,
      computeUnits: served.reduce((sum, row) => sum + (row.computeUnits ?? 0), 0),
    });
  });

  test("people outside the project see nothing, and anonymous callers must sign in", async () => {
    const outsider = await signUp(server, "usage-outsider");
    const range = { projectId, from: iso(from), to: iso(now) };

    await expectError(outsider.api.usage.summary.query(range), { appCode: "NOT_FOUND" });
    await expectError(server.client().usage.summary.query(range), { appCode: "UNAUTHENTICATED" });
  });

  test("ranges that end before they start or are too long for their step are refused", async () => {
    const backwards = await expectError(
      viewer.api.usage.summary.query({ projectId, from: iso(now), to: iso(from) }),
      { appCode: "INVALID_INPUT" },
    );
    const tooLong = await expectError(
      viewer.api.usage.series.query({
        projectId,
        from: iso(addBuckets(now, "day", -2)),
        to: iso(now),
        step: "minute",
      }),
      { appCode: "INVALID_INPUT" },
    );

    const tooLongHourly = await expectError(
      viewer.api.usage.series.query({
        projectId,
        from: iso(addBuckets(now, "day", -32)),
        to: iso(now),
        step: "hour",
      }),
      { appCode: "INVALID_INPUT" },
    );

    expect(backwards.issues?.map((issue) => issue.path)).toEqual([["to"]]);
    expect(tooLong.issues?.[0]).toMatchObject({
      path: ["from"],
      message: "A minute step covers at most 1 day.",
    });
    expect(tooLongHourly.issues?.map((issue) => [issue.path, issue.message])).toEqual([
      [["from"], "An hour step covers at most 31 days."],
    ]);
  });

  test("impossible calendar dates are an input issue on their field, not a TypeError", async () => {
    const impossible = [
      "2026-02-30T00:00:00Z",
      "2026-02-29T00:00:00Z",
      "2026-04-31T00:00:00Z",
      "2026-05-01T24:00:00Z",
      "2026-05-01T23:60:00Z",
      "yesterday",
    ];
    const to = "2026-12-31T00:00:00Z";

    for (const text of impossible) {
      const summary = await expectError(
        viewer.api.usage.summary.query({ projectId, from: text, to }),
        { appCode: "INVALID_INPUT" },
      );
      const series = await expectError(
        viewer.api.usage.series.query({ projectId, from: iso(from), to: text, step: "hour" }),
        { appCode: "INVALID_INPUT" },
      );

      const issues = [summary.issues, series.issues].map((list) =>
        list?.map((issue) => [issue.path, issue.message]),
      );
      expect({ text, issues }).toEqual({
        text,
        issues: [[[["from"], "Invalid ISO datetime"]], [[["to"], "Invalid ISO datetime"]]],
      });
    }
  });

  test("a bill for a month outside 2000-01 to 9998-12 is refused on month", async () => {
    for (const month of ["0000-01", "1999-12", "9999-12", "2026-13", "26-01"]) {
      const refused = await expectError(viewer.api.usage.billing.query({ projectId, month }), {
        appCode: "INVALID_INPUT",
      });

      expect({ month, issues: refused.issues?.map((issue) => issue.path) }).toEqual({
        month,
        issues: [["month"]],
      });
      expect(refused.issues?.[0]?.message).toBe(
        /^\d{4}-(0[1-9]|1[0-2])$/.test(month)
          ? "Pick a month from 2000-01 to 9998-12."
          : "Use YYYY-MM.",
      );
    }
  });

  test("the first and last billable months answer with plain four-digit dates", async () => {
    const first = await viewer.api.usage.billing.query({ projectId, month: "2000-01" });
    const last = await viewer.api.usage.billing.query({ projectId, month: "9998-12" });

    expect(first).toMatchObject({
      month: "2000-01",
      from: "2000-01-01T00:00:00.000Z",
      to: "2000-02-01T00:00:00.000Z",
      relays: 0,
    });
    expect(last).toMatchObject({
      month: "9998-12",
      from: "9998-12-01T00:00:00.000Z",
      to: "9999-01-01T00:00:00.000Z",
      relays: 0,
    });
  });
});

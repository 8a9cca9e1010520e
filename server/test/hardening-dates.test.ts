import { beforeAll, describe, expect, test } from "bun:test";
import { expectError, testDriver, testStoreKind, useServer } from "./helpers/harness.ts";
import { signUp, startProjectServer, type TestUser } from "./projects-fixtures.ts";

/**
 * Dates at the edges of what the server takes. Postgres stores no year 0 and reads no year past
 * 9999, and JavaScript writes year 10000 as "+010000-…", which it refuses: any instant that
 * reaches the database out there was a 500. Every date input now stops at the same bounds.
 */

const outOfRange = "Pick a time in the years 1970 to 9998 (UTC).";

describe(`dates at the edges of time on ${testDriver} + ${testStoreKind}`, () => {
  const server = useServer(startProjectServer, 60_000);
  let owner: TestUser;
  let projectId: string;
  let keyId: string;

  beforeAll(async () => {
    owner = await signUp(server, "dates-owner");
    const project = await owner.api.projects.create.mutate({ name: "Dates" });
    projectId = project.id;
    keyId = (await owner.api.keys.create.mutate({ projectId, name: "dated" })).key.id;
  }, 60_000);

  /** The [path, message] of each issue of a call that must be INVALID_INPUT. */
  async function issuesOf(call: Promise<unknown>) {
    const refused = await expectError(call, { appCode: "INVALID_INPUT" });
    return refused.issues?.map((issue) => [issue.path, issue.message]);
  }

  test("usage ranges that round into year 10000 are an input issue, not a 500", async () => {
    const lastDay = { from: "9999-12-31T00:00:00Z", to: "9999-12-31T23:59:59Z" };
    const calls = [
      owner.api.usage.summary.query({ projectId, ...lastDay }),
      owner.api.usage.summary.query({ projectId, ...lastDay, to: "9999-12-31T23:59:59-23:59" }),
      owner.api.usage.series.query({
        projectId,
        from: "9999-12-30T00:00:00Z",
        to: "9999-12-31T00:00:01Z",
        step: "day",
      }),
      owner.api.usage.breakdown.query({ projectId, ...lastDay, by: "key" }),
      owner.api.usage.topMethods.query({ projectId, ...lastDay, to: "9999-12-31T23:59:30Z" }),
    ];

    const answers = await Promise.all(calls.map(issuesOf));

    for (const issues of answers) {
      expect(issues).toEqual([
        [["from"], outOfRange],
        [["to"], outOfRange],
      ]);
    }
  });

  test("a range up to the last instant allowed rounds to 9999-01-01 and answers", async () => {
    const summary = await owner.api.usage.summary.query({
      projectId,
      from: "9998-12-31T00:00:00Z",
      to: "9998-12-31T23:59:59.999Z",
    });
    const series = await owner.api.usage.series.query({
      projectId,
      from: "9998-12-30T00:00:00Z",
      to: "9998-12-31T00:00:01Z",
      step: "day",
    });

    expect(summary).toMatchObject({
      from: "9998-12-31T00:00:00.000Z",
      to: "9999-01-01T00:00:00.000Z",
      requests: 0,
    });
    expect(series.to).toBe("9999-01-01T00:00:00.000Z");
    expect(series.points.map((point) => point.at)).toEqual([
      "9998-12-30T00:00:00.000Z",
      "9998-12-31T00:00:00.000Z",
    ]);
  });

  test("a key expiry past 9998 is refused on expiresAt when set and when creating", async () => {
    const farAway = ["9999-12-31T23:59:59-23:59", "9999-01-01T00:00:00Z"];

    for (const expiresAt of farAway) {
      const answers = await Promise.all([
        issuesOf(owner.api.keys.setExpiry.mutate({ projectId, keyId, expiresAt })),
        issuesOf(owner.api.keys.create.mutate({ projectId, name: "forever", expiresAt })),
      ]);

      expect(answers).toEqual([[[["expiresAt"], outOfRange]], [[["expiresAt"], outOfRange]]]);
    }
    const latest = await owner.api.keys.setExpiry.mutate({
      projectId,
      keyId,
      expiresAt: "9998-12-31T23:59:59+00:00",
    });
    expect(latest.expiresAt).toBe("9998-12-31T23:59:59.000Z");
  });

  test("an activity log page from before 1970 or after 9998 is refused on before", async () => {
    for (const before of [
      "9999-12-31T23:59:59-23:59",
      "0000-01-01T00:00:00Z",
      "1969-12-31T23:59:59Z",
    ]) {
      const page = owner.api.audit.projectLog.query({ projectId, before });

      expect({ before, issues: await issuesOf(page) }).toEqual({
        before,
        issues: [[["before"], outOfRange]],
      });
    }
    const first = await owner.api.audit.projectLog.query({
      projectId,
      before: "9998-12-31T23:59:59Z",
    });
    expect(first.map((event) => event.action)).toContain("key.created");
  });
});

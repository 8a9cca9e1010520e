import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { appRouter } from "../src/router.ts";
import { mergeRouters, publicProcedure, router } from "../src/trpc.ts";
import {
  signUpWithTokens,
  startTestServer,
  type TestServer,
  testDriver,
  testStoreKind,
} from "./helpers/harness.ts";
import { postProcedure, rawRequest, wireErrorOf } from "./helpers/raw-http.ts";

// Procedures that hand text to PostgreSQL past every input schema, as a missed field would.
const testRouter = mergeRouters(
  appRouter,
  router({
    probe: router({
      storeText: publicProcedure
        .input(z.object({ text: z.string() }))
        .mutation(async ({ ctx, input }) => {
          await ctx.db.execute(sql`select ${input.text}::text`);
          return "stored";
        }),
      storeJson: publicProcedure
        .input(z.object({ json: z.string() }))
        .mutation(async ({ ctx, input }) => {
          await ctx.db.execute(sql`select ${input.json}::jsonb`);
          return "stored";
        }),
    }),
  }),
);

const nul = "a\u0000b";

describe(`control characters in text input on ${testDriver} + ${testStoreKind}`, () => {
  let server: TestServer;
  let bearer: Record<string, string>;
  let projectId: string;
  let keyId: string;

  beforeAll(async () => {
    server = await startTestServer({}, { router: testRouter });
    const { tokens } = await signUpWithTokens(server);
    bearer = { authorization: `Bearer ${tokens.accessToken}` };
    const client = server.client({ token: tokens.accessToken });
    const project = await client.projects.create.mutate({ name: "Text checks" });
    projectId = project.id;
    const key = await client.keys.create.mutate({ projectId, name: "first" });
    keyId = key.key.id;
  }, 60_000);

  afterAll(async () => {
    await server.stop();
  });

  /** Expects INVALID_INPUT with an issue on `field`, never a server error. */
  async function expectRefused(path: string, input: unknown, field: string, headers = bearer) {
    const answer = await postProcedure(server.url, path, input, headers);
    const error = wireErrorOf(answer);
    expect({ path, status: answer.status, appCode: error.data.appCode }).toEqual({
      path,
      status: 400,
      appCode: "INVALID_INPUT",
    });
    expect(error.data.issues?.map((issue) => issue.path[0])).toContain(field);
  }

  test("a NUL in any name or note is INVALID_INPUT, not a 500 from the database", async () => {
    await expectRefused("projects.create", { name: nul }, "name");
    await expectRefused("projects.create", { name: "ok", note: nul }, "note");
    await expectRefused("projects.update", { projectId, note: nul }, "note");
    await expectRefused("keys.create", { projectId, name: nul }, "name");
    await expectRefused("keys.rename", { projectId, keyId, name: nul }, "name");
    await expectRefused("profile.update", { name: nul }, "name");
    await expectRefused("profile.update", { avatarUrl: `https://example.com/${nul}` }, "avatarUrl");
    await expectRefused(
      "auth.register",
      { email: "nul-name@example.com", password: "a long enough passphrase", name: nul },
      "name",
      {},
    );
  });

  test("other control characters and lone surrogates are refused too", async () => {
    await expectRefused("projects.create", { name: "bell\u0007" }, "name");
    await expectRefused("projects.create", { name: "tab\tin a name" }, "name");
    await expectRefused("projects.create", { name: "broken \ud800 text" }, "name");
    await expectRefused("keys.rename", { projectId, keyId, name: "escape\u001b[31m" }, "name");
  });

  test("notes keep their line breaks and tabs, and names keep any real Unicode", async () => {
    const note = "first line\nsecond line\twith a tab";
    const name = "Zürich 🚀 项目";

    const answer = await postProcedure(
      server.url,
      "projects.update",
      { projectId, note, name },
      bearer,
    );

    expect(answer.status).toBe(200);
    const read = await rawRequest(
      `${server.url}/trpc/projects.get?input=${encodeURIComponent(JSON.stringify({ projectId }))}`,
      { headers: bearer },
    );
    expect(read.body).toMatchObject({ result: { data: { name, note } } });
  });

  test("text the database cannot store is INVALID_INPUT even past the schemas", async () => {
    const text = await postProcedure(server.url, "probe.storeText", { text: nul });
    const json = await postProcedure(server.url, "probe.storeJson", { json: '{"a":"\\u0000"}' });

    for (const answer of [text, json]) {
      expect(answer.status).toBe(400);
      expect(wireErrorOf(answer).data).toMatchObject({ appCode: "INVALID_INPUT", issues: null });
    }
    expect(server.logs.find("procedure failed")).toEqual([]);
  });
});

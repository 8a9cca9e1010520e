import { afterAll, beforeAll, describe, expect, test } from "bun:test";
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
import { rawRequest, wireErrorOf } from "./helpers/raw-http.ts";

// A query that hands its text back, to show what the server read from a GET's input.
const testRouter = mergeRouters(
  appRouter,
  router({
    probe: router({
      echo: publicProcedure.input(z.object({ text: z.string() })).query(({ input }) => input.text),
    }),
  }),
);

const encoder = new TextEncoder();

/** `{"name":"<bytes>"}` with raw bytes inside the string, as a broken client may send it. */
function nameBody(bytes: number[]): Uint8Array {
  return new Uint8Array([...encoder.encode('{"name":"'), ...bytes, ...encoder.encode('"}')]);
}

/** A body sent in chunks, without Content-Length. */
function chunked(body: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(body.slice(0, 5));
      controller.enqueue(body.slice(5));
      controller.close();
    },
  });
}

describe(`bytes that are not UTF-8 on ${testDriver} + ${testStoreKind}`, () => {
  let server: TestServer;
  let bearer: Record<string, string>;

  beforeAll(async () => {
    server = await startTestServer({}, { router: testRouter });
    const { tokens } = await signUpWithTokens(server);
    bearer = { authorization: `Bearer ${tokens.accessToken}` };
  }, 60_000);

  afterAll(async () => {
    await server.stop();
  });

  function createProject(body: Uint8Array | ReadableStream<Uint8Array>) {
    return rawRequest(`${server.url}/trpc/projects.create`, {
      method: "POST",
      headers: { "content-type": "application/json", ...bearer },
      body,
      duplex: "half",
    } as RequestInit);
  }

  async function projectNames(): Promise<string[]> {
    const answer = await rawRequest(`${server.url}/trpc/projects.list`, { headers: bearer });
    const projects = (answer.body as { result: { data: { name: string }[] } }).result.data;
    return projects.map((project) => project.name);
  }

  test("a body with bytes that are not UTF-8 is INVALID_INPUT, not stored as U+FFFD", async () => {
    const broken = [
      [0xff, 0xfe],
      [0xc0, 0x80], // an overlong NUL
      [0xed, 0xa0, 0x80], // a UTF-16 surrogate written as UTF-8
      [0x41, 0xe2, 0x82], // a character cut off
    ];

    for (const bytes of broken) {
      for (const body of [nameBody(bytes), chunked(nameBody(bytes))]) {
        const answer = await createProject(body);

        expect(answer.status).toBe(400);
        expect(wireErrorOf(answer).message).toBe("The request body is not valid UTF-8.");
        expect(wireErrorOf(answer).data).toMatchObject({
          appCode: "INVALID_INPUT",
          path: "projects.create",
          issues: null,
        });
      }
    }
    expect(await projectNames()).toEqual([]);
  });

  test("a body in UTF-8 keeps every character, in one piece or in chunks", async () => {
    const name = "Zürich ✓ 🚀";

    const whole = await createProject(encoder.encode(JSON.stringify({ name })));
    const inChunks = await createProject(chunked(encoder.encode(JSON.stringify({ name: "日本" }))));

    expect([whole.status, inChunks.status]).toEqual([200, 200]);
    expect((await projectNames()).sort()).toEqual([name, "日本"].sort());
  });

  test("a GET whose input percent-decodes to broken UTF-8 is INVALID_INPUT too", async () => {
    const answer = await rawRequest(`${server.url}/trpc/probe.echo?input={"text":"%FF%FE"}`);

    expect(answer.status).toBe(400);
    expect(wireErrorOf(answer).message).toBe("The query string is not valid UTF-8.");
    expect(wireErrorOf(answer).data).toMatchObject({
      appCode: "INVALID_INPUT",
      path: "probe.echo",
    });
  });

  test("a GET's input in UTF-8, or with a % that escapes nothing, reads as sent", async () => {
    const echo = async (query: string) => {
      const answer = await rawRequest(`${server.url}/trpc/probe.echo?input=${query}`);
      return (answer.body as { result: { data: string } }).result.data;
    };

    expect(await echo(encodeURIComponent(JSON.stringify({ text: "Zürich ✓ 🚀" })))).toBe(
      "Zürich ✓ 🚀",
    );
    expect(await echo('{"text":"100%"}')).toBe("100%");
    expect(await echo('{"text":"%zz"}')).toBe("%zz");
  });
});

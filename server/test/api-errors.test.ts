import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { appRouter } from "../src/router.ts";
import { mergeRouters, publicProcedure, router } from "../src/trpc.ts";
import {
  createClient,
  dashboardUrl,
  expectError,
  testDriver,
  testStoreKind,
  useTestServer,
} from "./helpers/harness.ts";

const testRouter = mergeRouters(
  appRouter,
  router({
    probe: router({
      boom: publicProcedure.query((): string => {
        throw new Error("connection to 10.1.2.3 refused: internal detail");
      }),
      echo: publicProcedure.input(z.object({ text: z.string() })).query(({ input }) => input.text),
    }),
  }),
);

interface ErrorBody {
  error: {
    message: string;
    data: {
      code: string;
      appCode: string;
      httpStatus: number;
      requestId: string | null;
      issues: unknown[] | null;
    };
  };
}

describe(`errors on the wire on ${testDriver} + ${testStoreKind}`, () => {
  const server = useTestServer({}, { router: testRouter });

  /** Calls a procedure over raw HTTP with any JSON as input, as a buggy or hostile client might. */
  async function call(path: string, type: "query" | "mutation", input: unknown) {
    const url = new URL(`${server.url}/trpc/${path}`);
    const init: RequestInit = { method: "GET" };
    if (type === "query") {
      url.searchParams.set("input", JSON.stringify(input));
    } else {
      init.method = "POST";
      init.headers = { "content-type": "application/json" };
      init.body = JSON.stringify(input);
    }
    const response = await fetch(url, init);
    return { response, body: (await response.json()) as ErrorBody };
  }

  test("malformed input to any procedure gets a typed 4xx, never a server error", async () => {
    const procedures = Object.entries(appRouter._def.procedures) as Array<
      [string, { _def: { type: "query" | "mutation"; inputs: unknown[] } }]
    >;
    const payloads: unknown[] = [
      "garbage",
      { email: 42, password: [], token: {}, idToken: 7 },
      [1, 2],
    ];
    expect(procedures.length).toBeGreaterThan(20);

    for (const [path, procedure] of procedures) {
      for (const payload of payloads) {
        const { response, body } = await call(path, procedure._def.type, payload);
        const outcome = {
          path,
          status: response.status < 500,
          typed: typeof body.error?.data?.appCode,
        };
        if (response.ok) {
          continue;
        }
        expect(outcome).toEqual({ path, status: true, typed: "string" });
        if (procedure._def.inputs.length > 0 && response.status === 400) {
          expect({ path, appCode: body.error.data.appCode }).toEqual({
            path,
            appCode: "INVALID_INPUT",
          });
          expect(body.error.data.issues?.length ?? 0).toBeGreaterThan(0);
        }
      }
    }
  });

  test("bad input lists the issues per field, with the tRPC code BAD_REQUEST", async () => {
    const data = await expectError(
      server.client().auth.signIn.mutate({ email: "nope", password: "" }),
      { code: "BAD_REQUEST", appCode: "INVALID_INPUT", httpStatus: 400 },
    );
    expect(data.issues?.map((issue) => issue.path[0]).sort()).toEqual(["email", "password"]);
  });

  test("a body that is not JSON gets INVALID_INPUT in our words, not the parser's", async () => {
    const message = "The request body (or the input parameter of a GET) is not valid JSON.";
    const posted = await fetch(`${server.url}/trpc/auth.signIn`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"email":"a@example.com"',
    });
    const queried = await fetch(
      `${server.url}/trpc/probe.echo?input=${encodeURIComponent("{bad")}`,
    );

    for (const response of [posted, queried]) {
      const body = (await response.json()) as ErrorBody;
      expect(response.status).toBe(400);
      expect(body.error.message).toBe(message);
      expect(body.error.data).toMatchObject({ appCode: "INVALID_INPUT", issues: null });
    }
  });

  test("an unknown procedure is NOT_FOUND", async () => {
    const { response, body } = await call("auth.nothingHere", "mutation", {});
    expect(response.status).toBe(404);
    expect(body.error.data.appCode).toBe("NOT_FOUND");
  });

  test("an unexpected failure is an INTERNAL_SERVER_ERROR whose cause stays in the log", async () => {
    const client = createClient<typeof testRouter>(server.url, {
      headers: { "x-request-id": "req-boom-1" },
    });

    const data = await expectError(client.probe.boom.query(), {
      code: "INTERNAL_SERVER_ERROR",
      appCode: "INTERNAL",
      requestId: "req-boom-1",
    });

    expect(JSON.stringify(data)).not.toContain("10.1.2.3");
    const logged = server.logs.find("procedure failed").at(-1);
    expect(logged).toMatchObject({ requestId: "req-boom-1", path: "probe.boom", level: 50 });
    expect(JSON.stringify(logged)).toContain("internal detail");
  });

  test("every error carries the request id the response header names", async () => {
    const response = await fetch(`${server.url}/trpc/profile.get`);
    const body = (await response.json()) as ErrorBody;
    expect(response.status).toBe(401);
    expect(body.error.data.requestId).toBe(response.headers.get("x-request-id"));
    expect(body.error.data.appCode).toBe("UNAUTHENTICATED");
  });

  test("health answers over HTTP and over tRPC", async () => {
    const response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", database: true, store: true });
    expect(await server.client().health.query()).toEqual({
      status: "ok",
      database: true,
      store: true,
    });
    expect((await fetch(`${server.url}/elsewhere`)).status).toBe(404);
  });

  test("the dashboard's origin may call with credentials; other origins get no CORS grant", async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/trpc/auth.signIn`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST" },
      });

    const allowed = await preflight(dashboardUrl);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(dashboardUrl);
    expect(allowed.headers.get("access-control-allow-credentials")).toBe("true");
    const other = await preflight("https://evil.example");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });
});

import { describe, expect, test } from "bun:test";
import type { WireError } from "../src/trpc.ts";
import {
  CookieJar,
  goodPassword,
  signUpWithTokens,
  testDriver,
  testStoreKind,
  useTestServer,
} from "./helpers/harness.ts";
import { batchAppCodes, rawRequest, wireErrorOf } from "./helpers/raw-http.ts";

describe(`refusals and cookies over plain HTTP on ${testDriver} + ${testStoreKind}`, () => {
  const server = useTestServer({}, {}, 60_000);

  /** Signs in with the cookie and returns the session cookie's value. */
  async function sessionCookie(): Promise<string> {
    const { email } = await signUpWithTokens(server);
    const jar = new CookieJar();
    await server.client({ jar }).auth.signIn.mutate({ email, password: goodPassword });
    const value = jar.get(server.config.COOKIE_NAME);
    if (!value) {
      throw new Error("no session cookie");
    }
    return value;
  }

  test("a text/plain body gets a JSON 415 with the request id, the path and a whole message", async () => {
    const answer = await rawRequest(`${server.url}/trpc/auth.signIn`, {
      method: "POST",
      headers: { "content-type": "text/plain", "x-request-id": "plain-415" },
      body: "{}",
    });

    expect(answer.status).toBe(415);
    expect(answer.headers.get("content-type")).toContain("application/json");
    const error = wireErrorOf(answer);
    expect(error.data).toMatchObject({
      code: "UNSUPPORTED_MEDIA_TYPE",
      httpStatus: 415,
      appCode: "UNSUPPORTED_CONTENT_TYPE",
      path: "auth.signIn",
      requestId: "plain-415",
    });
    expect(error.message).toContain('"text/plain"');
    expect(answer.headers.get("x-request-id")).toBe("plain-415");
  });

  test("DELETE gets 405 with Allow, not 415", async () => {
    const answer = await rawRequest(`${server.url}/trpc/auth.signIn`, { method: "DELETE" });

    expect(answer.status).toBe(405);
    expect(answer.headers.get("allow")).toBe("GET, POST");
    expect(wireErrorOf(answer).data).toMatchObject({
      code: "METHOD_NOT_SUPPORTED",
      appCode: "METHOD_NOT_ALLOWED",
      requestId: answer.headers.get("x-request-id"),
    });
  });

  test("a query called with POST is METHOD_NOT_ALLOWED too, through tRPC", async () => {
    const answer = await rawRequest(`${server.url}/trpc/profile.get`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });

    expect(answer.status).toBe(405);
    expect(wireErrorOf(answer).data.appCode).toBe("METHOD_NOT_ALLOWED");
  });

  test("an unknown path outside /trpc gets the same JSON error shape, not a bare object", async () => {
    const answer = await rawRequest(`${server.url}/nothing-here`, {
      headers: { "x-request-id": "nothing-404" },
    });

    expect(answer.status).toBe(404);
    expect(wireErrorOf(answer).data).toMatchObject({
      code: "NOT_FOUND",
      appCode: "NOT_FOUND",
      httpStatus: 404,
      requestId: "nothing-404",
    });
  });

  test("an error tRPC raises before any context exists still carries the request id", async () => {
    const answer = await rawRequest(`${server.url}/trpc/health,auth.signIn?batch=1`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "mixed-batch" },
      body: "{}",
    });

    expect(answer.status).toBe(400);
    expect(answer.headers.get("content-type")).toContain("application/json");
    expect(wireErrorOf(answer)).toMatchObject({
      message: "Cannot mix procedure types in call: query, mutation",
      data: { appCode: "REQUEST_REJECTED", requestId: "mixed-batch", issues: null },
    });
  });

  test("a batch whose input is not an object refuses only the calls that take input", async () => {
    const { tokens } = await signUpWithTokens(server);
    const headers = { authorization: `Bearer ${tokens.accessToken}` };
    const batch = (input: string) =>
      rawRequest(`${server.url}/trpc/usage.billing,profile.get?batch=1&input=${input}`, {
        headers,
      });

    const listed = await batch(encodeURIComponent(JSON.stringify([{ projectId: "p" }])));
    const broken = await batch(encodeURIComponent("{bad"));

    expect([listed.status, broken.status]).toEqual([207, 207]);
    expect(batchAppCodes(listed)).toEqual(["REQUEST_REJECTED", "OK"]);
    expect(batchAppCodes(broken)).toEqual(["INVALID_INPUT", "OK"]);
    const [refused] = listed.body as { error: WireError }[];
    expect(refused?.error.message).toBe('"input" needs to be an object when doing a batch call');
  });

  test("a stray cookie with bad percent-encoding no longer breaks signed-in calls", async () => {
    const session = await sessionCookie();
    const name = server.config.COOKIE_NAME;

    const anonymous = await rawRequest(`${server.url}/trpc/profile.get`, {
      headers: { cookie: "foo=%ZZ%E0" },
    });
    const signedIn = await rawRequest(`${server.url}/trpc/profile.get`, {
      headers: { cookie: `foo=%ZZ%E0; ${name}=${session};bar=%E0%A4%A` },
    });

    expect(anonymous.status).toBe(401);
    expect(wireErrorOf(anonymous).data.appCode).toBe("UNAUTHENTICATED");
    expect(signedIn.status).toBe(200);
  });

  test("a forged session cookie is TOKEN_INVALID and cleared, not SESSION_REVOKED", async () => {
    const name = server.config.COOKIE_NAME;

    const answer = await rawRequest(`${server.url}/trpc/profile.get`, {
      headers: { cookie: `${name}=fake` },
    });

    expect(answer.status).toBe(401);
    expect(wireErrorOf(answer).data.appCode).toBe("TOKEN_INVALID");
    const cleared = answer.headers.getSetCookie().find((line) => line.startsWith(`${name}=;`));
    expect(cleared).toContain("Max-Age=0");
  });

  test("a real session cookie after sign-out is still SESSION_REVOKED", async () => {
    const session = await sessionCookie();
    const cookie = `${server.config.COOKIE_NAME}=${session}`;
    const signOut = await rawRequest(`${server.url}/trpc/auth.signOut`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
    });
    expect(signOut.status).toBe(200);

    const answer = await rawRequest(`${server.url}/trpc/profile.get`, { headers: { cookie } });

    expect(answer.status).toBe(401);
    expect(wireErrorOf(answer).data.appCode).toBe("SESSION_REVOKED");
  });
});

import { describe, expect, test } from "bun:test";
import {
  goodPassword,
  signUpWithTokens,
  testDriver,
  testStoreKind,
  uniqueEmail,
  useTestServer,
} from "./helpers/harness.ts";
import {
  batchAppCodes,
  postProcedure,
  rawRequest,
  tally,
  wireErrorOf,
} from "./helpers/raw-http.ts";

describe(`sign-in limits and request limits under load on ${testDriver} + ${testStoreKind}`, () => {
  let ipCounter = 0;
  const server = useTestServer(
    { TRUST_PROXY: "true", SIGN_IN_MAX_FAILURES_PER_IP: "20" },
    {},
    60_000,
  );

  /** A client address of its own, so one test's failures never lock another's. */
  function freshIp(): Record<string, string> {
    ipCounter += 1;
    return { "x-forwarded-for": `203.0.113.${ipCounter}` };
  }

  function signIn(email: string, password: string, headers: Record<string, string>) {
    return postProcedure(server.url, "auth.signIn", { email, password }, headers);
  }

  test("parallel wrong passwords no longer bypass the lock: at most ten are checked", async () => {
    const { email } = await signUpWithTokens(server);
    const limit = server.config.SIGN_IN_MAX_FAILURES_PER_ACCOUNT;
    const headers = freshIp();

    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, index) => signIn(email, `guess-${index}`, headers)),
    );

    const codes = tally(answers.map((answer) => wireErrorOf(answer).data.appCode));
    expect(Object.keys(codes).sort()).toEqual(["INVALID_CREDENTIALS", "SIGN_IN_LOCKED"]);
    expect(codes.INVALID_CREDENTIALS).toBeLessThanOrEqual(limit);
    expect(codes.SIGN_IN_LOCKED).toBe(100 - (codes.INVALID_CREDENTIALS ?? 0));
    const owner = await signIn(email, goodPassword, freshIp());
    expect(wireErrorOf(owner).data.appCode).toBe("SIGN_IN_LOCKED");
  }, 30_000);

  test("a batch of wrong passwords no longer bypasses the lock: at most ten are checked", async () => {
    const { email } = await signUpWithTokens(server);
    const limit = server.config.SIGN_IN_MAX_FAILURES_PER_ACCOUNT;
    const size = server.config.TRPC_MAX_BATCH_SIZE;
    const inputs = Object.fromEntries(
      Array.from({ length: size }, (_, index) => [index, { email, password: `guess-${index}` }]),
    );

    const answer = await postProcedure(
      server.url,
      `${Array(size).fill("auth.signIn").join(",")}?batch=1`,
      inputs,
      freshIp(),
    );

    const codes = tally(batchAppCodes(answer));
    expect(codes.INVALID_CREDENTIALS).toBeLessThanOrEqual(limit);
    expect(codes.SIGN_IN_LOCKED).toBe(size - (codes.INVALID_CREDENTIALS ?? 0));
  }, 30_000);

  test("parallel sign-ins spread over many emails no longer bypass the per-address lock", async () => {
    const headers = freshIp();

    const answers = await Promise.all(
      Array.from({ length: 60 }, () => signIn(uniqueEmail("spray"), "Summer2024!!", headers)),
    );

    const codes = tally(answers.map((answer) => wireErrorOf(answer).data.appCode));
    expect(codes.INVALID_CREDENTIALS).toBeLessThanOrEqual(20);
    expect(codes.SIGN_IN_LOCKED).toBe(60 - (codes.INVALID_CREDENTIALS ?? 0));
  }, 30_000);

  test("parallel wrong current passwords no longer bypass the lock on password changes", async () => {
    const { tokens } = await signUpWithTokens(server);
    const headers = { ...freshIp(), authorization: `Bearer ${tokens.accessToken}` };

    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        postProcedure(
          server.url,
          "profile.changePassword",
          { currentPassword: `guess-${index}`, newPassword: "a brand new passphrase here" },
          headers,
        ),
      ),
    );

    const codes = tally(answers.map((answer) => wireErrorOf(answer).data.appCode));
    expect(codes.PASSWORD_INCORRECT).toBeLessThanOrEqual(
      server.config.SIGN_IN_MAX_FAILURES_PER_ACCOUNT,
    );
    expect(codes.SIGN_IN_LOCKED).toBe(40 - (codes.PASSWORD_INCORRECT ?? 0));
  }, 30_000);

  test("a batch over the cap is refused whole with BATCH_TOO_LARGE, before any call runs", async () => {
    const { email } = await signUpWithTokens(server);
    const size = server.config.TRPC_MAX_BATCH_SIZE + 1;
    const inputs = Object.fromEntries(
      Array.from({ length: size }, (_, index) => [index, { email, password: "wrong" }]),
    );

    const answer = await postProcedure(
      server.url,
      `${Array(size).fill("auth.signIn").join(",")}?batch=1`,
      inputs,
      { ...freshIp(), "x-request-id": "batch-cap-1" },
    );

    expect(answer.status).toBe(400);
    expect(wireErrorOf(answer).data).toMatchObject({
      code: "BAD_REQUEST",
      appCode: "BATCH_TOO_LARGE",
      requestId: "batch-cap-1",
    });
    // Had the calls run, their wrong passwords would have locked the account by now.
    const signedIn = await signIn(email, goodPassword, freshIp());
    expect(signedIn.status).toBe(200);
  });

  test("a body over the limit gets a JSON 413 instead of being read into memory", async () => {
    const limit = server.config.MAX_REQUEST_BODY_BYTES;
    const body = JSON.stringify({ email: "a@example.com", password: "x".repeat(limit) });

    const answer = await rawRequest(`${server.url}/trpc/auth.signIn`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "big-body-1" },
      body,
    });

    expect(answer.status).toBe(413);
    expect(answer.headers.get("content-type")).toContain("application/json");
    expect(wireErrorOf(answer).data).toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
      appCode: "BODY_TOO_LARGE",
      httpStatus: 413,
      path: "auth.signIn",
      requestId: "big-body-1",
    });
  });

  test("a chunked body without Content-Length is cut off at the limit with a JSON 413", async () => {
    const limit = server.config.MAX_REQUEST_BODY_BYTES;
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += chunk.byteLength;
        controller.enqueue(chunk);
        if (sent > 4 * limit) {
          controller.close();
        }
      },
    });

    const answer = await rawRequest(`${server.url}/trpc/auth.signIn`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: endless,
      duplex: "half",
    } as RequestInit);

    expect(answer.status).toBe(413);
    expect(wireErrorOf(answer).data.appCode).toBe("BODY_TOO_LARGE");
  });

  test("a body under the limit still reaches the procedure", async () => {
    const answer = await postProcedure(
      server.url,
      "auth.signIn",
      { email: "nobody@example.com", password: "p".repeat(100_000) },
      freshIp(),
    );

    expect(answer.status).toBe(400);
    expect(wireErrorOf(answer).data.appCode).toBe("INVALID_INPUT");
  });
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  CookieJar,
  goodPassword,
  startTestServer,
  type TestServer,
  testDriver,
  testStoreKind,
  uniqueEmail,
  verificationLinkFor,
} from "./helpers/harness.ts";
import { rawRequest, wireErrorOf } from "./helpers/raw-http.ts";

/**
 * A server started without PUBLIC_URL (and without a dashboard), on a port other than 3000, as
 * `npm start` with SERVER_PORT set: its links and its cookie check name the port it listens on.
 */
describe(`a server without PUBLIC_URL on ${testDriver} + ${testStoreKind}`, () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ PUBLIC_URL: "", DASHBOARD_URL: "" });
  }, 60_000);

  afterAll(async () => {
    await server.stop();
  });

  test("the verification mail links to the port the server listens on, and the link works", async () => {
    const email = uniqueEmail("port-link");
    await server.client().auth.register.mutate({ email, password: goodPassword });

    const link = await verificationLinkFor(server.db, email);
    const opened = await rawRequest(link.href);

    expect(new URL(server.url).port).not.toBe("3000");
    expect(link.origin).toBe(server.url);
    expect(opened.status).toBe(200);
    expect(opened.body).toMatchObject({ email, verified: true });
  });

  test("a cookie POST from the server's own origin is accepted, one naming port 3000 is not", async () => {
    const email = uniqueEmail("port-cookie");
    await server.client().auth.register.mutate({ email, password: goodPassword });
    await rawRequest((await verificationLinkFor(server.db, email)).href);
    const jar = new CookieJar();
    await server.client({ jar }).auth.signIn.mutate({ email, password: goodPassword });
    const update = (origin: string) =>
      rawRequest(`${server.url}/trpc/profile.update`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          cookie: jar.header(),
          origin,
        },
        body: JSON.stringify({ name: "Port Tester" }),
      });

    const own = await update(server.url);
    const stale = await update("http://127.0.0.1:3000");

    expect(own.status).toBe(200);
    expect(stale.status).toBe(403);
    expect(wireErrorOf(stale)).toMatchObject({
      message: "Cross-site requests may not use the session.",
      data: { appCode: "FORBIDDEN" },
    });
  });
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { resolveSettings } from "../src/config.ts";
import { appRouter } from "../src/router.ts";
import {
  goodPassword,
  startTestServer,
  type TestServer,
  testDriver,
  testStoreKind,
  uniqueEmail,
  verificationLinkFor,
} from "./helpers/harness.ts";
import { rawRequest, wireErrorOf } from "./helpers/raw-http.ts";

describe(`development verification link and API docs on ${testDriver} + ${testStoreKind}`, () => {
  let devServer: TestServer;
  let dashboardServer: TestServer;

  beforeAll(async () => {
    // No dashboard configured: mail links point at the server itself, as in development.
    devServer = await startTestServer({ DASHBOARD_URL: "" });
    dashboardServer = await startTestServer();
  }, 60_000);

  afterAll(async () => {
    await devServer.stop();
    await dashboardServer.stop();
  });

  /** The mailed link, sent to the test server's real port (PUBLIC_URL names port 3000). */
  function onTestPort(server: TestServer, link: URL): string {
    return `${server.url}${link.pathname}${link.search}`;
  }

  test("the verification link of a development mail no longer answers 404", async () => {
    const email = uniqueEmail("dev-link");
    const client = devServer.client();
    await client.auth.register.mutate({ email, password: goodPassword });
    const link = await verificationLinkFor(devServer.db, email);
    expect(link.origin).toBe(new URL(resolveSettings(devServer.config).publicUrl).origin);
    expect(link.pathname).toBe("/verify-email");

    const opened = await rawRequest(onTestPort(devServer, link));

    expect(opened.status).toBe(200);
    expect(opened.body).toMatchObject({ email, verified: true });
    const signedIn = await client.auth.signIn.mutate({ email, password: goodPassword });
    expect(signedIn.user.emailVerified).toBe(true);
    const again = await rawRequest(onTestPort(devServer, link));
    expect(again.status).toBe(400);
    expect(wireErrorOf(again).data).toMatchObject({
      appCode: "VERIFICATION_TOKEN_INVALID",
      path: "auth.verifyEmail",
      requestId: again.headers.get("x-request-id"),
    });
  });

  test("the verification link refuses other methods and bad tokens in the API's error shape", async () => {
    const posted = await rawRequest(`${devServer.url}/verify-email?token=x`, { method: "POST" });
    const garbage = await rawRequest(`${devServer.url}/verify-email?token=${"z".repeat(40)}`);

    expect(posted.status).toBe(405);
    expect(wireErrorOf(posted).data.appCode).toBe("METHOD_NOT_ALLOWED");
    expect(garbage.status).toBe(400);
    expect(wireErrorOf(garbage).data.appCode).toBe("VERIFICATION_TOKEN_INVALID");
  });

  test("with a dashboard configured, the link goes to it and the server has no such page", async () => {
    const email = uniqueEmail("dashboard-link");
    await dashboardServer.client().auth.register.mutate({ email, password: goodPassword });
    const link = await verificationLinkFor(dashboardServer.db, email);

    const opened = await rawRequest(onTestPort(dashboardServer, link));

    expect(link.origin).toBe(new URL(dashboardServer.config.DASHBOARD_URL ?? "").origin);
    expect(opened.status).toBe(404);
    expect(wireErrorOf(opened).data.appCode).toBe("NOT_FOUND");
  });

  test("docs/dashboard-api.md lists every procedure of the router", () => {
    const doc = readFileSync(join(import.meta.dir, "../../docs/dashboard-api.md"), "utf8");
    const procedures = Object.keys(appRouter._def.procedures);

    const missing = procedures.filter((name) => !doc.includes(`| \`${name}\` |`));

    expect(procedures.length).toBeGreaterThan(20);
    expect(missing).toEqual([]);
  });
});

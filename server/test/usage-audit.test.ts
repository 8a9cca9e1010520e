import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { auditEvents } from "@viper/db/schema/audit-events";
import { users } from "@viper/db/schema/users";
import {
  parseMetricsText,
  promtoolAvailable,
  promtoolCheckMetrics,
  sampleValue,
} from "@viper/shared/metrics/testing";
import { eq } from "drizzle-orm";
import {
  expectError,
  goodPassword,
  type TestServer,
  testDriver,
  testStoreKind,
} from "./helpers/harness.ts";
import { addMember, signUp, startProjectServer, type TestUser } from "./projects-fixtures.ts";

/** The activity and security log, and the server's /metrics, as their readers see them. */

let server: TestServer;
let owner: TestUser;
let admin: TestUser;
let developer: TestUser;
let platformAdmin: TestUser;
let projectId: string;
let keyId: string;

beforeAll(async () => {
  server = await startProjectServer();
  owner = await signUp(server, "audit-owner");
  admin = await signUp(server, "audit-admin");
  developer = await signUp(server, "audit-developer");
  platformAdmin = await signUp(server, "audit-platform");
  await server.db.update(users).set({ role: "admin" }).where(eq(users.id, platformAdmin.id));
  const project = await owner.api.projects.create.mutate({ name: "audited", chains: ["0021"] });
  projectId = project.id;
  await addMember(server, owner, projectId, admin, "admin");
  await addMember(server, owner, projectId, developer, "viewer");

  // Refused while a viewer: a change that did not happen leaves no event.
  await expectError(developer.api.keys.create.mutate({ projectId, name: "refused" }), {
    appCode: "PROJECT_ROLE_REQUIRED",
  });
  await admin.api.members.changeRole.mutate({ projectId, userId: developer.id, role: "developer" });
  const key = await developer.api.keys.create.mutate({ projectId, name: "ci" });
  keyId = key.key.id;
  await developer.api.keys.regenerate.mutate({ projectId, keyId, graceSeconds: 0 });
  await admin.api.keys.revoke.mutate({ projectId, keyId });
}, 60_000);

afterAll(async () => {
  await server.stop();
});

describe(`activity and security log on ${testDriver} + ${testStoreKind}`, () => {
  test("a project's admins read who did what to which key and member, newest first", async () => {
    const log = await admin.api.audit.projectLog.query({ projectId });

    expect(log.map((event) => [event.action, event.actor?.email, event.target?.id])).toEqual([
      ["key.revoked", admin.email, keyId],
      ["key.regenerated", developer.email, keyId],
      ["key.created", developer.email, keyId],
      ["member.role_changed", admin.email, developer.id],
      ["member.added", developer.email, developer.id],
      ["member.added", admin.email, admin.id],
    ]);
    expect(log[3]?.details).toEqual({ role: "developer" });
    expect(log[4]?.details).toEqual({ role: "viewer" });
    expect(log.every((event) => event.category === "activity" && event.ip === "127.0.0.1")).toBe(
      true,
    );
  });

  test("members below admin cannot read the project's log", async () => {
    await expectError(developer.api.audit.projectLog.query({ projectId }), {
      appCode: "PROJECT_ROLE_REQUIRED",
    });
  });

  test("deleting a project leaves a last entry in its log, kept after the project is gone", async () => {
    const other = await owner.api.projects.create.mutate({ name: "short-lived" });
    await owner.api.projects.delete.mutate({ projectId: other.id });

    const rows = await server.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.projectId, other.id));

    expect(rows.map((row) => [row.action, row.actorUserId])).toEqual([
      ["project.deleted", owner.id],
    ]);
  });

  test("platform admins see sign-ins and refused sign-ins; others may not look", async () => {
    await expectError(
      server.client().auth.signIn.mutate({ email: owner.email, password: `${goodPassword}!` }),
      { appCode: "INVALID_CREDENTIALS" },
    );

    const failures = await platformAdmin.api.audit.securityEvents.query({
      action: "auth.sign_in_failed",
    });
    const signIns = await platformAdmin.api.audit.securityEvents.query({
      action: "auth.signed_in",
    });

    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      category: "security",
      actor: { id: owner.id, email: owner.email },
      ip: "127.0.0.1",
      details: { method: "password", email: owner.email, locked: false },
    });
    expect(signIns.map((event) => event.actor?.id)).toContain(developer.id);
    expect(signIns.every((event) => event.details.method === "password")).toBe(true);
    await expectError(owner.api.audit.securityEvents.query({}), { appCode: "ADMIN_REQUIRED" });
  });
});

describe(`server metrics on ${testDriver} + ${testStoreKind}`, () => {
  test("/metrics counts procedure calls by name and code, and sign-in outcomes", async () => {
    await owner.api.projects.list.query();
    await expectError(developer.api.audit.projectLog.query({ projectId }), {
      appCode: "PROJECT_ROLE_REQUIRED",
    });

    const response = await fetch(`${server.url}/metrics`);
    const families = parseMetricsText(await response.text());

    expect(response.status).toBe(200);
    expect(
      sampleValue(families, "viper_server_requests_total", {
        procedure: "projects.list",
        code: "OK",
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sampleValue(families, "viper_server_requests_total", {
        procedure: "audit.projectLog",
        code: "FORBIDDEN",
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sampleValue(families, "viper_sign_ins_total", { method: "password", outcome: "success" }),
    ).toBe([owner, admin, developer, platformAdmin].length);
  });

  test.skipIf(!promtoolAvailable)("promtool accepts the server's /metrics", async () => {
    const response = await fetch(`${server.url}/metrics`);

    expect(promtoolCheckMetrics(await response.text())).toEqual({ ok: true, output: "" });
  });
});

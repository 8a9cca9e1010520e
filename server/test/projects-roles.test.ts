import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TRPCClientError } from "@trpc/client";
import { apiKeys } from "@viper/db/schema/api-keys";
import type { ProjectRole } from "@viper/db/schema/project-members";
import { projects } from "@viper/db/schema/projects";
import { eq } from "drizzle-orm";
import { projectRoleRank } from "../src/project-access.ts";
import { appRouter } from "../src/router.ts";
import type { AppErrorData } from "../src/trpc.ts";
import { type TestServer, testDriver, testStoreKind } from "./helpers/harness.ts";
import { addMember, signUp, startProjectServer, type TestUser } from "./projects-fixtures.ts";
import { accountProcedures, cases, type Fixture } from "./projects-roles-cases.ts";

/** "ok", or the app code and message a call failed with. */
async function settle(call: Promise<unknown>): Promise<{ outcome: string; message?: string }> {
  try {
    await call;
    return { outcome: "ok" };
  } catch (error) {
    if (!(error instanceof TRPCClientError)) {
      throw error;
    }
    return { outcome: (error.data as AppErrorData).appCode, message: error.message };
  }
}

const roles: ProjectRole[] = ["viewer", "developer", "admin", "owner"];

describe(`project roles on ${testDriver} + ${testStoreKind}`, () => {
  let server: TestServer;
  let fixture: Fixture;
  const members = new Map<ProjectRole, TestUser>();
  let outsider: TestUser;

  beforeAll(async () => {
    server = await startProjectServer();
    const owner = await signUp(server, "owner");
    members.set("owner", owner);
    const project = await owner.api.projects.create.mutate({
      name: "Roles",
      chains: ["eth-mainnet"],
    });
    // Four members and an open invitation need more seats than the free tier has.
    await server.db.update(projects).set({ tier: "growth" }).where(eq(projects.id, project.id));
    for (const role of ["admin", "developer", "viewer"] as const) {
      const member = await signUp(server, role);
      await addMember(server, owner, project.id, member, role);
      members.set(role, member);
    }
    outsider = await signUp(server, "outsider");
    const key = await owner.api.keys.create.mutate({ projectId: project.id, name: "protected" });
    const invite = await owner.api.members.invite.mutate({
      projectId: project.id,
      email: "pending@example.com",
      role: "viewer",
    });
    fixture = {
      projectId: project.id,
      keyId: key.key.id,
      viewerId: members.get("viewer")?.id ?? "",
      inviteId: invite.id,
      selfId: "",
    };
  }, 60_000);

  afterAll(async () => {
    await server.stop();
  });

  function member(role: ProjectRole): TestUser {
    const user = members.get(role);
    if (!user) {
      throw new Error(`no ${role}`);
    }
    return user;
  }

  test("the table covers every procedure of the projects, members and keys routers", () => {
    const paths = Object.keys(appRouter._def.procedures).filter((path) =>
      /^(projects|members|keys)\./.test(path),
    );
    const covered = [
      ...cases.map((entry) => entry.path),
      ...accountProcedures.map((entry) => entry.path),
    ];

    expect(covered.toSorted()).toEqual(paths.toSorted());
  });

  test.each(cases.map((entry) => [entry.path, entry.minimum, entry] as const))(
    "%s needs %s: lower roles are refused, others and anonymous callers get nothing",
    async (_path, minimum, entry) => {
      const outcomes: Record<string, string> = {};
      const expected: Record<string, string> = {};
      for (const role of roles.filter(
        (candidate) => projectRoleRank[candidate] < projectRoleRank[minimum],
      )) {
        outcomes[role] = (await settle(entry.call(member(role).api, fixture))).outcome;
        expected[role] = "PROJECT_ROLE_REQUIRED";
      }
      outcomes.outsider = (await settle(entry.call(outsider.api, fixture))).outcome;
      expected.outsider = "NOT_FOUND";
      outcomes.anonymous = (await settle(entry.call(server.client(), fixture))).outcome;
      expected.anonymous = "UNAUTHENTICATED";

      expect(outcomes).toEqual(expected);
    },
  );

  test.each(
    cases
      .filter((entry) => entry.probe)
      .map((entry) => [entry.path, entry.minimum, entry] as const),
  )("%s lets %s and higher past the role check", async (_path, minimum, entry) => {
    const outcomes: Record<string, string> = {};
    const expected: Record<string, string> = {};
    for (const role of roles.filter(
      (candidate) => projectRoleRank[candidate] >= projectRoleRank[minimum],
    )) {
      const user = member(role);
      const result = await settle(
        entry.probe?.call(user.api, { ...fixture, selfId: user.id }) ?? Promise.resolve(),
      );
      // A NOT_FOUND for the target, not the project, shows the role check was passed.
      outcomes[role] = result.message === "No such project." ? "project hidden" : result.outcome;
      expected[role] = entry.probe?.outcome ?? "ok";
    }

    expect(outcomes).toEqual(expected);
  });

  test("procedures outside a project refuse anonymous callers", async () => {
    for (const entry of accountProcedures) {
      expect({ path: entry.path, ...(await settle(entry.call(server.client()))) }).toMatchObject({
        path: entry.path,
        outcome: "UNAUTHENTICATED",
      });
    }
  });

  test("none of the refused calls changed anything", async () => {
    const owner = member("owner");
    const details = await owner.api.projects.get.query({ projectId: fixture.projectId });
    const [key] = await server.db.select().from(apiKeys).where(eq(apiKeys.id, fixture.keyId));
    const team = await owner.api.members.list.query({ projectId: fixture.projectId });
    const invites = await owner.api.members.listInvites.query({ projectId: fixture.projectId });

    expect(details).toMatchObject({ name: "Roles", ownerId: owner.id, usage: { keys: 1 } });
    expect(key).toMatchObject({
      name: "protected",
      revokedAt: null,
      rules: {},
      previousKeyHash: null,
    });
    expect(Object.fromEntries(team.map((entry) => [entry.role, entry.userId]))).toEqual(
      Object.fromEntries(roles.map((role) => [role, member(role).id])),
    );
    expect(invites.map((invite) => invite.id)).toEqual([fixture.inviteId]);
  });
});

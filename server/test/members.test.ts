import { beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mailOutbox } from "@viper/db/schema/mail-outbox";
import { projectInvites } from "@viper/db/schema/project-invites";
import { and, eq } from "drizzle-orm";
import {
  expectError,
  testDriver,
  testStoreKind,
  useServer,
  verificationTokenFor,
} from "./helpers/harness.ts";
import {
  addMember,
  inviteTokenFor,
  signUp,
  signUpUnverified,
  startProjectServer,
  type TestUser,
} from "./projects-fixtures.ts";

describe(`project members on ${testDriver} + ${testStoreKind}`, () => {
  const server = useServer(startProjectServer, 60_000);
  let owner: TestUser;

  beforeAll(async () => {
    owner = await signUp(server, "owner");
  }, 60_000);

  async function newProject(name = "Team") {
    return owner.api.projects.create.mutate({ name, chains: ["eth-mainnet"] });
  }

  test("an invitation goes out by mail, is stored hashed, and joins the invitee once", async () => {
    const project = await newProject("Invited");
    const invitee = await signUp(server, "invitee");

    const invite = await owner.api.members.invite.mutate({
      projectId: project.id,
      email: `  ${invitee.email.toUpperCase()} `,
      role: "developer",
    });

    expect(invite).toMatchObject({ email: invitee.email, role: "developer", invitedBy: owner.id });
    const [mail] = await server.db
      .select()
      .from(mailOutbox)
      .where(and(eq(mailOutbox.recipient, invitee.email), eq(mailOutbox.kind, "project-invite")));
    expect(mail?.subject).toContain("Invited");
    expect(mail?.bodyText).toContain("http://localhost:5173/invites/accept?token=");
    const token = await inviteTokenFor(server.db, invitee.email);
    const rows = await server.db
      .select()
      .from(projectInvites)
      .where(eq(projectInvites.id, invite.id));
    expect(rows[0]?.tokenHash).toBe(createHash("sha256").update(token).digest("hex"));
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(await owner.api.members.listInvites.query({ projectId: project.id })).toEqual([invite]);

    const preview = await invitee.api.members.previewInvite.query({ token });
    expect(preview).toMatchObject({
      projectName: "Invited",
      role: "developer",
      forThisAccount: true,
    });
    expect(await invitee.api.members.acceptInvite.mutate({ token })).toEqual({
      projectId: project.id,
      role: "developer",
    });

    const members = await invitee.api.members.list.query({ projectId: project.id });
    expect(members.map((member) => [member.email, member.role])).toEqual([
      [owner.email, "owner"],
      [invitee.email, "developer"],
    ]);
    expect((await invitee.api.projects.list.query()).map((listed) => listed.role)).toEqual([
      "developer",
    ]);
    await expectError(invitee.api.members.acceptInvite.mutate({ token }), {
      appCode: "INVITE_INVALID",
    });
    expect(await owner.api.members.listInvites.query({ projectId: project.id })).toEqual([]);
  });

  test("only a signed-in, verified account with the invited address can accept", async () => {
    const project = await newProject();
    const unverified = await signUpUnverified(server);
    await owner.api.members.invite.mutate({
      projectId: project.id,
      email: unverified.email,
      role: "viewer",
    });
    const token = await inviteTokenFor(server.db, unverified.email);
    const stranger = await signUp(server, "stranger");

    await expectError(server.client().members.acceptInvite.mutate({ token }), {
      appCode: "UNAUTHENTICATED",
    });
    await expectError(unverified.api.members.acceptInvite.mutate({ token }), {
      appCode: "EMAIL_NOT_VERIFIED",
    });
    await expectError(stranger.api.members.acceptInvite.mutate({ token }), {
      code: "FORBIDDEN",
      appCode: "INVITE_EMAIL_MISMATCH",
    });
    expect((await stranger.api.members.previewInvite.query({ token })).forThisAccount).toBe(false);

    // The refusals used nothing up: the right person can still accept once verified.
    await server.client().auth.verifyEmail.mutate({
      token: await verificationTokenFor(server.db, unverified.email),
    });
    expect((await unverified.api.members.acceptInvite.mutate({ token })).role).toBe("viewer");
  });

  test("expired, withdrawn and replaced invitations do not work", async () => {
    const project = await newProject();
    const late = await signUp(server, "late");
    const withdrawn = await signUp(server, "withdrawn");

    await owner.api.members.invite.mutate({
      projectId: project.id,
      email: late.email,
      role: "viewer",
    });
    const lateToken = await inviteTokenFor(server.db, late.email);
    await server.db
      .update(projectInvites)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(projectInvites.email, late.email));
    await expectError(late.api.members.acceptInvite.mutate({ token: lateToken }), {
      appCode: "INVITE_INVALID",
    });
    await expectError(late.api.members.previewInvite.query({ token: lateToken }), {
      appCode: "INVITE_INVALID",
    });

    const invite = await owner.api.members.invite.mutate({
      projectId: project.id,
      email: withdrawn.email,
      role: "viewer",
    });
    const withdrawnToken = await inviteTokenFor(server.db, withdrawn.email);
    expect(
      await owner.api.members.revokeInvite.mutate({ projectId: project.id, inviteId: invite.id }),
    ).toEqual({
      revoked: true,
    });
    await expectError(withdrawn.api.members.acceptInvite.mutate({ token: withdrawnToken }), {
      appCode: "INVITE_INVALID",
    });

    await owner.api.members.invite.mutate({
      projectId: project.id,
      email: late.email,
      role: "viewer",
    });
    const first = await inviteTokenFor(server.db, late.email);
    await owner.api.members.invite.mutate({
      projectId: project.id,
      email: late.email,
      role: "admin",
    });
    const second = await inviteTokenFor(server.db, late.email);
    expect(await owner.api.members.listInvites.query({ projectId: project.id })).toHaveLength(1);
    await expectError(late.api.members.acceptInvite.mutate({ token: first }), {
      appCode: "INVITE_INVALID",
    });
    expect((await late.api.members.acceptInvite.mutate({ token: second })).role).toBe("admin");
  });

  test("members cannot be invited again, and the tier bounds members plus open invitations", async () => {
    const project = await newProject();
    const member = await signUp(server, "member");
    await addMember(server, owner, project.id, member, "viewer");

    await expectError(
      owner.api.members.invite.mutate({
        projectId: project.id,
        email: member.email,
        role: "admin",
      }),
      { code: "CONFLICT", appCode: "ALREADY_MEMBER" },
    );
    await owner.api.members.invite.mutate({
      projectId: project.id,
      email: "third@example.com",
      role: "viewer",
    });
    await expectError(
      owner.api.members.invite.mutate({
        projectId: project.id,
        email: "fourth@example.com",
        role: "viewer",
      }),
      { appCode: "LIMIT_REACHED" },
    );
    await expectError(
      owner.api.members.invite.mutate({
        projectId: project.id,
        email: "x@example.com",
        role: "owner" as "admin",
      }),
      { appCode: "INVALID_INPUT" },
    );
  });

  test("admins change roles and remove members, but never the owner", async () => {
    const project = await newProject();
    const admin = await signUp(server, "admin");
    const viewer = await signUp(server, "viewer");
    await addMember(server, owner, project.id, admin, "admin");
    await addMember(server, owner, project.id, viewer, "viewer");

    await expectError(viewer.api.keys.create.mutate({ projectId: project.id, name: "nope" }), {
      appCode: "PROJECT_ROLE_REQUIRED",
    });
    expect(
      await admin.api.members.changeRole.mutate({
        projectId: project.id,
        userId: viewer.id,
        role: "developer",
      }),
    ).toEqual({ userId: viewer.id, role: "developer" });
    expect(
      (await viewer.api.keys.create.mutate({ projectId: project.id, name: "now allowed" })).key
        .name,
    ).toBe("now allowed");

    await expectError(
      admin.api.members.changeRole.mutate({
        projectId: project.id,
        userId: owner.id,
        role: "viewer",
      }),
      { appCode: "PROJECT_ROLE_REQUIRED" },
    );
    await expectError(
      admin.api.members.remove.mutate({ projectId: project.id, userId: owner.id }),
      {
        appCode: "PROJECT_ROLE_REQUIRED",
      },
    );
    await expectError(
      owner.api.members.changeRole.mutate({
        projectId: project.id,
        userId: owner.id,
        role: "admin",
      }),
      { appCode: "OWNER_MUST_TRANSFER" },
    );
    await expectError(
      admin.api.members.remove.mutate({ projectId: project.id, userId: crypto.randomUUID() }),
      { appCode: "NOT_FOUND" },
    );

    expect(
      await admin.api.members.remove.mutate({ projectId: project.id, userId: viewer.id }),
    ).toEqual({
      removed: true,
    });
    await expectError(viewer.api.projects.get.query({ projectId: project.id }), {
      appCode: "NOT_FOUND",
    });
  });

  test("members leave on their own; the owner must hand the project over first", async () => {
    const project = await newProject();
    const developer = await signUp(server, "leaver");
    await addMember(server, owner, project.id, developer, "developer");

    expect(await developer.api.members.leave.mutate({ projectId: project.id })).toEqual({
      left: true,
    });
    await expectError(developer.api.members.list.query({ projectId: project.id }), {
      appCode: "NOT_FOUND",
    });

    await expectError(owner.api.members.leave.mutate({ projectId: project.id }), {
      code: "PRECONDITION_FAILED",
      appCode: "OWNER_MUST_TRANSFER",
    });
  });
});

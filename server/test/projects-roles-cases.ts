import type { TRPCClient } from "@trpc/client";
import type { ProjectRole } from "@viper/db/schema/project-members";
import type { AppRouter } from "../src/router.ts";

export type Api = TRPCClient<AppRouter>;

/** What the calls of one case need: the project, its key, a member to act on, an invitation. */
export interface Fixture {
  projectId: string;
  keyId: string;
  viewerId: string;
  inviteId: string;
  selfId: string;
}

export interface RoleCase {
  path: string;
  /** The lowest role that may call it. */
  minimum: ProjectRole;
  /** A valid call that would change or read something if the role allowed it. */
  call(api: Api, fx: Fixture): Promise<unknown>;
  /**
   * A harmless call for the roles that may: it must pass the role check and stop where the
   * given code says (or succeed, for "ok"). Absent where no call is harmless (delete, leave);
   * the flow tests cover those.
   */
  probe?: { call(api: Api, fx: Fixture): Promise<unknown>; outcome: string };
}

const missing = "00000000-0000-4000-8000-000000000000";

/** Every project-scoped procedure, the role it needs, and how to call it. */
export const cases: RoleCase[] = [
  {
    path: "projects.get",
    minimum: "viewer",
    call: (api, fx) => api.projects.get.query({ projectId: fx.projectId }),
    probe: {
      call: (api, fx) => api.projects.get.query({ projectId: fx.projectId }),
      outcome: "ok",
    },
  },
  {
    path: "projects.rpcUrls",
    minimum: "viewer",
    call: (api, fx) => api.projects.rpcUrls.query({ projectId: fx.projectId, keyId: fx.keyId }),
    probe: {
      call: (api, fx) => api.projects.rpcUrls.query({ projectId: fx.projectId }),
      outcome: "ok",
    },
  },
  {
    path: "projects.update",
    minimum: "admin",
    call: (api, fx) => api.projects.update.mutate({ projectId: fx.projectId, name: "Taken over" }),
    probe: {
      call: (api, fx) => api.projects.update.mutate({ projectId: fx.projectId }),
      outcome: "ok",
    },
  },
  {
    path: "projects.delete",
    minimum: "owner",
    call: (api, fx) => api.projects.delete.mutate({ projectId: fx.projectId }),
  },
  {
    path: "projects.transferOwnership",
    minimum: "owner",
    call: (api, fx) =>
      api.projects.transferOwnership.mutate({ projectId: fx.projectId, userId: fx.viewerId }),
    probe: {
      call: (api, fx) =>
        api.projects.transferOwnership.mutate({ projectId: fx.projectId, userId: fx.selfId }),
      outcome: "CANNOT_CHANGE_SELF",
    },
  },
  {
    path: "members.list",
    minimum: "viewer",
    call: (api, fx) => api.members.list.query({ projectId: fx.projectId }),
    probe: {
      call: (api, fx) => api.members.list.query({ projectId: fx.projectId }),
      outcome: "ok",
    },
  },
  {
    path: "members.listInvites",
    minimum: "admin",
    call: (api, fx) => api.members.listInvites.query({ projectId: fx.projectId }),
    probe: {
      call: (api, fx) => api.members.listInvites.query({ projectId: fx.projectId }),
      outcome: "ok",
    },
  },
  {
    path: "members.invite",
    minimum: "admin",
    call: (api, fx) =>
      api.members.invite.mutate({
        projectId: fx.projectId,
        email: "new@example.com",
        role: "admin",
      }),
    probe: {
      call: (api, fx) =>
        api.members.invite.mutate({
          projectId: fx.projectId,
          email: "not an email",
          role: "viewer",
        }),
      outcome: "INVALID_INPUT",
    },
  },
  {
    path: "members.revokeInvite",
    minimum: "admin",
    call: (api, fx) =>
      api.members.revokeInvite.mutate({ projectId: fx.projectId, inviteId: fx.inviteId }),
    probe: {
      call: (api, fx) =>
        api.members.revokeInvite.mutate({ projectId: fx.projectId, inviteId: missing }),
      outcome: "NOT_FOUND",
    },
  },
  {
    path: "members.changeRole",
    minimum: "admin",
    call: (api, fx) =>
      api.members.changeRole.mutate({
        projectId: fx.projectId,
        userId: fx.viewerId,
        role: "admin",
      }),
    probe: {
      call: (api, fx) =>
        api.members.changeRole.mutate({ projectId: fx.projectId, userId: missing, role: "viewer" }),
      outcome: "NOT_FOUND",
    },
  },
  {
    path: "members.remove",
    minimum: "admin",
    call: (api, fx) => api.members.remove.mutate({ projectId: fx.projectId, userId: fx.viewerId }),
    probe: {
      call: (api, fx) => api.members.remove.mutate({ projectId: fx.projectId, userId: missing }),
      outcome: "NOT_FOUND",
    },
  },
  {
    path: "members.leave",
    minimum: "viewer",
    call: (api, fx) => api.members.leave.mutate({ projectId: fx.projectId }),
  },
  {
    path: "keys.list",
    minimum: "viewer",
    call: (api, fx) => api.keys.list.query({ projectId: fx.projectId }),
    probe: { call: (api, fx) => api.keys.list.query({ projectId: fx.projectId }), outcome: "ok" },
  },
  {
    path: "keys.create",
    minimum: "developer",
    call: (api, fx) => api.keys.create.mutate({ projectId: fx.projectId, name: "sneaky" }),
    probe: {
      call: (api, fx) => api.keys.create.mutate({ projectId: fx.projectId, name: "" }),
      outcome: "INVALID_INPUT",
    },
  },
  {
    path: "keys.rename",
    minimum: "developer",
    call: (api, fx) =>
      api.keys.rename.mutate({ projectId: fx.projectId, keyId: fx.keyId, name: "renamed" }),
    probe: {
      call: (api, fx) =>
        api.keys.rename.mutate({ projectId: fx.projectId, keyId: missing, name: "x" }),
      outcome: "NOT_FOUND",
    },
  },
  {
    path: "keys.revoke",
    minimum: "developer",
    call: (api, fx) => api.keys.revoke.mutate({ projectId: fx.projectId, keyId: fx.keyId }),
    probe: {
      call: (api, fx) => api.keys.revoke.mutate({ projectId: fx.projectId, keyId: missing }),
      outcome: "NOT_FOUND",
    },
  },
  {
    path: "keys.regenerate",
    minimum: "developer",
    call: (api, fx) =>
      api.keys.regenerate.mutate({ projectId: fx.projectId, keyId: fx.keyId, graceSeconds: 0 }),
    probe: {
      call: (api, fx) =>
        api.keys.regenerate.mutate({ projectId: fx.projectId, keyId: missing, graceSeconds: 0 }),
      outcome: "NOT_FOUND",
    },
  },
  {
    path: "keys.updateRules",
    minimum: "developer",
    call: (api, fx) =>
      api.keys.updateRules.mutate({
        projectId: fx.projectId,
        keyId: fx.keyId,
        rules: { allowedIps: ["10.0.0.0/8"] },
      }),
    probe: {
      call: (api, fx) =>
        api.keys.updateRules.mutate({ projectId: fx.projectId, keyId: missing, rules: {} }),
      outcome: "NOT_FOUND",
    },
  },
  {
    path: "keys.setExpiry",
    minimum: "developer",
    call: (api, fx) =>
      api.keys.setExpiry.mutate({ projectId: fx.projectId, keyId: fx.keyId, expiresAt: null }),
    probe: {
      call: (api, fx) =>
        api.keys.setExpiry.mutate({ projectId: fx.projectId, keyId: missing, expiresAt: null }),
      outcome: "NOT_FOUND",
    },
  },
];

/** Procedures that need a signed-in account but no project role. */
export const accountProcedures: Array<{ path: string; call(api: Api): Promise<unknown> }> = [
  { path: "projects.create", call: (api) => api.projects.create.mutate({ name: "x" }) },
  { path: "projects.list", call: (api) => api.projects.list.query() },
  { path: "projects.availableChains", call: (api) => api.projects.availableChains.query() },
  {
    path: "members.previewInvite",
    call: (api) => api.members.previewInvite.query({ token: "t".repeat(43) }),
  },
  {
    path: "members.acceptInvite",
    call: (api) => api.members.acceptInvite.mutate({ token: "t".repeat(43) }),
  },
];

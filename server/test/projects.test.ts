import { beforeAll, describe, expect, test } from "bun:test";
import { apiKeys } from "@viper/db/schema/api-keys";
import { projectInvites } from "@viper/db/schema/project-invites";
import { projectMembers } from "@viper/db/schema/project-members";
import { projects } from "@viper/db/schema/projects";
import { relayLogs } from "@viper/db/schema/relay-logs";
import { hashApiKey } from "@viper/shared/api-key";
import { eq } from "drizzle-orm";
import { loadServerConfig, resolveSettings } from "../src/config.ts";
import { expectError, testDriver, testStoreKind, useServer } from "./helpers/harness.ts";
import {
  addMember,
  relayPublicUrl,
  signUp,
  startProjectServer,
  type TestUser,
  watchInvalidations,
} from "./projects-fixtures.ts";

describe(`projects on ${testDriver} + ${testStoreKind}`, () => {
  const server = useServer(startProjectServer, 60_000);
  let owner: TestUser;

  beforeAll(async () => {
    owner = await signUp(server, "owner");
  }, 60_000);

  test("a user creates a project on chosen chains, sees it in their list and opens it", async () => {
    const created = await owner.api.projects.create.mutate({
      name: "  My dApp ",
      chains: ["eth-mainnet", "0022"],
      defaultZone: "0002",
      allowedOrigins: ["https://App.Example.com/"],
      note: "production",
    });

    expect(created).toMatchObject({
      name: "My dApp",
      role: "owner",
      tier: "free",
      chainIds: ["0021", "0022"],
    });
    const mine = await owner.api.projects.list.query();
    expect(mine.map((project) => project.id)).toContain(created.id);
    const details = await owner.api.projects.get.query({ projectId: created.id });
    expect(details).toMatchObject({
      ownerId: owner.id,
      defaultZone: "0002",
      allowedOrigins: ["https://app.example.com"],
      note: "production",
      limits: { maxKeys: 5, maxMembers: 3 },
      usage: { keys: 0, members: 1 },
    });
    expect(details.chains.map((chain) => chain.slug)).toEqual(["eth-mainnet", "polygon"]);
  });

  test("only served chains can be chosen; the chooser lists them", async () => {
    const available = await owner.api.projects.availableChains.query();
    expect(available.map((chain) => chain.id).sort()).toEqual(["0021", "0022", "0023"]);

    await expectError(
      owner.api.projects.create.mutate({ name: "x", chains: ["eth-mainnet", "no-such-chain"] }),
      { code: "BAD_REQUEST", appCode: "CHAIN_UNAVAILABLE" },
    );
    await expectError(owner.api.projects.create.mutate({ name: "x", chains: ["retired"] }), {
      appCode: "CHAIN_UNAVAILABLE",
    });
  });

  test("settings are validated field by field", async () => {
    const badZone = await expectError(
      owner.api.projects.create.mutate({ name: "x", defaultZone: "zone-one" }),
      { appCode: "INVALID_INPUT" },
    );
    expect(badZone.issues?.[0]?.path).toEqual(["defaultZone"]);

    const badOrigin = await expectError(
      owner.api.projects.create.mutate({
        name: "x",
        allowedOrigins: ["https://ok.example", "https://a.example/path"],
      }),
      { appCode: "INVALID_INPUT" },
    );
    expect(badOrigin.issues?.[0]?.path).toEqual(["allowedOrigins", 1]);
    expect(badOrigin.issues?.[0]?.message).toContain("https://a.example/path");

    await expectError(owner.api.projects.create.mutate({ name: "   " }), {
      appCode: "INVALID_INPUT",
    });
  });

  test("an admin updates settings and chains; the relay is told about the project's keys", async () => {
    const project = await owner.api.projects.create.mutate({
      name: "Settings",
      chains: ["eth-mainnet"],
    });
    const { secret } = await owner.api.keys.create.mutate({ projectId: project.id, name: "main" });
    const watcher = await watchInvalidations(server.store);

    const renamed = await owner.api.projects.update.mutate({
      projectId: project.id,
      name: "Renamed",
      note: null,
    });
    expect(renamed).toMatchObject({ name: "Renamed", note: null });
    const updated = await owner.api.projects.update.mutate({
      projectId: project.id,
      chains: ["base", "polygon"],
      allowedOrigins: ["*.example.com"],
      defaultZone: "0003",
    });

    expect(updated).toMatchObject({
      chainIds: ["0022", "0023"],
      allowedOrigins: ["*.example.com"],
      defaultZone: "0003",
    });
    await watcher.waitFor([hashApiKey(secret)]);
    // The rename alone changed nothing the relay reads, so it published nothing.
    expect(watcher.seen).toEqual([hashApiKey(secret)]);
    await watcher.stop();
  });

  test("the RPC URLs use the relay's public address, a placeholder or a masked key, never a secret", async () => {
    const project = await owner.api.projects.create.mutate({
      name: "Urls",
      chains: ["eth-mainnet", "polygon"],
    });
    const { key, secret } = await owner.api.keys.create.mutate({
      projectId: project.id,
      name: "web",
      rules: { allowedChains: ["polygon"] },
    });

    const generic = await owner.api.projects.rpcUrls.query({ projectId: project.id });
    expect(generic.key).toBeNull();
    expect(generic.endpoints).toEqual([
      {
        chainId: "0021",
        slug: "eth-mainnet",
        name: "Ethereum",
        http: `${relayPublicUrl}/v1/eth-mainnet/{API_KEY}`,
        websocket: "wss://rpc.viper.example/v1/eth-mainnet/{API_KEY}",
        allowedForKey: true,
      },
      {
        chainId: "0022",
        slug: "polygon",
        name: "Polygon",
        http: `${relayPublicUrl}/v1/polygon/{API_KEY}`,
        websocket: null,
        allowedForKey: true,
      },
    ]);

    const forKey = await owner.api.projects.rpcUrls.query({ projectId: project.id, keyId: key.id });
    expect(forKey.key).toEqual({ id: key.id, name: "web", masked: key.masked });
    expect(forKey.endpoints.map((endpoint) => [endpoint.http, endpoint.allowedForKey])).toEqual([
      [`${relayPublicUrl}/v1/eth-mainnet/${key.masked}`, false],
      [`${relayPublicUrl}/v1/polygon/${key.masked}`, true],
    ]);
    expect(JSON.stringify(forKey)).not.toContain(secret.slice(9, -4));
  });

  test("without RELAY_PUBLIC_URL the URLs point at a relay on this machine", () => {
    const config = loadServerConfig({ NODE_ENV: "test" });

    expect(resolveSettings(config).relayPublicUrl).toBe("http://127.0.0.1:8545");
  });

  test("deleting a project revokes its keys at once, removes its team and keeps its usage", async () => {
    const member = await signUp(server, "member");
    const project = await owner.api.projects.create.mutate({
      name: "Doomed",
      chains: ["eth-mainnet"],
    });
    await addMember(server, owner, project.id, member, "developer");
    const first = await owner.api.keys.create.mutate({ projectId: project.id, name: "a" });
    const second = await member.api.keys.create.mutate({ projectId: project.id, name: "b" });
    const regenerated = await owner.api.keys.regenerate.mutate({
      projectId: project.id,
      keyId: second.key.id,
      graceSeconds: 3600,
    });
    await owner.api.members.invite.mutate({
      projectId: project.id,
      email: "later@example.com",
      role: "viewer",
    });
    await server.db.insert(relayLogs).values({
      id: crypto.randomUUID(),
      createdAt: new Date(),
      requestId: "req-1",
      projectId: project.id,
      apiKeyId: first.key.id,
      status: "ok",
      httpStatus: 200,
      latencyMs: 12,
    });
    const watcher = await watchInvalidations(server.store);

    expect(await owner.api.projects.delete.mutate({ projectId: project.id })).toEqual({
      deleted: true,
    });

    await watcher.waitFor([first.secret, second.secret, regenerated.secret].map(hashApiKey));
    await watcher.stop();
    const keys = await server.db.select().from(apiKeys).where(eq(apiKeys.projectId, project.id));
    expect(keys.map((key) => key.revokedAt !== null)).toEqual([true, true]);
    expect(keys.map((key) => key.previousKeyHash)).toEqual([null, null]);
    expect(
      await server.db.select().from(projectMembers).where(eq(projectMembers.projectId, project.id)),
    ).toEqual([]);
    expect(
      await server.db.select().from(projectInvites).where(eq(projectInvites.projectId, project.id)),
    ).toEqual([]);
    expect(
      await server.db.select().from(relayLogs).where(eq(relayLogs.projectId, project.id)),
    ).toHaveLength(1);
    const [row] = await server.db.select().from(projects).where(eq(projects.id, project.id));
    expect(row?.deletedAt).toBeInstanceOf(Date);

    expect((await owner.api.projects.list.query()).map((listed) => listed.id)).not.toContain(
      project.id,
    );
    await expectError(owner.api.projects.get.query({ projectId: project.id }), {
      appCode: "NOT_FOUND",
    });
    await expectError(member.api.keys.list.query({ projectId: project.id }), {
      appCode: "NOT_FOUND",
    });
  });

  test("one account owns a bounded number of projects", async () => {
    const busy = await signUp(server, "busy");
    for (let index = 0; index < 10; index++) {
      await busy.api.projects.create.mutate({ name: `p${index}` });
    }

    await expectError(busy.api.projects.create.mutate({ name: "one too many" }), {
      code: "FORBIDDEN",
      appCode: "LIMIT_REACHED",
    });
  });

  test("ownership moves to another member; the old owner stays as admin", async () => {
    const heir = await signUp(server, "heir");
    const project = await owner.api.projects.create.mutate({ name: "Inheritance" });
    await addMember(server, owner, project.id, heir, "developer");

    await expectError(
      owner.api.projects.transferOwnership.mutate({ projectId: project.id, userId: owner.id }),
      {
        appCode: "CANNOT_CHANGE_SELF",
      },
    );
    const after = await owner.api.projects.transferOwnership.mutate({
      projectId: project.id,
      userId: heir.id,
    });

    expect(after).toMatchObject({ ownerId: heir.id, role: "admin" });
    const members = await heir.api.members.list.query({ projectId: project.id });
    expect(members.map((member) => [member.userId, member.role])).toEqual([
      [heir.id, "owner"],
      [owner.id, "admin"],
    ]);
    await expectError(owner.api.projects.delete.mutate({ projectId: project.id }), {
      appCode: "PROJECT_ROLE_REQUIRED",
    });
  });
});

import { beforeAll, describe, expect, test } from "bun:test";
import { apiKeys } from "@viper/db/schema/api-keys";
import { KeyCache } from "@viper/relay/key-cache";
import * as relayInvalidation from "@viper/relay/key-invalidation";
import { parseRateLimitConfig } from "@viper/relay/rate-limit/config";
import { LimitPolicy } from "@viper/relay/rate-limit/policy";
import { hashApiKey, isWellFormedApiKey } from "@viper/shared/api-key";
import * as sharedInvalidation from "@viper/shared/key-invalidation";
import { silentLogger } from "@viper/shared/logger";
import { eq } from "drizzle-orm";
import { findKeyByHash } from "../src/projects/key-lookup.ts";
import { minKeyRatePerSecond } from "../src/projects/validation.ts";
import { expectError, testDriver, testStoreKind, useServer } from "./helpers/harness.ts";
import {
  addMember,
  signUp,
  signUpUnverified,
  startProjectServer,
  type TestUser,
  watchInvalidations,
} from "./projects-fixtures.ts";

/** The key's bucket in the relay's default limits, and what a call of `methods` costs there. */
function keyBucket(keyRatePerSecond: number, methods = ["eth_blockNumber"]) {
  const policy = new LimitPolicy(parseRateLimitConfig());
  const request = policy.requestFor(
    { keyId: "k", projectId: "p", tier: "free", keyRatePerSecond },
    methods,
  );
  return { capacity: request.buckets[0]?.capacity, cost: request.cost };
}

describe(`API keys on ${testDriver} + ${testStoreKind}`, () => {
  const server = useServer(startProjectServer, 60_000);
  let owner: TestUser;
  let projectId: string;

  beforeAll(async () => {
    owner = await signUp(server, "owner");
    const project = await owner.api.projects.create.mutate({
      name: "Keys",
      chains: ["eth-mainnet", "polygon"],
    });
    projectId = project.id;
  }, 60_000);

  async function keyRow(keyId: string) {
    const [row] = await server.db.select().from(apiKeys).where(eq(apiKeys.id, keyId));
    if (!row) {
      throw new Error(`no key ${keyId}`);
    }
    return row;
  }

  test("a developer walks through every key operation; the secret is shown only when made", async () => {
    const developer = await signUp(server, "developer");
    await addMember(server, owner, projectId, developer, "developer");
    const expiresAt = new Date(Date.now() + 30 * 86400_000).toISOString();

    const created = await developer.api.keys.create.mutate({
      projectId,
      name: "backend",
      rules: {
        allowedChains: ["polygon"],
        blockedMethods: ["debug_*", "eth_sendRawTransaction"],
        allowedOrigins: ["https://*.example.com"],
        allowedIps: ["203.0.113.0/24", "2001:DB8::/32", "::ffff:198.51.100.7"],
        ratePerSecond: 20,
      },
      expiresAt,
    });

    expect(isWellFormedApiKey(created.secret)).toBe(true);
    expect(created.secret.startsWith("vpr_live_")).toBe(true);
    expect(created.key).toMatchObject({
      name: "backend",
      status: "active",
      displayPrefix: "vpr_live_",
      lastFour: created.secret.slice(-4),
      masked: `vpr_live_...${created.secret.slice(-4)}`,
      expiresAt,
      createdBy: developer.id,
      rules: {
        allowedChains: ["0022"],
        blockedMethods: ["debug_*", "eth_sendRawTransaction"],
        allowedOrigins: ["https://*.example.com"],
        allowedIps: ["203.0.113.0/24", "2001:db8::/32", "::ffff:198.51.100.7"],
        ratePerSecond: 20,
      },
    });
    const listed = await developer.api.keys.list.query({ projectId });
    expect(listed).toContainEqual(created.key);
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    expect((await keyRow(created.key.id)).keyHash).toBe(hashApiKey(created.secret));

    const renamed = await developer.api.keys.rename.mutate({
      projectId,
      keyId: created.key.id,
      name: "api",
    });
    expect(renamed.name).toBe("api");

    const rules = await developer.api.keys.updateRules.mutate({
      projectId,
      keyId: created.key.id,
      rules: { allowedMethods: ["eth_call", "eth_get*"], allowedChains: [], ratePerSecond: null },
    });
    expect(rules.rules).toEqual({ allowedMethods: ["eth_call", "eth_get*"] });

    const forever = await developer.api.keys.setExpiry.mutate({
      projectId,
      keyId: created.key.id,
      expiresAt: null,
    });
    expect(forever.expiresAt).toBeNull();

    const regenerated = await developer.api.keys.regenerate.mutate({
      projectId,
      keyId: created.key.id,
      graceSeconds: 600,
    });
    expect(regenerated.secret).not.toBe(created.secret);
    expect(isWellFormedApiKey(regenerated.secret)).toBe(true);
    expect(regenerated.key.lastFour).toBe(regenerated.secret.slice(-4));
    expect(regenerated.key.previousSecretValidUntil).not.toBeNull();

    const revoked = await developer.api.keys.revoke.mutate({ projectId, keyId: created.key.id });
    expect(revoked).toMatchObject({ status: "revoked", previousSecretValidUntil: null });
    expect(await developer.api.keys.revoke.mutate({ projectId, keyId: created.key.id })).toEqual(
      revoked,
    );
    await expectError(
      developer.api.keys.regenerate.mutate({ projectId, keyId: created.key.id, graceSeconds: 0 }),
      {
        code: "CONFLICT",
        appCode: "KEY_REVOKED",
      },
    );
    await expectError(
      developer.api.keys.updateRules.mutate({ projectId, keyId: created.key.id, rules: {} }),
      { appCode: "KEY_REVOKED" },
    );
  });

  test("no raw key is stored in any column of api_keys nor written to any log line", async () => {
    const created = await owner.api.keys.create.mutate({ projectId, name: "secret-check" });
    const regenerated = await owner.api.keys.regenerate.mutate({
      projectId,
      keyId: created.key.id,
      graceSeconds: 60,
    });
    await owner.api.keys.list.query({ projectId });

    const rows = await server.db.select().from(apiKeys);
    const secrets = [created.secret, regenerated.secret];
    // The random middle alone would leak the key as well, so neither it nor the whole may appear.
    const fragments = secrets.flatMap((secret) => [secret, secret.slice(9, -4)]);
    const stored = rows
      .flatMap((row) => Object.values(row))
      .map((value) => JSON.stringify(value) ?? "");
    expect(rows.length).toBeGreaterThan(0);
    for (const fragment of fragments) {
      expect(stored.filter((text) => text.includes(fragment))).toEqual([]);
    }
    const logText = server.logs.text();
    expect(logText).toContain("api key created");
    for (const fragment of fragments) {
      expect(logText.includes(fragment)).toBe(false);
    }
  });

  test("an old secret still resolves until its grace period ends, then never again", async () => {
    const created = await owner.api.keys.create.mutate({ projectId, name: "rolling" });
    const oldHash = hashApiKey(created.secret);

    const before = Date.now();
    const regenerated = await owner.api.keys.regenerate.mutate({
      projectId,
      keyId: created.key.id,
      graceSeconds: 3600,
    });
    const newHash = hashApiKey(regenerated.secret);

    const row = await keyRow(created.key.id);
    expect(row.keyHash).toBe(newHash);
    expect(row.previousKeyHash).toBe(oldHash);
    const graceEnd = row.previousKeyExpiresAt?.getTime() ?? 0;
    expect(graceEnd).toBeGreaterThanOrEqual(before + 3600_000);
    expect(regenerated.key.previousSecretValidUntil).toBe(new Date(graceEnd).toISOString());

    expect(await findKeyByHash(server.db, newHash)).toMatchObject({
      keyId: created.key.id,
      matched: "current",
    });
    expect(await findKeyByHash(server.db, oldHash, new Date(graceEnd - 1000))).toMatchObject({
      keyId: created.key.id,
      matched: "previous",
      usableUntil: new Date(graceEnd),
      revoked: false,
    });
    expect(await findKeyByHash(server.db, oldHash, new Date(graceEnd + 1))).toBeNull();

    // A second regeneration keeps only the secret it replaces; the first one stops at once.
    const third = await owner.api.keys.regenerate.mutate({
      projectId,
      keyId: created.key.id,
      graceSeconds: 0,
    });
    expect(await findKeyByHash(server.db, oldHash)).toBeNull();
    expect(await findKeyByHash(server.db, newHash)).toBeNull();
    expect(await findKeyByHash(server.db, hashApiKey(third.secret))).toMatchObject({
      matched: "current",
    });
    expect((await keyRow(created.key.id)).previousKeyHash).toBeNull();
  });

  test("revoking during a grace period ends the old secret too", async () => {
    const created = await owner.api.keys.create.mutate({ projectId, name: "revoked-in-grace" });
    await owner.api.keys.regenerate.mutate({
      projectId,
      keyId: created.key.id,
      graceSeconds: 86_400,
    });

    await owner.api.keys.revoke.mutate({ projectId, keyId: created.key.id });

    expect(await findKeyByHash(server.db, hashApiKey(created.secret))).toBeNull();
    expect((await keyRow(created.key.id)).previousKeyExpiresAt).toBeNull();
  });

  test("every change reaches the relay's key cache through the invalidation channel", async () => {
    expect(sharedInvalidation.keyInvalidatedChannel).toBe(relayInvalidation.keyInvalidatedChannel);
    expect(sharedInvalidation.keyRecordStoreKey("abc")).toBe(
      relayInvalidation.keyRecordStoreKey("abc"),
    );
    const cache = new KeyCache({
      db: server.db,
      store: server.store,
      logger: silentLogger(),
      ttlMs: 60_000,
    });
    await cache.listen();
    // Subscribed after the cache, so by the time this watcher hears a message the cache has too.
    const watcher = await watchInvalidations(server.store);
    const created = await owner.api.keys.create.mutate({ projectId, name: "cached" });
    const hash = hashApiKey(created.secret);
    expect(await cache.lookup(hash)).toMatchObject({
      keyId: created.key.id,
      revokedAt: null,
      rules: {},
    });

    await owner.api.keys.updateRules.mutate({
      projectId,
      keyId: created.key.id,
      rules: { allowedMethods: ["eth_call"] },
    });
    await watcher.waitFor([hash]);
    expect((await cache.lookup(hash))?.rules).toEqual({ allowedMethods: ["eth_call"] });

    watcher.seen.length = 0;
    await owner.api.keys.revoke.mutate({ projectId, keyId: created.key.id });
    await watcher.waitFor([hash]);
    expect((await cache.lookup(hash))?.revokedAt).toBeNumber();

    await watcher.stop();
    await cache.close();
  });

  test("rules are validated: IPs and CIDRs, origins, methods, chains of the project", async () => {
    const create = (rules: Parameters<typeof owner.api.keys.create.mutate>[0]["rules"]) =>
      owner.api.keys.create.mutate({ projectId, name: "invalid", rules });

    const badIp = await expectError(
      create({ allowedIps: ["10.0.0.0/8", "10.0.0.1/8", "::1/129", "1.2.3"] }),
      {
        appCode: "INVALID_INPUT",
      },
    );
    expect(badIp.issues?.map((issue) => [issue.path, issue.message])).toEqual([
      [["rules", "allowedIps", 1], "10.0.0.1/8: host bits set"],
      [["rules", "allowedIps", 2], "::1/129: prefix out of range"],
      [["rules", "allowedIps", 3], "1.2.3: not an IP address or CIDR block"],
    ]);
    const badOrigin = await expectError(create({ allowedOrigins: ["*", "https://*.com"] }), {
      appCode: "INVALID_INPUT",
    });
    expect(badOrigin.issues).toHaveLength(2);
    await expectError(create({ allowedMethods: ["eth call"] }), { appCode: "INVALID_INPUT" });
    const both = await expectError(
      create({ allowedMethods: ["eth_call"], blockedMethods: ["debug_*"] }),
      {
        appCode: "INVALID_INPUT",
      },
    );
    expect(both.issues?.[0]?.path).toEqual(["rules", "blockedMethods"]);
    await expectError(create({ ratePerSecond: 0 }), { appCode: "INVALID_INPUT" });
    await expectError(create({ allowedChains: ["base"] }), { appCode: "CHAIN_UNAVAILABLE" });
    await expectError(create({ allowedChains: ["no-such-chain"] }), {
      appCode: "CHAIN_UNAVAILABLE",
    });
    await expectError(
      owner.api.keys.create.mutate({
        projectId,
        name: "past",
        expiresAt: new Date(Date.now() - 1000).toISOString(),
      }),
      { appCode: "INVALID_INPUT" },
    );
    await expectError(
      owner.api.keys.regenerate.mutate({
        projectId,
        keyId: crypto.randomUUID(),
        graceSeconds: 86_401,
      }),
      { appCode: "INVALID_INPUT" },
    );
  });

  test("a key rate too low for the relay's bucket to hold one compute unit is refused", async () => {
    const minimum =
      "A key rate below 0.5 compute units per second lets no call through. The key's bucket holds 2 seconds of its rate and a call or batch needs its whole cost in it: use at least 0.5 times the cost of the dearest call or batch the key sends.";
    const created = await owner.api.keys.create.mutate({ projectId, name: "slow" });
    const keyId = created.key.id;
    const update = (ratePerSecond: number) =>
      owner.api.keys.updateRules.mutate({ projectId, keyId, rules: { ratePerSecond } });

    for (const ratePerSecond of [0.3, 1e-300, 0.49]) {
      const updated = await expectError(update(ratePerSecond), { appCode: "INVALID_INPUT" });
      const made = await expectError(
        owner.api.keys.create.mutate({ projectId, name: "slow", rules: { ratePerSecond } }),
        { appCode: "INVALID_INPUT" },
      );

      for (const refused of [updated, made]) {
        expect(refused.issues?.map((issue) => [issue.path, issue.message])).toEqual([
          [["rules", "ratePerSecond"], minimum],
        ]);
      }
    }
    const slowest = await update(0.5);

    expect(slowest.rules).toEqual({ ratePerSecond: 0.5 });
    expect((await keyRow(keyId)).rules).toEqual({ ratePerSecond: 0.5 });
  });

  test("the least key rate the server takes gives a bucket that holds the cheapest call", () => {
    expect(minKeyRatePerSecond).toBe(0.5);
    expect(keyBucket(minKeyRatePerSecond)).toEqual({ capacity: 1, cost: 1 });
    expect(keyBucket(0.49).capacity).toBeLessThan(1);
  });

  test("the bucket holds two seconds of the key rate: half the dearest call's cost is the least", () => {
    expect(keyBucket(0.5, ["eth_getLogs"])).toEqual({ capacity: 1, cost: 10 });
    expect(keyBucket(0.5, ["eth_blockNumber", "eth_blockNumber"])).toEqual({
      capacity: 1,
      cost: 2,
    });
    expect(keyBucket(5, ["eth_getLogs"])).toEqual({ capacity: 10, cost: 10 });
  });

  test("a rule the server does not know is refused by name, not dropped with a 200", async () => {
    const created = await owner.api.keys.create.mutate({
      projectId,
      name: "strict",
      rules: { ratePerSecond: 5 },
    });
    const keyId = created.key.id;
    const withBurst = { ratePerSecond: 10, burst: 5 };
    const withTwo = { allowedIps: [], burst: 5, allowedMethod: ["eth_call"] };
    const known =
      "a key's rules are allowedChains, allowedMethods, blockedMethods, allowedOrigins, allowedIps and ratePerSecond.";

    const [updated, made, both] = await Promise.all(
      [
        owner.api.keys.updateRules.mutate({ projectId, keyId, rules: withBurst }),
        owner.api.keys.create.mutate({ projectId, name: "burst", rules: withBurst }),
        owner.api.keys.updateRules.mutate({ projectId, keyId, rules: withTwo }),
      ].map((call) => expectError(call, { appCode: "INVALID_INPUT" })),
    );

    const issues = [updated, made, both].map((refused) =>
      refused?.issues?.map((issue) => [issue.path, issue.message]),
    );
    expect(issues).toEqual([
      [[["rules"], `Unknown rule "burst": ${known}`]],
      [[["rules"], `Unknown rule "burst": ${known}`]],
      [[["rules"], `Unknown rules "burst", "allowedMethod": ${known}`]],
    ]);
    expect((await keyRow(keyId)).rules).toEqual({ ratePerSecond: 5 });
  });

  test("creating a key needs a verified email address", async () => {
    const unverified = await signUpUnverified(server);
    const own = await unverified.api.projects.create.mutate({ name: "Unverified" });

    await expectError(unverified.api.keys.create.mutate({ projectId: own.id, name: "k" }), {
      code: "FORBIDDEN",
      appCode: "EMAIL_NOT_VERIFIED",
    });
  });

  test("a key of another project cannot be touched through this one", async () => {
    const other = await owner.api.projects.create.mutate({ name: "Other" });
    const foreign = await owner.api.keys.create.mutate({ projectId: other.id, name: "foreign" });

    await expectError(owner.api.keys.revoke.mutate({ projectId, keyId: foreign.key.id }), {
      appCode: "NOT_FOUND",
    });
    expect((await keyRow(foreign.key.id)).revokedAt).toBeNull();
  });

  test("the tier bounds the keys that are not revoked", async () => {
    const small = await owner.api.projects.create.mutate({ name: "Small" });
    const made = [];
    for (let index = 0; index < 5; index++) {
      made.push(await owner.api.keys.create.mutate({ projectId: small.id, name: `k${index}` }));
    }

    await expectError(owner.api.keys.create.mutate({ projectId: small.id, name: "sixth" }), {
      appCode: "LIMIT_REACHED",
    });
    await owner.api.keys.revoke.mutate({ projectId: small.id, keyId: made[0]?.key.id ?? "" });
    expect(
      (await owner.api.keys.create.mutate({ projectId: small.id, name: "sixth" })).key.status,
    ).toBe("active");
  });
});

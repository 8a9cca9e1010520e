import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { hashApiKey } from "@viper/shared/api-key";
import { keyRecordStoreKey } from "@viper/shared/key-invalidation";
import { RedisStore } from "@viper/shared/store";
import { post, rpc } from "./harness.ts";
import {
  errorCodeOf,
  holdsWithin,
  type KeysWorld,
  type RelayInstance,
  redisStoreSource,
  rpcPath,
  startKeysWorld,
} from "./keys-fixtures.ts";
import { type RedisProcess, startRedisProcess } from "./redis-process.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";

// The database is the truth and Redis only a cache that may restart, lose messages, or come
// back with old data. Whatever it does, a revoked key stays refused. These tests run their own
// redis-server (whatever TEST_STORE says), so that they can crash it.
let redis: RedisProcess;
let world: KeysWorld;
let relay: RelayInstance;
// A relay that reaches Redis through a proxy the test can cut.
let cutOff: RelayInstance;
let proxy: TcpProxy;
let projectId: string;

beforeAll(async () => {
  redis = await startRedisProcess();
  const stores = redisStoreSource(redis.url);
  world = await startKeysWorld(stores);
  relay = await world.startRelay();
  proxy = startTcpProxy(Number(new URL(redis.url).port));
  cutOff = await world.startRelay({
    store: new RedisStore({ url: `redis://127.0.0.1:${proxy.port}`, prefix: stores.prefix }),
  });
  projectId = await world.createProject();
}, 30_000);

afterAll(async () => {
  await world?.close();
  proxy?.close();
  await redis?.stop();
});

async function ask(on: RelayInstance, apiKey: string) {
  const answer = await post(on.app, rpcPath(apiKey), rpc("eth_chainId"));
  return { status: answer.status, code: errorCodeOf(answer.text) };
}

async function createKey(name: string) {
  return world.owner.keys.create.mutate({ projectId, name });
}

const resyncLine = "key cache emptied after the store reconnected";

function resyncs(on: RelayInstance): number {
  return on.logLines.filter((line) => line.includes(resyncLine)).length;
}

/**
 * Runs `outage` and waits until every relay's two Redis connections (commands, then
 * subscriptions) are back and each has emptied the relay's key cache: one log line apiece.
 */
async function throughOutage(relays: RelayInstance[], outage: () => Promise<void>) {
  const before = relays.map(resyncs);
  await outage();
  await holdsWithin(10_000, "every relay is back on Redis", async () =>
    relays.every((on, index) => resyncs(on) >= (before[index] ?? 0) + 2),
  );
}

describe("a revoked key while Redis restarts", () => {
  test("a key revoked before Redis restarts empty stays refused", async () => {
    const { key, secret } = await createKey("revoked, then redis restarts");
    const before = await ask(relay, secret);
    await world.owner.keys.revoke.mutate({ projectId, keyId: key.id });

    await throughOutage([relay, cutOff], () => redis.restart());

    expect(before).toEqual({ status: 200, code: null });
    expect(await ask(relay, secret)).toEqual({ status: 401, code: -32002 });
  }, 20_000);

  test("a Redis restored from a snapshot taken before the revocation does not bring the key back", async () => {
    const { key, secret } = await createKey("revoked after a snapshot");
    const storeKey = keyRecordStoreKey(hashApiKey(secret));
    const relays = [relay, cutOff];
    const before = await Promise.all(relays.map((on) => ask(on, secret)));
    await redis.snapshot();
    await world.owner.keys.revoke.mutate({ projectId, keyId: key.id });
    await holdsWithin(1_000, "both relays refuse the revoked key", async () => {
      const answers = await Promise.all(relays.map((on) => ask(on, secret)));
      return answers.every((answer) => answer.status === 401);
    });
    const revoked = await Promise.all(relays.map((on) => ask(on, secret)));
    // Each relay deleted the shared record when the message came; a command still unanswered
    // when Redis dies is sent again after the restart, so let those deletes finish first.
    await Promise.all(relays.map((on) => on.store.ping()));

    await throughOutage(relays, () => redis.restart());
    const restored = await world.store.get(storeKey);

    expect(before).toEqual([
      { status: 200, code: null },
      { status: 200, code: null },
    ]);
    expect(revoked).toEqual([
      { status: 401, code: -32002 },
      { status: 401, code: -32002 },
    ]);
    // The snapshot brought back the record from before the revocation...
    expect(JSON.parse(restored ?? "{}").record?.revokedAt).toBeNull();
    // ...which the relays, back on Redis, no longer trust.
    expect(await Promise.all(relays.map((on) => ask(on, secret)))).toEqual([
      { status: 401, code: -32002 },
      { status: 401, code: -32002 },
    ]);
  }, 20_000);

  test("an invalidation published while a relay is cut off from Redis takes effect when it reconnects", async () => {
    const { key, secret } = await createKey("revoked while a relay is cut off");
    const before = await ask(cutOff, secret);

    let whileCut = { status: 0, code: null as number | null };
    await throughOutage([cutOff], async () => {
      proxy.cut();
      await world.owner.keys.revoke.mutate({ projectId, keyId: key.id });
      // The message is lost for this relay: its in-process copy (kept at most five seconds)
      // still admits the key.
      whileCut = await ask(cutOff, secret);
      proxy.restore();
    });

    expect(before).toEqual({ status: 200, code: null });
    expect(whileCut).toEqual({ status: 200, code: null });
    expect(await ask(cutOff, secret)).toEqual({ status: 401, code: -32002 });
  }, 20_000);
});

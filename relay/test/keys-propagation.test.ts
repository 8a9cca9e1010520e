import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { relayLogs } from "@viper/db/schema/relay-logs";
import { testDriver } from "@viper/db/testing";
import { hashApiKey } from "@viper/shared/api-key";
import { keyInvalidatedChannel, keyRecordStoreKey } from "@viper/shared/key-invalidation";
import { eq, sql } from "drizzle-orm";
import { post, rpc, storeDriver } from "./harness.ts";
import {
  errorCodeOf,
  holdsWithin,
  type KeysWorld,
  type RelayInstance,
  rpcPath,
  startKeysWorld,
} from "./keys-fixtures.ts";

let world: KeysWorld;
let relays: RelayInstance[];
let projectId: string;
// Every secret the server handed out in this file, for the search through tables and logs.
const secrets: string[] = [];

beforeAll(async () => {
  world = await startKeysWorld();
  relays = [await world.startRelay(), await world.startRelay()];
  projectId = await world.createProject();
}, 30_000);

afterAll(async () => {
  await world?.close();
});

async function createKey(name: string, inProject = projectId) {
  const created = await world.owner.keys.create.mutate({ projectId: inProject, name });
  secrets.push(created.secret);
  return created;
}

/** One eth_chainId through a relay, as status, portal error code and request id. */
async function ask(relay: RelayInstance, apiKey: string) {
  const answer = await post(relay.app, rpcPath(apiKey), rpc("eth_chainId"));
  return {
    status: answer.status,
    code: errorCodeOf(answer.text),
    requestId: answer.headers.get("x-request-id"),
  };
}

async function askBoth(apiKey: string) {
  return Promise.all(relays.map((relay) => ask(relay, apiKey)));
}

/** The SQL a relay sent, without its usage rows (written in the background, not to answer). */
function answeringQueries(relay: RelayInstance): string[] {
  return relay.queries.filter((query) => !/^insert into "relay_logs/i.test(query));
}

async function flushUsage(): Promise<void> {
  await Promise.all(relays.map((relay) => relay.app.decorator.relay.relayLogs.flush()));
}

describe(`two relays on one ${testDriver} database and one ${storeDriver} store`, () => {
  test("a key revoked through the server is refused by both relays within one second", async () => {
    const { key, secret } = await createKey("revoked soon");
    const before = await askBoth(secret);

    await world.owner.keys.revoke.mutate({ projectId, keyId: key.id });

    await holdsWithin(1_000, "both relays refuse the revoked key", async () =>
      (await askBoth(secret)).every((answer) => answer.status === 401),
    );
    expect(before.map((answer) => answer.status)).toEqual([200, 200]);
    const after = await askBoth(secret);
    expect(after.map((answer) => answer.code)).toEqual([-32002, -32002]);
  });

  test("regression: a stale record written back after the server's delete goes when the message arrives", async () => {
    const { key, secret } = await createKey("written back");
    await askBoth(secret);
    const storeKey = keyRecordStoreKey(hashApiKey(secret));
    const cachedBeforeRevoke = await world.store.get(storeKey);
    await world.owner.keys.revoke.mutate({ projectId, keyId: key.id });

    // A relay that read the row just before the revocation writes it back after the server
    // deleted it; the server's message reaches the relays after that write.
    await world.store.set(storeKey, cachedBeforeRevoke ?? "", 30_000);
    await world.store.publish(keyInvalidatedChannel, hashApiKey(secret));

    expect(cachedBeforeRevoke).not.toBeNull();
    await holdsWithin(1_000, "the written-back record is deleted", async () => {
      return (await world.store.get(storeKey)) === null;
    });
    expect((await askBoth(secret)).map((answer) => answer.code)).toEqual([-32002, -32002]);
  });

  test("a regenerated key's old secret works on both relays during its grace and stops after it", async () => {
    const { key, secret: oldSecret } = await createKey("regenerated");
    await askBoth(oldSecret);

    const regenerated = await world.owner.keys.regenerate.mutate({
      projectId,
      keyId: key.id,
      graceSeconds: 2,
    });
    secrets.push(regenerated.secret);
    const graceEnds = Date.parse(regenerated.key.previousSecretValidUntil ?? "");
    const inGrace = { old: await askBoth(oldSecret), fresh: await askBoth(regenerated.secret) };
    const askedInGraceAt = Date.now();
    await Bun.sleep(Math.max(0, graceEnds - Date.now()) + 100);
    for (const relay of relays) {
      relay.queries.length = 0;
    }
    const afterGrace = { old: await askBoth(oldSecret), fresh: await askBoth(regenerated.secret) };

    expect(askedInGraceAt).toBeLessThan(graceEnds);
    expect(inGrace.old.map((answer) => answer.status)).toEqual([200, 200]);
    expect(inGrace.fresh.map((answer) => answer.status)).toEqual([200, 200]);
    expect(afterGrace.old.map((answer) => answer.status)).toEqual([401, 401]);
    // The relays still hold the old secret's record; its expiry (the grace end) refuses it
    // without asking the database again.
    expect(afterGrace.old.map((answer) => answer.code)).toEqual([-32003, -32003]);
    expect(relays.map(answeringQueries)).toEqual([[], []]);
    expect(afterGrace.fresh.map((answer) => answer.status)).toEqual([200, 200]);
  });

  test("a key with one character changed is refused without a database query", async () => {
    const { secret } = await createKey("typo target");
    const relay = relays[0];
    if (!relay) {
      throw new Error("no relay");
    }
    // One change in the secret part, one in the checksum at the end.
    const typos = [12, secret.length - 1].map((index) => {
      const changed = secret[index] === "A" ? "B" : "A";
      return secret.slice(0, index) + changed + secret.slice(index + 1);
    });
    relay.queries.length = 0;

    const answers = await Promise.all(typos.map((typo) => ask(relay, typo)));

    expect(answers.map((answer) => [answer.status, answer.code])).toEqual([
      [401, -32001],
      [401, -32001],
    ]);
    expect(answeringQueries(relay)).toEqual([]);
  });

  test("deleting a project stops its keys on both relays at once and keeps its usage rows", async () => {
    const doomedId = await world.createProject();
    const { secret } = await createKey("in a doomed project", doomedId);
    const served = await askBoth(secret);
    await flushUsage();

    await world.owner.projects.delete.mutate({ projectId: doomedId });

    await holdsWithin(1_000, "both relays refuse the deleted project's key", async () =>
      (await askBoth(secret)).every((answer) => answer.status === 401),
    );
    await flushUsage();
    const rows = await world.database.db
      .select({ requestId: relayLogs.requestId, status: relayLogs.status })
      .from(relayLogs)
      .where(eq(relayLogs.projectId, doomedId));
    expect(served.map((answer) => answer.status)).toEqual([200, 200]);
    expect((await askBoth(secret)).map((answer) => answer.code)).toEqual([-32001, -32001]);
    for (const answer of served) {
      expect(rows).toContainEqual({ requestId: answer.requestId ?? "", status: "ok" });
    }
  });

  test("no table and no log line holds a raw key", async () => {
    await flushUsage();
    const tables = await rowsOf<{ name: string }>(
      sql`select table_name as name from information_schema.tables
          where table_schema = 'public' and table_type = 'BASE TABLE'`,
    );
    const everyRow: string[] = [];
    for (const { name } of tables) {
      const rows = await rowsOf<{ row: string }>(
        sql`select t::text as row from ${sql.identifier(name)} t`,
      );
      everyRow.push(...rows.map((entry) => entry.row));
    }
    const logLines = [...world.server.logs.lines, ...relays.flatMap((relay) => relay.logLines)];

    expect(secrets.length).toBeGreaterThan(4);
    expect(tables.map((table) => table.name)).toContain("api_keys");
    expect(everyRow.length).toBeGreaterThan(0);
    expect(logLines.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(everyRow.filter((row) => row.includes(secret))).toEqual([]);
      expect(logLines.filter((line) => line.includes(secret))).toEqual([]);
    }
  });
});

/** Rows of a raw query on either driver (postgres.js answers an array, PGlite `{ rows }`). */
async function rowsOf<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  const result: unknown = await world.database.db.execute(query);
  if (Array.isArray(result)) {
    return result as T[];
  }
  return (result as { rows: T[] }).rows;
}

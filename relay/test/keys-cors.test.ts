import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { relayLogs } from "@viper/db/schema/relay-logs";
import { eq, like } from "drizzle-orm";
import { post, rpc } from "./harness.ts";
import { type KeysWorld, type RelayInstance, rpcPath, startKeysWorld } from "./keys-fixtures.ts";

// A dApp in a browser calls the relay from its own origin: the browser asks first (a preflight)
// and shows the page an answer, refusals included, only when the CORS headers allow it.
const dappOrigin = "https://app.example.com";

let world: KeysWorld;
let relay: RelayInstance;
let projectId: string;
let secret: string;

beforeAll(async () => {
  world = await startKeysWorld();
  relay = await world.startRelay();
  projectId = await world.createProject();
  const created = await world.owner.keys.create.mutate({
    projectId,
    name: "browser key",
    rules: { allowedOrigins: [dappOrigin], allowedMethods: ["eth_chainId"], ratePerSecond: 1 },
  });
  secret = created.secret;
}, 30_000);

afterAll(async () => {
  await world?.close();
});

async function preflight(path: string, requestId: string): Promise<Response> {
  return relay.app.handle(
    new Request(`http://relay.test${path}`, {
      method: "OPTIONS",
      headers: {
        origin: dappOrigin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
        "x-request-id": requestId,
      },
    }),
  );
}

/** Checks what a browser needs to hand the answer and its headers to the page. */
function expectReadableBy(origin: string, headers: Headers): void {
  expect(headers.get("access-control-allow-origin")).toBe(origin);
  expect(headers.get("vary")).toContain("Origin");
  const exposed = (headers.get("access-control-expose-headers") ?? "").split(/,\s*/);
  expect(exposed).toEqual(
    expect.arrayContaining([
      "x-request-id",
      "ratelimit-limit",
      "ratelimit-remaining",
      "ratelimit-reset",
      "retry-after",
    ]),
  );
}

describe("browsers calling the relay", () => {
  test("a preflight is answered without a key check, a limit or a usage row, even for a bogus key", async () => {
    relay.queries.length = 0;

    const bogus = await preflight(rpcPath("not-a-key"), "preflight-bogus");
    const real = await Promise.all(
      [1, 2, 3, 4, 5].map((n) => preflight(rpcPath(secret), `preflight-real-${n}`)),
    );
    const queriesDuringPreflights = [...relay.queries];
    const first = await post(relay.app, rpcPath(secret), rpc("eth_chainId"), {
      origin: dappOrigin,
    });
    await relay.app.decorator.relay.relayLogs.flush();
    const preflightRows = await world.database.db
      .select({ requestId: relayLogs.requestId })
      .from(relayLogs)
      .where(like(relayLogs.requestId, "preflight-%"));
    const keyRows = await world.database.db
      .select({ requestId: relayLogs.requestId })
      .from(relayLogs)
      .where(eq(relayLogs.projectId, projectId));

    for (const answer of [bogus, ...real]) {
      expect(answer.status).toBe(204);
      expect(answer.headers.get("access-control-allow-methods")).toContain("POST");
      expect(answer.headers.get("access-control-allow-headers")).toContain("content-type");
      expectReadableBy(dappOrigin, answer.headers);
    }
    expect(queriesDuringPreflights).toEqual([]);
    // One compute unit per second holds two; five preflights took none of them.
    expect(first.status).toBe(200);
    expect(first.headers.get("ratelimit-limit")).toBe("2");
    expect(first.headers.get("ratelimit-remaining")).toBe("1");
    expect(preflightRows).toEqual([]);
    expect(keyRows).toEqual([{ requestId: first.headers.get("x-request-id") ?? "" }]);
  });

  test("refusals carry the CORS headers, so the page can read the error", async () => {
    const origin = { origin: dappOrigin };
    const unknownKey = await post(relay.app, rpcPath("vpr_live_typo"), rpc("eth_chainId"), origin);
    const forbiddenMethod = await post(relay.app, rpcPath(secret), rpc("eth_blockNumber"), origin);
    const threeCalls = [rpc("eth_chainId", 1), rpc("eth_chainId", 2), rpc("eth_chainId", 3)];
    const overLimit = await post(relay.app, rpcPath(secret), threeCalls, origin);
    const wrongOrigin = await post(relay.app, rpcPath(secret), rpc("eth_chainId"), {
      origin: "https://other.example",
    });

    // Three calls cost more than the key's whole burst of two: request_too_costly.
    expect([unknownKey, forbiddenMethod, overLimit, wrongOrigin].map((a) => a.status)).toEqual([
      401, 403, 413, 403,
    ]);
    for (const answer of [unknownKey, forbiddenMethod, overLimit]) {
      expectReadableBy(dappOrigin, answer.headers);
      expect(answer.text).toContain(answer.headers.get("x-request-id") ?? "missing");
    }
    expect(overLimit.headers.get("ratelimit-limit")).toBe("2");
    expect(JSON.parse(overLimit.text)[0].error.code).toBe(-32013);
    // A page on an origin the key does not allow still learns why it was refused.
    expectReadableBy("https://other.example", wrongOrigin.headers);
    expect(JSON.parse(wrongOrigin.text).error.code).toBe(-32008);
  });
});

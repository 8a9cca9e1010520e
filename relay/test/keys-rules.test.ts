import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { KeyRulesInput } from "@viper/server/projects/validation";
import { post, rpc } from "./harness.ts";
import {
  errorCodeOf,
  type KeysWorld,
  OTHER_CHAIN_ID,
  type RelayInstance,
  rpcPath,
  startKeysWorld,
} from "./keys-fixtures.ts";

// Every rule a key can carry, set through the server's typed client and enforced by a relay
// listening on a real socket (the caller's address is the point of one of them).
let world: KeysWorld;
let relay: RelayInstance;

beforeAll(async () => {
  world = await startKeysWorld();
  relay = await world.startRelay({ listen: true });
}, 30_000);

afterAll(async () => {
  await world?.close();
});

// The free tier holds five keys per project and ten projects per owner, so keys share projects.
let shared = { projectId: "", keys: 5 };

/** A key carrying `rules`, in a project of its own when project settings are given. */
async function keyWith(rules: KeyRulesInput, projectSettings?: { allowedOrigins?: string[] }) {
  if (!projectSettings && shared.keys >= 5) {
    shared = { projectId: await world.createProject(), keys: 0 };
  }
  const projectId = projectSettings ? await world.createProject(projectSettings) : shared.projectId;
  shared.keys += projectSettings ? 0 : 1;
  const created = await world.owner.keys.create.mutate({ projectId, name: "ruled", rules });
  return { projectId, keyId: created.key.id, secret: created.secret, stored: created.key.rules };
}

interface Answer {
  status: number;
  /** The portal's error code of a single answer; null for a chain answer or a batch. */
  code: number | null;
  headers: Headers;
  text: string;
}

/** A request to the relay app, as status and portal error code. */
async function call(
  secret: string,
  body: unknown,
  headers: Record<string, string> = {},
  chain?: string,
): Promise<Answer> {
  const answer = await post(relay.app, rpcPath(secret, chain), body, headers);
  const code = Array.isArray(body) ? null : errorCodeOf(answer.text);
  return { status: answer.status, code, headers: answer.headers, text: answer.text };
}

/** The same request over the relay's socket, so that the relay sees the caller's address. */
async function callOverSocket(secret: string, method: string): Promise<Answer> {
  const response = await fetch(`${relay.url}${rpcPath(secret)}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(rpc(method)),
  });
  const text = await response.text();
  return { status: response.status, code: errorCodeOf(text), headers: response.headers, text };
}

function outcome(answer: Answer): [number, number | null] {
  return [answer.status, answer.code];
}

describe("key rules through the relay", () => {
  test("allowed chains: a key serves only the chains it lists, and a rule change applies at once", async () => {
    const other = await keyWith({ allowedChains: ["other-devnet"] });
    const devnetOnly = await keyWith({ allowedChains: ["eth-devnet"] });

    const refused = await call(other.secret, rpc("eth_chainId"));
    const allowed = await call(devnetOnly.secret, rpc("eth_chainId"));
    await world.owner.keys.updateRules.mutate({
      projectId: other.projectId,
      keyId: other.keyId,
      rules: { allowedChains: ["eth-devnet", "other-devnet"] },
    });
    const afterChange = await call(other.secret, rpc("eth_chainId"));

    expect(other.stored.allowedChains).toEqual([OTHER_CHAIN_ID]);
    expect(outcome(refused)).toEqual([403, -32006]);
    expect(outcome(allowed)).toEqual([200, null]);
    expect(outcome(afterChange)).toEqual([200, null]);
  });

  test("allowed methods: listed names and prefixes pass, anything else gets 403", async () => {
    const key = await keyWith({ allowedMethods: ["eth_chainId", "net_*"] });

    const listed = await call(key.secret, rpc("eth_chainId"));
    const byPrefix = await call(key.secret, rpc("net_version"));
    const unlisted = await call(key.secret, rpc("eth_blockNumber"));

    expect(outcome(listed)).toEqual([200, null]);
    expect(outcome(byPrefix)).toEqual([200, null]);
    expect(outcome(unlisted)).toEqual([403, -32007]);
  });

  test("blocked methods: a blocked method gets 403, in a batch only its own item", async () => {
    const key = await keyWith({ blockedMethods: ["eth_blockNumber"] });

    const blocked = await call(key.secret, rpc("eth_blockNumber"));
    const other = await call(key.secret, rpc("eth_chainId"));
    const batch = await call(key.secret, [rpc("eth_chainId", 1), rpc("eth_blockNumber", 2)]);

    expect(outcome(blocked)).toEqual([403, -32007]);
    expect(outcome(other)).toEqual([200, null]);
    expect(batch.status).toBe(200);
    const items = JSON.parse(batch.text) as { id: number; result?: string; error?: unknown }[];
    expect(items.map((item) => [item.id, typeof item.result, item.error === undefined])).toEqual([
      [1, "string", true],
      [2, "undefined", false],
    ]);
  });

  test("allowed origins: the listed origin passes; another origin or none gets 403", async () => {
    const key = await keyWith({ allowedOrigins: ["https://app.example.com"] });

    const listed = await call(key.secret, rpc("eth_chainId"), {
      origin: "https://app.example.com",
    });
    const foreign = await call(key.secret, rpc("eth_chainId"), { origin: "https://evil.example" });
    const none = await call(key.secret, rpc("eth_chainId"));

    expect(outcome(listed)).toEqual([200, null]);
    expect(outcome(foreign)).toEqual([403, -32008]);
    expect(outcome(none)).toEqual([403, -32008]);
  });

  test("the project's allowed origins bind a key without a list of its own", async () => {
    const key = await keyWith({}, { allowedOrigins: ["https://*.example.com"] });

    const sub = await call(key.secret, rpc("eth_chainId"), { origin: "https://app.example.com" });
    const foreign = await call(key.secret, rpc("eth_chainId"), { origin: "https://example.org" });

    expect(outcome(sub)).toEqual([200, null]);
    expect(outcome(foreign)).toEqual([403, -32008]);
  });

  test("allowed IPs: a caller inside a listed block passes, one outside gets 403", async () => {
    const loopback = await keyWith({ allowedIps: ["127.0.0.0/8", "::1"] });
    const elsewhere = await keyWith({ allowedIps: ["203.0.113.0/24", "2001:db8::/32"] });

    const inside = await callOverSocket(loopback.secret, "eth_chainId");
    const outside = await callOverSocket(elsewhere.secret, "eth_chainId");

    expect(outcome(inside)).toEqual([200, null]);
    expect(outcome(outside)).toEqual([403, -32009]);
  });

  test("the caller's address is judged before origin, chain and method", async () => {
    const key = await keyWith({
      allowedIps: ["203.0.113.7"],
      allowedOrigins: ["https://app.example.com"],
      allowedChains: ["other-devnet"],
      allowedMethods: ["net_version"],
    });

    const answer = await call(key.secret, rpc("eth_chainId"), { origin: "https://evil.example" });

    expect(outcome(answer)).toEqual([403, -32009]);
  });

  test("a per-key rate is stored and lowers the key's limit: a batch beyond it gets 429", async () => {
    const slow = await keyWith({ ratePerSecond: 1 });
    const unruled = await keyWith({});
    const twoCalls = [rpc("eth_chainId", 1), rpc("eth_chainId", 2)];

    const listed = await world.owner.keys.list.query({ projectId: slow.projectId });
    const single = await call(slow.secret, rpc("eth_chainId"));
    const tooMany = await call(slow.secret, twoCalls);
    const sameBatchOtherKey = await call(unruled.secret, twoCalls);

    expect(listed.find((key) => key.id === slow.keyId)?.rules).toEqual({ ratePerSecond: 1 });
    expect(outcome(single)).toEqual([200, null]);
    // One compute unit per second holds a burst of two; the single call took one of them, so
    // two more calls wait. (A batch larger than the burst itself gets request_too_costly.)
    expect(single.headers.get("ratelimit-limit")).toBe("2");
    expect(tooMany.status).toBe(429);
    expect(tooMany.headers.get("retry-after")).not.toBeNull();
    const refusals = JSON.parse(tooMany.text) as { id: number; error: { code: number } }[];
    expect(refusals.map((item) => [item.id, item.error.code])).toEqual([
      [1, -32005],
      [2, -32005],
    ]);
    expect(sameBatchOtherKey.status).toBe(200);
  });
});

import { describe, expect, test } from "bun:test";
import { apiKeys } from "@viper/db/schema/api-keys";
import { createProjectWithKey } from "@viper/db/seed";
import { generateApiKey } from "@viper/shared/api-key";
import { eq } from "drizzle-orm";
import { CHAIN_SLUG, post, rpc, useHarness } from "./harness.ts";

interface PortalError {
  jsonrpc: string;
  id: unknown;
  error: { code: number; message: string; data: { requestId: string } };
}

const harness = useHarness({ limits: { maxBodyBytes: 4096 } });

/**
 * Checks the shape every portal error shares (including the request id, which must match the
 * x-request-id header) and returns it.
 */
function portalError(answer: { text: string; headers: Headers }): PortalError {
  const body = JSON.parse(answer.text) as PortalError;
  expect(body.jsonrpc).toBe("2.0");
  expect(typeof body.error.message).toBe("string");
  expect(body.error.data.requestId).toBe(answer.headers.get("x-request-id") ?? "missing");
  return body;
}

describe("malformed JSON-RPC", () => {
  test("a body that is not JSON gets -32700 with id null", async () => {
    const answer = await post(harness.app, harness.rpcPath, '{"jsonrpc": "2.0", "method": ');

    expect(answer.status).toBe(400);
    const body = portalError(answer);
    expect(body.id).toBeNull();
    expect(body.error.code).toBe(-32700);
  });

  test("an empty batch gets a single -32600 object with id null", async () => {
    const answer = await post(harness.app, harness.rpcPath, "[]");

    expect(answer.status).toBe(400);
    const body = portalError(answer);
    expect(Array.isArray(body)).toBe(false);
    expect(body.id).toBeNull();
    expect(body.error.code).toBe(-32600);
  });

  test("a batch of non-objects gets one -32600 error per item", async () => {
    const answer = await post(harness.app, harness.rpcPath, "[1, 2, 3]");

    expect(answer.status).toBe(400);
    const body = JSON.parse(answer.text) as PortalError[];
    expect(body).toHaveLength(3);
    for (const item of body) {
      expect(item.id).toBeNull();
      expect(item.error.code).toBe(-32600);
    }
  });

  test("a request without jsonrpc 2.0 or without a method string gets -32600 with its id", async () => {
    const noVersion = await post(harness.app, harness.rpcPath, { id: 5, method: "eth_chainId" });
    const noMethod = await post(harness.app, harness.rpcPath, {
      jsonrpc: "2.0",
      id: "x",
      method: 7,
    });

    expect(noVersion.status).toBe(400);
    expect(portalError(noVersion)).toMatchObject({ id: 5, error: { code: -32600 } });
    expect(noMethod.status).toBe(400);
    expect(portalError(noMethod)).toMatchObject({ id: "x", error: { code: -32600 } });
  });

  test("in a batch, malformed items get -32600 in place and the rest are relayed", async () => {
    const batch = [
      rpc("eth_chainId", 1),
      { jsonrpc: "1.0", id: 2, method: "eth_chainId" },
      7,
      rpc("net_version", 3),
    ];

    const answer = await post(harness.app, harness.rpcPath, batch);

    expect(answer.status).toBe(200);
    const body = JSON.parse(answer.text) as {
      id: unknown;
      result?: string;
      error?: { code: number };
    }[];
    expect(body.map((item) => item.id)).toEqual([1, 2, null, 3]);
    expect(body[0]?.result).toMatch(/^0x/);
    expect(body[1]?.error?.code).toBe(-32600);
    expect(body[2]?.error?.code).toBe(-32600);
    expect(typeof body[3]?.result).toBe("string");
  });

  test("a body over the size limit gets HTTP 413 with a JSON-RPC error", async () => {
    const huge = rpc("eth_call", 1, [{ data: `0x${"ab".repeat(4096)}` }, "latest"]);

    const answer = await post(harness.app, harness.rpcPath, huge);

    expect(answer.status).toBe(413);
    expect(portalError(answer).error.code).toBe(-32010);
  });

  test("a streamed body without a declared length is cut off at the limit with HTTP 413", async () => {
    const chunk = new TextEncoder().encode(" ".repeat(1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 16) {
          controller.close();
          return;
        }
        sent += 1;
        controller.enqueue(chunk);
      },
    });

    const response = await harness.app.handle(
      new Request(`http://relay.test${harness.rpcPath}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: stream,
        duplex: "half",
      } as RequestInit),
    );

    expect(response.status).toBe(413);
    expect(portalError({ text: await response.text(), headers: response.headers }).error.code).toBe(
      -32010,
    );
  });

  test("a body that is not declared application/json gets HTTP 415", async () => {
    const answer = await post(harness.app, harness.rpcPath, JSON.stringify(rpc("eth_chainId")), {
      "content-type": "text/plain",
    });

    expect(answer.status).toBe(415);
    expect(portalError(answer).error.code).toBe(-32011);
  });

  test("application/json with a charset is accepted", async () => {
    const answer = await post(harness.app, harness.rpcPath, rpc("eth_chainId"), {
      "content-type": "application/json; charset=utf-8",
    });

    expect(answer.status).toBe(200);
  });
});

describe("keys and chains", () => {
  test("a well-formed but unknown key gets 401 carrying the request's id", async () => {
    const unknown = generateApiKey().key;

    const answer = await post(harness.app, `/v1/${CHAIN_SLUG}/${unknown}`, rpc("eth_chainId", 77));

    expect(answer.status).toBe(401);
    expect(portalError(answer)).toMatchObject({ id: 77, error: { code: -32001 } });
    expect(answer.text).not.toContain(unknown);
  });

  test("a malformed key gets 401", async () => {
    const answer = await post(harness.app, `/v1/${CHAIN_SLUG}/not-a-key`, rpc("eth_chainId"));

    expect(answer.status).toBe(401);
    expect(portalError(answer).error.code).toBe(-32001);
  });

  test("a batch refused as a whole gets one error per item with each item's id", async () => {
    const batch = [rpc("eth_chainId", 1), rpc("eth_blockNumber", 2)];

    const answer = await post(harness.app, `/v1/${CHAIN_SLUG}/vpr_live_bad`, batch);

    expect(answer.status).toBe(401);
    const body = JSON.parse(answer.text) as PortalError[];
    expect(body.map((item) => [item.id, item.error.code])).toEqual([
      [1, -32001],
      [2, -32001],
    ]);
  });

  test("an unknown chain gets 404", async () => {
    const answer = await post(
      harness.app,
      `/v1/no-such-chain/${harness.apiKey}`,
      rpc("eth_chainId", 3),
    );

    expect(answer.status).toBe(404);
    expect(portalError(answer)).toMatchObject({ id: 3, error: { code: -32004 } });
  });

  test("a chain the project did not pick gets 403", async () => {
    const answer = await post(harness.app, `/v1/other-chain/${harness.apiKey}`, rpc("eth_chainId"));

    expect(answer.status).toBe(403);
    expect(portalError(answer).error.code).toBe(-32006);
  });

  test("a revoked key gets 401 with its own code, an expired one too", async () => {
    const revoked = await createProjectWithKey(harness.testDb.db, {
      email: "revoked@example.com",
      projectName: "revoked",
      chainIds: ["0021"],
    });
    await harness.testDb.db
      .update(apiKeys)
      .set({ revokedAt: new Date(Date.now() - 1000) })
      .where(eq(apiKeys.id, revoked.keyId));
    const expired = await createProjectWithKey(harness.testDb.db, {
      email: "expired@example.com",
      projectName: "expired",
      chainIds: ["0021"],
      expiresAt: new Date(Date.now() - 1000),
    });

    const revokedAnswer = await post(
      harness.app,
      `/v1/${CHAIN_SLUG}/${revoked.apiKey.key}`,
      rpc("eth_chainId"),
    );
    const expiredAnswer = await post(
      harness.app,
      `/v1/${CHAIN_SLUG}/${expired.apiKey.key}`,
      rpc("eth_chainId"),
    );

    expect(revokedAnswer.status).toBe(401);
    expect(portalError(revokedAnswer).error.code).toBe(-32002);
    expect(expiredAnswer.status).toBe(401);
    expect(portalError(expiredAnswer).error.code).toBe(-32003);
  });

  test("methods and origins outside the key's rules are refused with 403", async () => {
    const ruled = await createProjectWithKey(harness.testDb.db, {
      email: "ruled@example.com",
      projectName: "ruled",
      chainIds: ["0021"],
      rules: { blockedMethods: ["eth_block*"], allowedOrigins: ["https://dapp.example"] },
    });
    const ruledPath = `/v1/${CHAIN_SLUG}/${ruled.apiKey.key}`;
    const origin = { origin: "https://dapp.example" };

    const blocked = await post(harness.app, ruledPath, rpc("eth_blockNumber", 1), origin);
    const mixed = await post(
      harness.app,
      ruledPath,
      [rpc("eth_chainId", 1), rpc("eth_blockNumber", 2)],
      origin,
    );
    const foreign = await post(harness.app, ruledPath, rpc("eth_chainId", 1), {
      origin: "https://evil.example",
    });

    expect(blocked.status).toBe(403);
    expect(portalError(blocked).error.code).toBe(-32007);
    expect(mixed.status).toBe(200);
    const mixedBody = JSON.parse(mixed.text) as {
      id: number;
      result?: string;
      error?: { code: number };
    }[];
    expect(mixedBody.map((item) => item.id)).toEqual([1, 2]);
    expect(mixedBody[0]?.result).toMatch(/^0x/);
    expect(mixedBody[1]?.error?.code).toBe(-32007);
    expect(foreign.status).toBe(403);
    expect(portalError(foreign).error.code).toBe(-32008);
  });
});

describe("key rotation and address rules", () => {
  test("a replaced secret works during its grace period and is refused after it", async () => {
    const rotated = await createProjectWithKey(harness.testDb.db, {
      email: "rotated@example.com",
      projectName: "rotated",
      chainIds: ["0021"],
    });
    const graceful = await createProjectWithKey(harness.testDb.db, {
      email: "graceful@example.com",
      projectName: "graceful",
      chainIds: ["0021"],
    });
    const replacements = [generateApiKey(), generateApiKey()];
    const ends = [new Date(Date.now() - 1000), new Date(Date.now() + 60_000)];
    for (const [index, project] of [rotated, graceful].entries()) {
      await harness.testDb.db
        .update(apiKeys)
        .set({
          keyHash: replacements[index]?.hash,
          previousKeyHash: project.apiKey.hash,
          previousKeyExpiresAt: ends[index],
        })
        .where(eq(apiKeys.id, project.keyId));
    }

    const pastGrace = await post(
      harness.app,
      `/v1/${CHAIN_SLUG}/${rotated.apiKey.key}`,
      rpc("eth_chainId"),
    );
    const inGrace = await post(
      harness.app,
      `/v1/${CHAIN_SLUG}/${graceful.apiKey.key}`,
      rpc("eth_chainId"),
    );
    const newSecret = await post(
      harness.app,
      `/v1/${CHAIN_SLUG}/${replacements[1]?.key}`,
      rpc("eth_chainId"),
    );

    expect(pastGrace.status).toBe(401);
    expect(inGrace.status).toBe(200);
    expect(newSecret.status).toBe(200);
  });

  test("a key limited to IP blocks refuses a caller whose address is unknown", async () => {
    const limited = await createProjectWithKey(harness.testDb.db, {
      email: "ip-limited@example.com",
      projectName: "ip limited",
      chainIds: ["0021"],
      rules: { allowedIps: ["10.0.0.0/8"] },
    });

    const answer = await post(
      harness.app,
      `/v1/${CHAIN_SLUG}/${limited.apiKey.key}`,
      rpc("eth_chainId", 4),
    );

    expect(answer.status).toBe(403);
    expect(portalError(answer)).toMatchObject({ id: 4, error: { code: -32009 } });
  });
});

describe("errors outside the RPC route", () => {
  test("an unknown path gets a JSON-RPC 404, not HTML", async () => {
    const response = await harness.app.handle(new Request("http://relay.test/nope"));

    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(portalError({ text: await response.text(), headers: response.headers }).error.code).toBe(
      -32012,
    );
  });

  test("GET on the RPC route gets a JSON-RPC error, not HTML", async () => {
    const response = await harness.app.handle(new Request(`http://relay.test${harness.rpcPath}`));

    expect(response.status).toBe(404);
    expect(portalError({ text: await response.text(), headers: response.headers }).error.code).toBe(
      -32012,
    );
  });

  test("no error message carries a stack trace, a servicer URL or the key", async () => {
    const answers = await Promise.all([
      post(harness.app, harness.rpcPath, "{"),
      post(harness.app, `/v1/nope/${harness.apiKey}`, rpc("eth_chainId")),
      post(harness.app, harness.rpcPath, "[]"),
    ]);

    for (const answer of answers) {
      expect(answer.text).not.toContain(harness.apiKey);
      expect(answer.text).not.toContain("    at ");
      for (const servicer of harness.devnet.servicers) {
        expect(answer.text).not.toContain(servicer.url);
      }
    }
  });
});

import { describe, expect, test } from "bun:test";
import { askAnvil, CHAIN_ID, post, rpc, useHarness } from "./harness.ts";

const harness = useHarness();

describe("relaying JSON-RPC to the chain", () => {
  test("eth_blockNumber and eth_chainId come back with anvil's values", async () => {
    const expectedBlock = (await askAnvil(harness.anvil.url, rpc("eth_blockNumber"))) as {
      result: string;
    };

    const block = await post(harness.app, harness.rpcPath, rpc("eth_blockNumber", 41));
    const chainId = await post(harness.app, harness.rpcPath, rpc("eth_chainId", "abc"));

    expect(block.status).toBe(200);
    expect(JSON.parse(block.text)).toEqual({
      jsonrpc: "2.0",
      id: 41,
      result: expectedBlock.result,
    });
    expect(chainId.status).toBe(200);
    expect(JSON.parse(chainId.text)).toEqual({
      jsonrpc: "2.0",
      id: "abc",
      result: `0x${harness.anvil.chainId.toString(16)}`,
    });
  });

  test("the chain can be named by its Viper id as well as its slug", async () => {
    const answer = await post(harness.app, `/v1/${CHAIN_ID}/${harness.apiKey}`, rpc("eth_chainId"));

    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text).result).toBe(`0x${harness.anvil.chainId.toString(16)}`);
  });

  test("a batch of three returns three answers with the same ids in the same order", async () => {
    const batch = [rpc("eth_chainId", 3), rpc("eth_blockNumber", "two"), rpc("net_version", 1)];

    const answer = await post(harness.app, harness.rpcPath, batch);

    expect(answer.status).toBe(200);
    const answers = JSON.parse(answer.text) as { id: unknown; result: unknown }[];
    expect(answers.map((entry) => entry.id)).toEqual([3, "two", 1]);
    expect(answers[0]?.result).toBe(`0x${harness.anvil.chainId.toString(16)}`);
    expect(answers.every((entry) => typeof entry.result === "string")).toBe(true);
  });

  test("the upstream answer comes back byte for byte, chain errors included", async () => {
    const request = rpc("eth_getBalance", 9, ["0xnot-an-address", "latest"]);
    const direct = await fetch(harness.anvil.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request),
    });

    const answer = await post(harness.app, harness.rpcPath, request);

    expect(answer.status).toBe(200);
    expect(answer.text).toBe(await direct.text());
    expect(JSON.parse(answer.text).error).toBeDefined();
  });

  test("explicit id null is a request, not a notification", async () => {
    const answer = await post(harness.app, harness.rpcPath, rpc("eth_chainId", null));

    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ id: null, result: expect.any(String) });
  });

  test("a lone notification gets HTTP 204 with an empty body", async () => {
    const answer = await post(harness.app, harness.rpcPath, {
      jsonrpc: "2.0",
      method: "eth_chainId",
    });

    expect(answer.status).toBe(204);
    expect(answer.text).toBe("");
  });

  test("a batch of notifications gets HTTP 204 with an empty body", async () => {
    const notification = { jsonrpc: "2.0", method: "eth_blockNumber" };

    const answer = await post(harness.app, harness.rpcPath, [notification, notification]);

    expect(answer.status).toBe(204);
    expect(answer.text).toBe("");
  });

  test("in a mixed batch only the requests with an id are answered", async () => {
    const batch = [
      rpc("eth_chainId", 1),
      { jsonrpc: "2.0", method: "eth_blockNumber" },
      rpc("net_version", 2),
    ];

    const answer = await post(harness.app, harness.rpcPath, batch);

    expect(answer.status).toBe(200);
    expect((JSON.parse(answer.text) as { id: number }[]).map((entry) => entry.id)).toEqual([1, 2]);
  });

  test("the caller's x-request-id is echoed, and one is made when none is given", async () => {
    const given = await post(harness.app, harness.rpcPath, rpc("eth_chainId"), {
      "x-request-id": "trace-42",
    });
    const made = await post(harness.app, harness.rpcPath, rpc("eth_chainId"));
    const insane = await post(harness.app, harness.rpcPath, rpc("eth_chainId"), {
      "x-request-id": "bad id with spaces",
    });

    expect(given.headers.get("x-request-id")).toBe("trace-42");
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(insane.headers.get("x-request-id")).not.toBe("bad id with spaces");
  });

  test("a browser's CORS preflight is answered", async () => {
    const response = await harness.app.handle(
      new Request(`http://relay.test${harness.rpcPath}`, {
        method: "OPTIONS",
        headers: { origin: "https://dapp.example", "access-control-request-method": "POST" },
      }),
    );

    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
    expect(response.headers.get("access-control-allow-origin")).toBe("https://dapp.example");
  });
});

import { expect, test } from "@playwright/test";
import { createPublicClient, http } from "viem";

// The Quick start as a new user follows it: start the product, take the printed RPC URL, and
// point a JSON-RPC client at it.
const rpcUrl = () => {
  const url = process.env.E2E_RPC_URL;
  if (!url) {
    throw new Error("global setup did not start the product");
  }
  return url;
};

test("the printed RPC URL answers eth_chainId and eth_blockNumber from the devnet's anvil", async ({
  request,
}) => {
  const chainId = await request.post(rpcUrl(), {
    data: { jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] },
  });
  const blockNumber = await request.post(rpcUrl(), {
    data: { jsonrpc: "2.0", id: 2, method: "eth_blockNumber", params: [] },
  });

  expect(chainId.status()).toBe(200);
  expect(await chainId.json()).toEqual({ jsonrpc: "2.0", id: 1, result: "0x7a69" });
  const block = await blockNumber.json();
  expect(block.id).toBe(2);
  expect(block.result).toMatch(/^0x[0-9a-f]+$/);
});

test("a batch of three comes back as three answers with the same ids in the same order", async ({
  request,
}) => {
  const response = await request.post(rpcUrl(), {
    data: [
      { jsonrpc: "2.0", id: "c", method: "eth_chainId", params: [] },
      { jsonrpc: "2.0", id: 7, method: "net_version", params: [] },
      { jsonrpc: "2.0", id: "a", method: "eth_blockNumber", params: [] },
    ],
  });

  const answers = await response.json();
  expect(answers.map((a: { id: unknown }) => a.id)).toEqual(["c", 7, "a"]);
  expect(answers[1].result).toBe("31337");
});

test("viem reads a block and a balance through the RPC URL", async () => {
  const client = createPublicClient({ transport: http(rpcUrl()) });

  const block = await client.getBlock();
  const balance = await client.getBalance({
    address: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
  });

  expect(block.hash).toMatch(/^0x[0-9a-f]{64}$/);
  expect(balance > 0n).toBe(true);
});

test("a mistyped key gets a JSON-RPC error, not a page", async ({ request }) => {
  const wrongKey = rpcUrl().replace(/.$/, (c) => (c === "a" ? "b" : "a"));

  const response = await request.post(wrongKey, {
    data: { jsonrpc: "2.0", id: 9, method: "eth_chainId", params: [] },
  });

  expect(response.status()).toBe(401);
  const body = await response.json();
  expect(body.id).toBe(9);
  expect(typeof body.error.code).toBe("number");
});

test("the dashboard API reports itself healthy", async ({ request }) => {
  const server = process.env.E2E_SERVER_URL ?? "";

  const response = await request.get(`${server.replace(/\/trpc$/, "")}/health`);

  expect(response.status()).toBe(200);
});

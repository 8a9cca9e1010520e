import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createProjectWithKey } from "@viper/db/seed";
import { generateKeyPair } from "@viper/shared/protocol";
import {
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type PublicClient,
  parseEther,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { loadRelayConfig } from "../src/config.ts";
import { type RunningRelay, startRelay } from "../src/main.ts";
import { CHAIN_SLUG, captureLogger, type Harness, startHarness } from "./harness.ts";

// Anvil's first dev account (0xf39F…2266): public knowledge, funded on every fresh anvil, as
// anvil itself prints it at start.
const DEV_ACCOUNT_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

let harness: Harness;
let relay: RunningRelay;
let rpcUrl: string;
let client: PublicClient;
let chain: Chain;

beforeAll(async () => {
  harness = await startHarness();
  const config = loadRelayConfig({
    RELAY_PORT: "0",
    LOG_LEVEL: "silent",
    VIPER_DISPATCH_URLS: harness.devnet.dispatcherUrl,
    VIPER_REQUESTOR_PRIVATE_KEY: generateKeyPair().privateKeyHex,
  });
  relay = await startRelay(config, {
    db: harness.testDb.db,
    store: harness.store,
    logger: captureLogger().logger,
    heightPollMs: 100,
  });
  rpcUrl = `${relay.url}/v1/${CHAIN_SLUG}/${harness.apiKey}`;
  chain = defineChain({
    id: harness.anvil.chainId,
    name: "anvil through the relay",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  client = createPublicClient({ chain, transport: http(rpcUrl), pollingInterval: 50 });
});

afterAll(async () => {
  await relay?.stop();
  await harness.close();
});

describe("viem talking to the relay on a real port", () => {
  test("reads a block and a balance", async () => {
    const account = privateKeyToAccount(DEV_ACCOUNT_KEY);

    const block = await client.getBlock({ blockTag: "latest" });
    const balance = await client.getBalance({ address: account.address });

    expect(typeof block.number).toBe("bigint");
    expect(block.hash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(balance).toBeGreaterThan(parseEther("1000"));
  });

  test("a transaction signed by viem is sent, mined, and its receipt read back", async () => {
    const account = privateKeyToAccount(DEV_ACCOUNT_KEY);
    const wallet = createWalletClient({ account, chain, transport: http(rpcUrl) });
    const recipient = privateKeyToAccount(`0x${"11".repeat(32)}`).address;
    const before = await client.getBalance({ address: recipient });

    const hash = await wallet.sendTransaction({ to: recipient, value: parseEther("1.5") });
    const receipt = await client.waitForTransactionReceipt({ hash, timeout: 10_000 });

    expect(receipt.status).toBe("success");
    expect(receipt.transactionHash).toBe(hash);
    expect(await client.getBalance({ address: recipient })).toBe(before + parseEther("1.5"));
  });
});

describe("the caller's address on a real socket", () => {
  test("a key limited to loopback works here, one limited to another block is refused", async () => {
    const loopback = await createProjectWithKey(harness.testDb.db, {
      email: "loopback@example.com",
      projectName: "loopback only",
      chainIds: ["0021"],
      rules: { allowedIps: ["127.0.0.0/8", "::1"] },
    });
    const elsewhere = await createProjectWithKey(harness.testDb.db, {
      email: "elsewhere@example.com",
      projectName: "elsewhere only",
      chainIds: ["0021"],
      rules: { allowedIps: ["203.0.113.0/24"] },
    });
    const call = (key: string) =>
      fetch(`${relay.url}/v1/${CHAIN_SLUG}/${key}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId" }),
      });

    const allowed = await call(loopback.apiKey.key);
    const refused = await call(elsewhere.apiKey.key);

    expect(allowed.status).toBe(200);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: number } }).error.code).toBe(-32009);
  });
});

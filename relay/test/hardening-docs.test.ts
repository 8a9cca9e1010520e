import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type AnvilHandle, startAnvil } from "@viper/devnet/anvil";
import { askAnvil, type Harness, startHarness } from "./harness.ts";

let harness: Harness;
let minedAnvil: AnvilHandle;

beforeAll(async () => {
  harness = await startHarness();
  minedAnvil = await startAnvil({ blockTimeSeconds: 1 });
}, 60_000);

afterAll(async () => {
  await minedAnvil.stop();
  await harness.close();
});

async function blockNumber(url: string): Promise<number> {
  const answer = (await askAnvil(url, {
    jsonrpc: "2.0",
    id: 1,
    method: "eth_blockNumber",
    params: [],
  })) as { result: string };
  return Number.parseInt(answer.result, 16);
}

describe("the API reference", () => {
  test("/docs loads a pinned Scalar version, not @latest", async () => {
    const response = await harness.app.handle(new Request("http://relay.test/docs"));
    const page = await response.text();

    expect(response.status).toBe(200);
    expect(page).toMatch(/@scalar\/api-reference@\d+\.\d+\.\d+\//);
    expect(page).not.toContain("@latest");
  });

  test("/metrics is in the OpenAPI document", async () => {
    const response = await harness.app.handle(new Request("http://relay.test/docs/json"));
    const document = (await response.json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };

    expect(document.paths["/metrics"]?.get?.responses).toHaveProperty("200");
  });
});

describe("the local devnet's chain", () => {
  test("anvil with a block time mines blocks without transactions", async () => {
    let height = await blockNumber(minedAnvil.url);
    // --block-time 1: a block each second; a generous wait keeps a busy machine from failing it.
    for (let attempt = 0; height === 0 && attempt < 100; attempt++) {
      await Bun.sleep(100);
      height = await blockNumber(minedAnvil.url);
    }

    expect(height).toBeGreaterThan(0);
  });

  test("test devnets mine only on transactions, so heights stay put", async () => {
    expect(await blockNumber(harness.anvil.url)).toBe(0);
  });
});

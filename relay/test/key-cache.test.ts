import { describe, expect, test } from "bun:test";
import { apiKeys } from "@viper/db/schema/api-keys";
import { generateApiKey } from "@viper/shared/api-key";
import { eq } from "drizzle-orm";
import { invalidateKey } from "../src/key-invalidation.ts";
import { CHAIN_SLUG, post, rpc, secondRelayApp, useHarness } from "./harness.ts";

// Only key lookups count: usage rows and background jobs (rollups, config sync) write and read
// on their own timers, and under load one of them can land inside a measured window.
const queries: string[] = [];
const countQueries = (query: string) => {
  if (query.includes('"api_keys"')) {
    queries.push(query);
  }
};

const harness = useHarness({ onQuery: countQueries });

/** Runs `work` and returns how many queries it sent to the database. */
async function queriesDuring(work: () => Promise<unknown>): Promise<number> {
  queries.length = 0;
  await work();
  return queries.length;
}

describe("the key cache", () => {
  test("a warm key costs no database query", async () => {
    const first = await post(harness.app, harness.rpcPath, rpc("eth_chainId"));
    expect(first.status).toBe(200);

    const count = await queriesDuring(async () => {
      for (let i = 0; i < 20; i++) {
        expect((await post(harness.app, harness.rpcPath, rpc("eth_chainId", i))).status).toBe(200);
      }
    });

    expect(count).toBe(0);
  });

  test("a malformed key is refused without a database read", async () => {
    const count = await queriesDuring(async () => {
      const answer = await post(harness.app, `/v1/${CHAIN_SLUG}/vpr_live_typo`, rpc("eth_chainId"));
      expect(answer.status).toBe(401);
    });

    expect(count).toBe(0);
  });

  test("an unknown key is remembered, so asking again costs no query", async () => {
    const unknownPath = `/v1/${CHAIN_SLUG}/${generateApiKey().key}`;

    const firstCount = await queriesDuring(() =>
      post(harness.app, unknownPath, rpc("eth_chainId")),
    );
    const againCount = await queriesDuring(async () => {
      expect((await post(harness.app, unknownPath, rpc("eth_chainId"))).status).toBe(401);
    });

    expect(firstCount).toBeGreaterThan(0);
    expect(againCount).toBe(0);
  });

  test("another relay instance sharing the store reads the key from it, not the database", async () => {
    const second = secondRelayApp(harness);
    // Each process reads the (small) chain list once; that read is not what this test is about.
    await second.decorator.relay.chains.resolve(CHAIN_SLUG);

    try {
      const count = await queriesDuring(async () => {
        expect((await post(second, harness.rpcPath, rpc("eth_chainId"))).status).toBe(200);
      });

      expect(count).toBe(0);
    } finally {
      await second.decorator.relay.close();
    }
  });

  test("a published invalidation makes a revocation take effect at once", async () => {
    expect((await post(harness.app, harness.rpcPath, rpc("eth_chainId"))).status).toBe(200);
    await harness.testDb.db
      .update(apiKeys)
      .set({ revokedAt: new Date(Date.now() - 1000) })
      .where(eq(apiKeys.id, harness.project.keyId));
    const stillCached = await post(harness.app, harness.rpcPath, rpc("eth_chainId"));

    await invalidateKey(harness.store, harness.project.apiKey.hash);
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 401; attempt++) {
      status = (await post(harness.app, harness.rpcPath, rpc("eth_chainId"))).status;
      if (status !== 401) {
        await Bun.sleep(20);
      }
    }

    expect(stillCached.status).toBe(200);
    expect(status).toBe(401);
    const answer = await post(harness.app, harness.rpcPath, rpc("eth_chainId"));
    expect(JSON.parse(answer.text).error.code).toBe(-32002);
  });
});

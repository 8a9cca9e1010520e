import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { relayLogs } from "@viper/db/schema/relay-logs";
import type { ServicerBehavior } from "@viper/devnet/devnet";
import { like } from "drizzle-orm";
import { CHAIN_SLUG, type Harness, post, rpc, startHarness } from "./harness.ts";

// Five servicers that each time out at 300 ms take longer than the 1 s deadline, so a session of
// hanging servicers ends at the deadline rather than after trying them all.
let harness: Harness;
let path: string;
let expectedChainId: string;

beforeAll(async () => {
  harness = await startHarness({ limits: { servicerTimeoutMs: 300, deadlineMs: 1_000 } });
  path = `/v1/${CHAIN_SLUG}/${harness.apiKey}`;
  expectedChainId = `0x${harness.anvil.chainId.toString(16)}`;
});

afterAll(async () => {
  await harness.close();
});

afterEach(() => {
  harness.devnet.servicers.forEach((_, index) => {
    harness.devnet.setServicerBehavior(index, "ok");
  });
});

/** Sends `count` relays one after another and returns the ones that did not succeed. */
async function failuresOf(count: number): Promise<string[]> {
  const failures: string[] = [];
  for (let i = 0; i < count; i++) {
    const answer = await post(harness.app, path, rpc("eth_chainId", i));
    const body = JSON.parse(answer.text) as { id?: number; result?: string };
    if (answer.status !== 200 || body.id !== i || body.result !== expectedChainId) {
      failures.push(`${i}: ${answer.status} ${answer.text}`);
    }
  }
  return failures;
}

function setAll(behavior: ServicerBehavior): void {
  harness.devnet.servicers.forEach((_, index) => {
    harness.devnet.setServicerBehavior(index, behavior);
  });
}

describe("servicers that fail", () => {
  test("with one servicer answering HTTP 500, 100 relays in a row all succeed", async () => {
    harness.devnet.setServicerBehavior(2, "error5xx");

    expect(await failuresOf(100)).toEqual([]);
  });

  test("with one servicer signing wrongly, 100 relays in a row all succeed", async () => {
    harness.devnet.setServicerBehavior(0, "badSignature");

    expect(await failuresOf(100)).toEqual([]);
  });

  test("a servicer that hangs is left after its timeout and the relay still succeeds", async () => {
    harness.devnet.setServicerBehavior(4, "hang");

    expect(await failuresOf(20)).toEqual([]);
  });

  test("a slow servicer is steered away from once its latency is known", async () => {
    harness.devnet.setServicerBehavior(1, "slow");
    const slowAddress = harness.devnet.servicers[1]?.address;

    for (let i = 0; i < 30; i++) {
      const answer = await post(harness.app, path, rpc("eth_chainId", i), {
        "x-request-id": `steer-${i}`,
      });
      expect(answer.status).toBe(200);
    }
    await harness.app.decorator.relay.relayLogs.flush();

    const rows = await harness.testDb.db
      .select({ servicer: relayLogs.servicer })
      .from(relayLogs)
      .where(like(relayLogs.requestId, "steer-%"));
    expect(rows).toHaveLength(30);
    expect(rows.filter((row) => row.servicer === slowAddress).length).toBeLessThanOrEqual(1);
  });

  test("when every servicer fails the dApp gets 502 with the portal's code", async () => {
    setAll("error5xx");

    const answer = await post(harness.app, path, rpc("eth_chainId", 12));

    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.text)).toMatchObject({ id: 12, error: { code: -32020 } });
  });

  test("when every servicer signs wrongly the answer is not passed on", async () => {
    setAll("badSignature");

    const answer = await post(harness.app, path, rpc("eth_chainId", 13));

    expect(answer.status).toBe(502);
    expect(answer.text).not.toContain(expectedChainId);
  });

  test("when no servicer answers before the deadline the dApp gets 504", async () => {
    setAll("hang");

    const answer = await post(harness.app, path, rpc("eth_chainId", 14));

    expect(answer.status).toBe(504);
    expect(JSON.parse(answer.text)).toMatchObject({ id: 14, error: { code: -32022 } });
  });

  test("after servicers recover, relays succeed again", async () => {
    setAll("ok");

    expect(await failuresOf(10)).toEqual([]);
  });
});

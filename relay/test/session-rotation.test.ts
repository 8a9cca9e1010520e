import { describe, expect, test } from "bun:test";
import { latestSessionHeight } from "@viper/shared/protocol";
import { BLOCKS_PER_SESSION, CHAIN_ID, post, rpc, useHarness } from "./harness.ts";

// Height polling is effectively off here, so these tests show that the relay recovers from a
// moved chain through the servicers' answers alone, whatever the poll timing.
const harness = useHarness({ heightPollMs: 600_000 });

async function chainIdStatus(id: number): Promise<number> {
  const answer = await post(harness.app, harness.rpcPath, rpc("eth_chainId", id));
  expect(JSON.parse(answer.text)).toMatchObject({ id });
  return answer.status;
}

describe("sessions that end", () => {
  test("relays keep succeeding while the chain moves through several sessions", async () => {
    const statuses: number[] = [];
    statuses.push(await chainIdStatus(0));

    for (let block = 1; block <= BLOCKS_PER_SESSION * 3; block++) {
      harness.devnet.advance();
      statuses.push(await chainIdStatus(block));
    }

    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(statuses).toHaveLength(BLOCKS_PER_SESSION * 3 + 1);
  });

  test("a jump of several sessions at once is caught up on the next request", async () => {
    harness.devnet.advance(BLOCKS_PER_SESSION * 5 + 1);

    expect(await chainIdStatus(100)).toBe(200);
    const session = await harness.app.decorator.relay.sessions.current(CHAIN_ID, "0001");
    expect(session.session.header.session_height).toBe(
      latestSessionHeight(harness.devnet.height(), BLOCKS_PER_SESSION),
    );
  });

  test("a jump of a few blocks inside one session is caught up too", async () => {
    while (harness.devnet.height() % BLOCKS_PER_SESSION !== 1) {
      harness.devnet.advance();
    }
    expect(await chainIdStatus(101)).toBe(200);

    // Three blocks on is still the same session, but further than a servicer accepts from
    // meta.block_height; the relay must notice that and catch up.
    harness.devnet.advance(BLOCKS_PER_SESSION - 1);

    expect(await chainIdStatus(102)).toBe(200);
  });
});

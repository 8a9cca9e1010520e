import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CHAIN_ID, freePortUrl, type Harness, post, rpc, startHarness } from "./harness.ts";
import {
  oddAnswer,
  type PlainNode,
  servicerLogged,
  startPlainNode,
} from "./plain-upstream-fixtures.ts";

// A chain the devnet does not serve: the relay can only answer it from its plain endpoints.
const PLAIN_CHAIN = { id: "0b01", slug: "plain-chain", name: "A chain on plain endpoints" };
// A second one whose only endpoint is down, and a third with a dead endpoint listed first.
const DEAD_CHAIN = { id: "0b02", slug: "dead-chain", name: "A chain whose endpoint is down" };
const MIXED_CHAIN = { id: "0b03", slug: "mixed-chain", name: "A dead and a live endpoint" };

let harness: Harness;
let node: PlainNode;
let deadUrl: string;

beforeAll(async () => {
  node = startPlainNode("0xplain");
  deadUrl = await freePortUrl();
  harness = await startHarness({
    extraChains: [PLAIN_CHAIN, DEAD_CHAIN, MIXED_CHAIN],
    projectChains: [CHAIN_ID, PLAIN_CHAIN.id, DEAD_CHAIN.id, MIXED_CHAIN.id],
    plainUpstreams: {
      [PLAIN_CHAIN.id]: [node.url],
      [DEAD_CHAIN.id]: [deadUrl],
      [MIXED_CHAIN.id]: [deadUrl, node.url],
    },
    limits: { servicerTimeoutMs: 500, deadlineMs: 3_000 },
  });
});

afterAll(async () => {
  await harness.close();
  await node.stop();
});

function pathOf(chain: { slug: string }): string {
  return `/v1/${chain.slug}/${harness.apiKey}`;
}

describe("a chain served only by plain endpoints", () => {
  test("a request gets the endpoint's answer byte for byte, and the endpoint got the body as sent", async () => {
    const body = '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}';
    const received = node.bodies.length;

    const answer = await post(harness.app, pathOf(PLAIN_CHAIN), body, {
      "x-request-id": "plain-single",
    });

    expect(answer.status).toBe(200);
    expect(answer.text).toBe(oddAnswer("0xplain"));
    expect(node.bodies.slice(received)).toEqual([body]);
  });

  test("a batch goes as one body and comes back as the endpoint wrote it", async () => {
    const batch = [rpc("eth_chainId", 1), rpc("eth_blockNumber", 2)];
    const upstreamText =
      '[{"jsonrpc":"2.0","id":1,"result":"0x1"} , {"jsonrpc":"2.0","id":2,"result":"0x2"}]';
    node.answerWith(200, upstreamText);

    try {
      const answer = await post(harness.app, pathOf(PLAIN_CHAIN), batch);

      expect(answer.status).toBe(200);
      expect(answer.text).toBe(upstreamText);
      expect(node.bodies.at(-1)).toBe(JSON.stringify(batch));
    } finally {
      node.answerWith(200, oddAnswer("0xplain"));
    }
  });

  test("the relay log names the endpoint by its place in the list, and no log line has its URL", async () => {
    const answer = await post(harness.app, pathOf(PLAIN_CHAIN), rpc("eth_blockNumber"), {
      "x-request-id": "plain-logged",
    });

    expect(answer.status).toBe(200);
    expect(await servicerLogged(harness, "plain-logged")).toBe("plain:0");
    expect(harness.logLines.join("\n")).not.toContain("secret-path-token");
  });

  test("a dead endpoint listed first is passed over and every request is answered", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const answer = await post(harness.app, pathOf(MIXED_CHAIN), rpc("eth_blockNumber"), {
        "x-request-id": `plain-mixed-${i}`,
      });
      statuses.push(answer.status);
      expect(answer.text).toBe(oddAnswer("0xplain"));
    }

    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await servicerLogged(harness, "plain-mixed-5")).toBe("plain:1");
  });

  test("an endpoint answering HTTP 503 counts as failed: with no other, the dApp gets 502 -32020", async () => {
    node.answerWith(503, "upstream busy");

    try {
      const answer = await post(harness.app, pathOf(PLAIN_CHAIN), rpc("eth_blockNumber", 5));

      expect(answer.status).toBe(502);
      expect(JSON.parse(answer.text)).toMatchObject({ id: 5, error: { code: -32020 } });
      expect(answer.text).not.toContain("upstream busy");
    } finally {
      node.answerWith(200, oddAnswer("0xplain"));
    }
  });

  test("when the only endpoint is down the dApp gets 502 with the portal's code", async () => {
    const answer = await post(harness.app, pathOf(DEAD_CHAIN), rpc("eth_blockNumber", 7));

    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.text)).toMatchObject({ id: 7, error: { code: -32020 } });
    expect(answer.text).not.toContain(deadUrl);
  });

  test("the Viper chain of the same relay is still served by Viper", async () => {
    const received = node.bodies.length;

    const answer = await post(
      harness.app,
      `/v1/${CHAIN_ID}/${harness.apiKey}`,
      rpc("eth_chainId"),
      {
        "x-request-id": "viper-beside-plain",
      },
    );

    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ id: 1, result: expect.any(String) });
    expect(node.bodies.length).toBe(received);
    const servicers = harness.devnet.servicers.map((servicer) => servicer.address);
    expect(servicers).toContain(
      (await servicerLogged(harness, "viper-beside-plain")) ?? "no servicer logged",
    );
  });
});

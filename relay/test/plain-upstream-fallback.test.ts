import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { ServicerBehavior } from "@viper/devnet/devnet";
import { CHAIN_ID, CHAIN_SLUG, type Harness, post, rpc, startHarness } from "./harness.ts";
import {
  oddAnswer,
  type PlainNode,
  servicerLogged,
  startPlainNode,
} from "./plain-upstream-fixtures.ts";

// The devnet chain, with a plain endpoint configured as its fallback.
let harness: Harness;
let node: PlainNode;
let path: string;

beforeAll(async () => {
  node = startPlainNode("0xfallback");
  harness = await startHarness({
    plainUpstreams: { [CHAIN_ID]: [node.url] },
    limits: { servicerTimeoutMs: 500, deadlineMs: 5_000 },
  });
  path = `/v1/${CHAIN_SLUG}/${harness.apiKey}`;
});

afterAll(async () => {
  await harness.close();
  await node.stop();
});

afterEach(() => {
  setAll("ok");
});

function setAll(behavior: ServicerBehavior): void {
  harness.devnet.servicers.forEach((_, index) => {
    harness.devnet.setServicerBehavior(index, behavior);
  });
}

describe("a Viper chain with a plain fallback", () => {
  test("while servicers answer, the relay goes to Viper and leaves the plain endpoint alone", async () => {
    const received = node.bodies.length;

    const answer = await post(harness.app, path, rpc("eth_chainId"), {
      "x-request-id": "fallback-viper-ok",
    });

    expect(answer.status).toBe(200);
    expect(answer.text).not.toContain("0xfallback");
    expect(node.bodies.length).toBe(received);
    const servicers = harness.devnet.servicers.map((servicer) => servicer.address);
    expect(servicers).toContain(
      (await servicerLogged(harness, "fallback-viper-ok")) ?? "no servicer logged",
    );
  });

  test("when all five servicers answer HTTP 500, the plain endpoint's answer comes back byte for byte", async () => {
    setAll("error5xx");
    const body = JSON.stringify(rpc("eth_blockNumber", 1));

    const answer = await post(harness.app, path, body, { "x-request-id": "fallback-5xx" });

    expect(answer.status).toBe(200);
    expect(answer.text).toBe(oddAnswer("0xfallback"));
    expect(node.bodies.at(-1)).toBe(body);
    expect(await servicerLogged(harness, "fallback-5xx")).toBe("plain:0");
  });

  test("the fallback is logged at warn, naming the chain and not the endpoint", async () => {
    setAll("error5xx");

    await post(harness.app, path, rpc("eth_blockNumber"), { "x-request-id": "fallback-logged" });

    const lines = harness.logLines
      .map((line) => JSON.parse(line) as { level: number; msg: string; requestId?: string })
      .filter((line) => line.requestId === "fallback-logged");
    const fallback = lines.find((line) => line.msg.includes("falling back to plain upstreams"));
    expect(fallback).toMatchObject({ level: 40, chain: CHAIN_ID });
    expect(harness.logLines.join("\n")).not.toContain("secret-path-token");
  });

  test("when the servicers and the plain endpoint all fail, the dApp gets 502 -32020", async () => {
    setAll("error5xx");
    node.answerWith(500, "down too");

    try {
      const answer = await post(harness.app, path, rpc("eth_blockNumber", 9));

      expect(answer.status).toBe(502);
      expect(JSON.parse(answer.text)).toMatchObject({ id: 9, error: { code: -32020 } });
    } finally {
      node.answerWith(200, oddAnswer("0xfallback"));
    }
  });

  test("after the servicers recover, relays go back to Viper", async () => {
    setAll("ok");
    const received = node.bodies.length;

    for (let i = 0; i < 5; i++) {
      const answer = await post(harness.app, path, rpc("eth_chainId", i));
      expect(answer.status).toBe(200);
      expect(answer.text).not.toContain("0xfallback");
    }

    expect(node.bodies.length).toBe(received);
  });
});

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { KeyPair } from "@viper/shared/protocol";
import {
  buildRelay,
  dispatchResponseSchema,
  encodeRelay,
  generateKeyPair,
  relayErrorSchema,
  signAat,
} from "@viper/shared/protocol";
import type { Devnet } from "../src/devnet.ts";
import { RefusalCode, startDevnet } from "../src/devnet.ts";

const CHAIN = "0021";
const ZONE = "0001";

let devnet: Devnet;
let staked: KeyPair;

beforeAll(async () => {
  staked = generateKeyPair();
  devnet = await startDevnet({
    anvil: true,
    chains: [{ id: CHAIN }],
    servicerCount: 3,
    requestors: [staked.publicKeyHex],
    blockTimeMs: 3_600_000,
  });
});

afterAll(async () => {
  await devnet.stop();
});

async function relayBody(requestor: KeyPair, servicerPublicKeyHex: string, blockHeight: number) {
  const { session } = await dispatchOne(requestor);
  return encodeRelay(
    buildRelay({
      payload: {
        data: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}',
        method: "POST",
        path: "",
      },
      blockHeight,
      sessionBlockHeight: session.header.session_height,
      servicerPublicKeyHex,
      chain: CHAIN,
      zone: ZONE,
      numServicers: session.header.num_servicers,
      aat: signAat(requestor.publicKeyHex, requestor),
      client: requestor,
    }),
  );
}

async function dispatchOne(requestor: KeyPair) {
  const response = await fetch(`${devnet.dispatcherUrl}/v1/client/dispatch`, {
    method: "POST",
    body: JSON.stringify({
      requestor_public_key: requestor.publicKeyHex,
      chain: CHAIN,
      zone: ZONE,
      num_servicers: 1,
      session_height: 0,
    }),
  });
  return dispatchResponseSchema.parse(await response.json());
}

async function refusalCode(url: string, body: string): Promise<number | undefined> {
  const response = await fetch(`${url}/v1/client/relay`, { method: "POST", body });
  expect(response.status).toBe(400);
  return relayErrorSchema.parse(await response.json()).error.code;
}

function servicerOutside(sessionKeys: string[]) {
  const outsider = devnet.servicers.find((s) => !sessionKeys.includes(s.publicKeyHex));
  if (outsider === undefined) {
    throw new Error("every servicer is in the session");
  }
  return outsider;
}

test("the height endpoint answers the shared height and follows advance()", async () => {
  const before = devnet.height();
  devnet.advance(2);

  const response = await fetch(`${devnet.servicers[0]?.url}/v1/query/height`, {
    method: "POST",
    body: "{}",
  });

  expect(await response.json()).toEqual({ height: before + 2 });
});

test("a requestor missing from the staked list is refused", async () => {
  const stranger = generateKeyPair();
  const { session } = await dispatchOne(stranger);
  const servicer = session.servicers[0];
  expect(servicer).toBeDefined();

  const body = await relayBody(stranger, servicer?.public_key ?? "", devnet.height());

  expect(await refusalCode(servicer?.service_url ?? "", body)).toBe(RefusalCode.requestorNotStaked);
});

test("a servicer outside the session refuses a relay addressed to it", async () => {
  const { session } = await dispatchOne(staked);
  expect(session.servicers).toHaveLength(1);
  const outsider = servicerOutside(session.servicers.map((node) => node.public_key));

  const body = await relayBody(staked, outsider.publicKeyHex, devnet.height());

  expect(await refusalCode(outsider.url, body)).toBe(RefusalCode.servicerNotInSession);
});

test("a relay whose meta.block_height is more than two blocks ahead is refused", async () => {
  const { session } = await dispatchOne(staked);
  const servicer = session.servicers[0];

  const body = await relayBody(staked, servicer?.public_key ?? "", devnet.height() + 3);

  expect(await refusalCode(servicer?.service_url ?? "", body)).toBe(
    RefusalCode.blockHeightOutOfRange,
  );
});

test("stop() answers relays left hanging and shuts anvil and every node down", async () => {
  const { session } = await dispatchOne(staked);
  const servicer = session.servicers[0];
  const index = devnet.servicers.findIndex((s) => s.publicKeyHex === servicer?.public_key);
  devnet.setServicerBehavior(index, "hang");
  const body = await relayBody(staked, servicer?.public_key ?? "", devnet.height());
  const hanging = fetch(`${servicer?.service_url}/v1/client/relay`, { method: "POST", body }).then(
    (response) => response.status,
    () => "connection closed",
  );

  // Give the request time to reach the servicer, so stop() finds it hanging.
  await Bun.sleep(200);
  await devnet.stop();

  expect(await hanging).toBe(503);
  const anvilUrl = devnet.anvil?.url ?? "";
  await expect(fetch(anvilUrl, { method: "POST", body: "{}" })).rejects.toThrow();
  await expect(
    fetch(`${devnet.dispatcherUrl}/v1/query/height`, { method: "POST" }),
  ).rejects.toThrow();
});

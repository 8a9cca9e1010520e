import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DispatchResponse, KeyPair, Relay } from "@viper/shared/protocol";
import {
  aatHash,
  buildRelay,
  dispatchResponseSchema,
  encodeRelay,
  generateKeyPair,
  latestSessionHeight,
  proofHash,
  relayErrorSchema,
  relayResponseSchema,
  signAat,
  signHash,
  verifyResponse,
} from "@viper/shared/protocol";
import type { Devnet } from "../src/devnet.ts";
import { RefusalCode, startDevnet } from "../src/devnet.ts";

const CHAIN = "0021";
const ZONE = "0001";
const BLOCKS_PER_SESSION = 4;
const CHAIN_ID_REQUEST = JSON.stringify({
  jsonrpc: "2.0",
  id: 7,
  method: "eth_chainId",
  params: [],
});

let devnet: Devnet;
let requestor: KeyPair;

beforeAll(async () => {
  // Blocks only move when a test calls advance(), so no relay goes stale by accident.
  devnet = await startDevnet({
    anvil: true,
    chains: [{ id: CHAIN }],
    blocksPerSession: BLOCKS_PER_SESSION,
    blockTimeMs: 3_600_000,
  });
  requestor = generateKeyPair();
});

afterAll(async () => {
  await devnet.stop();
});

async function post(url: string, body: string): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  return { status: response.status, json: await response.json() };
}

async function dispatch(): Promise<DispatchResponse> {
  const header = {
    requestor_public_key: requestor.publicKeyHex,
    chain: CHAIN,
    zone: ZONE,
    num_servicers: 5,
    session_height: 0,
  };
  const { status, json } = await post(
    `${devnet.dispatcherUrl}/v1/client/dispatch`,
    JSON.stringify(header),
  );
  expect(status).toBe(200);
  return dispatchResponseSchema.parse(json);
}

/** A relay for servicer `index` of the current session, signed by the requestor as client. */
async function relayForCurrentSession(index = 0): Promise<{ relay: Relay; serviceUrl: string }> {
  const { session, block_height } = await dispatch();
  const servicer = session.servicers[index];
  if (servicer === undefined) {
    throw new Error(`session has no servicer ${index}`);
  }
  const relay = buildRelay({
    payload: { data: CHAIN_ID_REQUEST, method: "POST", path: "" },
    blockHeight: block_height,
    sessionBlockHeight: session.header.session_height,
    servicerPublicKeyHex: servicer.public_key,
    chain: CHAIN,
    zone: ZONE,
    numServicers: session.header.num_servicers,
    aat: signAat(requestor.publicKeyHex, requestor),
    client: requestor,
  });
  return { relay, serviceUrl: servicer.service_url };
}

function sendRelay(serviceUrl: string, relay: Relay) {
  return post(`${serviceUrl}/v1/client/relay`, encodeRelay(relay));
}

describe("devnet dispatch", () => {
  test("the session holds every servicer when num_servicers equals the servicer count", async () => {
    const { session, block_height } = await dispatch();

    expect(block_height).toBe(devnet.height());
    expect(session.header.session_height).toBe(
      latestSessionHeight(devnet.height(), BLOCKS_PER_SESSION),
    );
    const keys = session.servicers.map((node) => node.public_key).sort();
    expect(keys).toEqual(devnet.servicers.map((servicer) => servicer.publicKeyHex).sort());
  });
});

describe("devnet relays", () => {
  test("a relay for the current session is answered by anvil and signed by the servicer", async () => {
    const { relay, serviceUrl } = await relayForCurrentSession();

    const { status, json } = await sendRelay(serviceUrl, relay);

    expect(status).toBe(200);
    const answer = relayResponseSchema.parse(json);
    const chainId = devnet.anvil?.chainId ?? -1;
    expect(JSON.parse(answer.response)).toMatchObject({
      id: 7,
      result: `0x${chainId.toString(16)}`,
    });
    const signedBy = relay.proof.servicer_pub_key;
    expect(
      verifyResponse(answer.response, proofHash(relay.proof), answer.signature, signedBy),
    ).toBe(true);
  });

  test("a relay whose payload changed after signing is refused", async () => {
    const { relay, serviceUrl } = await relayForCurrentSession();
    const tampered = {
      ...relay,
      payload: { ...relay.payload, data: CHAIN_ID_REQUEST.replace("eth_chainId", "eth_accounts") },
    };

    const { status, json } = await sendRelay(serviceUrl, tampered);

    expect(status).toBe(400);
    expect(relayErrorSchema.parse(json).error.code).toBe(RefusalCode.requestHashMismatch);
  });

  test("a relay whose proof is signed by a key other than the aat's client is refused", async () => {
    const { relay, serviceUrl } = await relayForCurrentSession();
    const forged = {
      ...relay,
      proof: { ...relay.proof, signature: signHash(proofHash(relay.proof), generateKeyPair()) },
    };

    const { status, json } = await sendRelay(serviceUrl, forged);

    expect(status).toBe(400);
    expect(relayErrorSchema.parse(json).error.code).toBe(RefusalCode.invalidProofSignature);
  });

  test("a forged aat signature is refused even after the same keys' valid token was served", async () => {
    const { relay, serviceUrl } = await relayForCurrentSession();
    expect((await sendRelay(serviceUrl, relay)).status).toBe(200);
    const { relay: next } = await relayForCurrentSession();
    const forgedAat = {
      ...next.proof.aat,
      signature: signHash(aatHash(next.proof.aat), generateKeyPair()),
    };
    // The aat hash leaves the signature out, so the proof's own signature stays valid.
    const forged = { ...next, proof: { ...next.proof, aat: forgedAat } };

    const { status, json } = await sendRelay(serviceUrl, forged);

    expect(status).toBe(400);
    expect(relayErrorSchema.parse(json).error.code).toBe(RefusalCode.invalidAatSignature);
  });

  test("a relay for a past session is refused with the new session attached", async () => {
    const { relay, serviceUrl } = await relayForCurrentSession();
    devnet.advance(BLOCKS_PER_SESSION);

    const { status, json } = await sendRelay(serviceUrl, relay);

    expect(status).toBe(400);
    const refusal = relayErrorSchema.parse(json);
    expect(refusal.error.code).toBe(RefusalCode.sessionHeightMismatch);
    const newSessionHeight = latestSessionHeight(devnet.height(), BLOCKS_PER_SESSION);
    expect(newSessionHeight).toBeGreaterThan(relay.proof.session_block_height);
    expect(refusal.dispatch?.session.header.session_height).toBe(newSessionHeight);
    expect(refusal.dispatch?.session.header.requestor_public_key).toBe(requestor.publicKeyHex);
    expect(refusal.dispatch?.session.servicers.length).toBe(5);
  });

  test("a relay replayed with the same entropy is refused the second time", async () => {
    const { relay, serviceUrl } = await relayForCurrentSession();

    const first = await sendRelay(serviceUrl, relay);
    const replay = await sendRelay(serviceUrl, relay);

    expect(first.status).toBe(200);
    expect(replay.status).toBe(400);
    expect(relayErrorSchema.parse(replay.json).error.code).toBe(RefusalCode.entropyReused);
  });
});

describe("devnet misbehaving servicers", () => {
  test("a servicer in error5xx mode answers relays with a 5xx status", async () => {
    const { relay, serviceUrl } = await relayForCurrentSession(0);
    const index = devnet.servicers.findIndex(
      (s) => s.publicKeyHex === relay.proof.servicer_pub_key,
    );
    devnet.setServicerBehavior(index, "error5xx");

    try {
      const { status } = await sendRelay(serviceUrl, relay);
      expect(status).toBeGreaterThanOrEqual(500);
      expect(status).toBeLessThan(600);
    } finally {
      devnet.setServicerBehavior(index, "ok");
    }
  });

  test("a servicer in badSignature mode answers with a signature that does not verify", async () => {
    const { relay, serviceUrl } = await relayForCurrentSession(1);
    const index = devnet.servicers.findIndex(
      (s) => s.publicKeyHex === relay.proof.servicer_pub_key,
    );
    devnet.setServicerBehavior(index, "badSignature");

    try {
      const { status, json } = await sendRelay(serviceUrl, relay);
      expect(status).toBe(200);
      const answer = relayResponseSchema.parse(json);
      const signedBy = relay.proof.servicer_pub_key;
      expect(
        verifyResponse(answer.response, proofHash(relay.proof), answer.signature, signedBy),
      ).toBe(false);
    } finally {
      devnet.setServicerBehavior(index, "ok");
    }
  });
});

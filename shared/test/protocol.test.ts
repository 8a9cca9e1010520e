import { describe, expect, test } from "bun:test";
import type { KeyPair, Relay } from "@viper/shared/protocol";
import {
  aatHash,
  buildRelay,
  decodeRelay,
  dispatchResponseSchema,
  encodeAat,
  encodeRelay,
  encodeSignedRelay,
  generateKeyPair,
  goQuote,
  keyPairFromPrivateKey,
  ProtocolError,
  proofHash,
  randomEntropy,
  relayErrorSchema,
  relayProblem,
  signAat,
  signRelay,
  signResponse,
  verifyAat,
  verifyHashSignature,
  verifyRelay,
  verifyResponse,
} from "@viper/shared/protocol";

const requestor = generateKeyPair();
const client = generateKeyPair();
const servicer = generateKeyPair();
const aat = signAat(requestor.publicKeyHex, client);

function relayFor(data: string, entropy?: bigint): Relay {
  return buildRelay({
    payload: { data, method: "POST", path: "", headers: { "Content-Type": "application/json" } },
    blockHeight: 1205,
    sessionBlockHeight: 1201,
    servicerPublicKeyHex: servicer.publicKeyHex,
    chain: "0021",
    zone: "0001",
    numServicers: 5,
    aat,
    client,
    entropy,
  });
}

function protocolErrorOf(run: () => unknown): ProtocolError {
  try {
    run();
  } catch (error) {
    if (error instanceof ProtocolError) {
      return error;
    }
    throw error;
  }
  throw new Error("expected a ProtocolError, nothing was thrown");
}

describe("relay round trip", () => {
  test("a built relay survives encode and decode and still verifies", () => {
    const relay = relayFor('{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}');

    const decoded = decodeRelay(encodeRelay(relay));

    expect(decoded).toEqual(relay);
    expect(verifyRelay(decoded)).toBe(true);
    expect(proofHash(decoded.proof)).toBe(proofHash(relay.proof));
  });

  test("entropy at the top of the 64-bit range is written and read back digit for digit", () => {
    const relay = relayFor("{}", 18446744073709551615n);

    const body = encodeRelay(relay);
    const decoded = decodeRelay(body);

    expect(body).toContain('"entropy":18446744073709551615,');
    expect(decoded.proof.entropy).toBe(18446744073709551615n);
    expect(verifyRelay(decoded)).toBe(true);
  });

  test("a servicer's signed answer verifies against the relay's proof hash", () => {
    const relay = relayFor("{}");
    const hash = proofHash(relay.proof);
    const answer = '{"jsonrpc":"2.0","id":1,"result":"0x1"}';

    const signature = signResponse(answer, hash, servicer);

    expect(verifyResponse(answer, hash, signature, servicer.publicKeyHex)).toBe(true);
    expect(verifyResponse(`${answer} `, hash, signature, servicer.publicKeyHex)).toBe(false);
    expect(verifyResponse(answer, hash, signature, client.publicKeyHex)).toBe(false);
  });

  test("random entropies are fresh and stay below 2^63", () => {
    const values = Array.from({ length: 32 }, () => randomEntropy());

    expect(new Set(values).size).toBe(values.length);
    for (const value of values) {
      expect(value >= 0n && value < 1n << 63n).toBe(true);
    }
  });
});

describe("signing a relay to send", () => {
  test("signRelay gives the relay buildRelay gives, its proof hash, and the same wire text", () => {
    for (const headers of [null, { "Content-Type": "application/json", "X-Á": "<&>" }]) {
      const input = {
        payload: {
          data: '{"id":1,"method":"eth_call","params":["<\u2028>"]}',
          method: "POST",
          path: "",
          headers,
        },
        blockHeight: 1205,
        sessionBlockHeight: 1201,
        servicerPublicKeyHex: servicer.publicKeyHex,
        chain: "0021",
        zone: "0001",
        numServicers: 5,
        aat,
        client,
        entropy: 9_007_199_254_740_993n,
      };

      const signed = signRelay(input);

      expect(signed.relay).toEqual(buildRelay(input));
      expect(signed.proofHash).toBe(proofHash(signed.relay.proof));
      expect(encodeSignedRelay(signed)).toBe(encodeRelay(signed.relay));
      expect(verifyRelay(decodeRelay(encodeSignedRelay(signed)))).toBe(true);
    }
  });

  test("a token changed in place is hashed and encoded anew", () => {
    const token = { ...aat };
    const hashBefore = aatHash(token);
    const wireBefore = encodeAat(token);

    token.requestor_pub_key = servicer.publicKeyHex;

    expect(aatHash(token)).not.toBe(hashBefore);
    expect(aatHash(token)).toBe(aatHash({ ...token }));
    expect(encodeAat(token)).not.toBe(wireBefore);
    expect(encodeAat(token)).toContain(servicer.publicKeyHex);
    expect(encodeAat(token, "")).toBe(encodeAat({ ...token, signature: "" }));
  });
});

describe("tampering is detected", () => {
  test("a changed payload no longer matches the request hash", () => {
    const relay = relayFor('{"method":"eth_blockNumber"}');
    const tampered = { ...relay, payload: { ...relay.payload, data: '{"method":"eth_call"}' } };

    expect(relayProblem(tampered)).toBe("request hash does not match payload and meta");
  });

  test("a changed proof field breaks the client's signature", () => {
    const relay = relayFor("{}");
    const tampered = { ...relay, proof: { ...relay.proof, entropy: relay.proof.entropy + 1n } };

    expect(relayProblem(tampered)).toBe("proof signature is invalid");
  });

  test("a flipped signature byte is refused, and malformed signatures do not throw", () => {
    const relay = relayFor("{}");
    const hash = proofHash(relay.proof);
    const flipped =
      (relay.proof.signature.startsWith("0") ? "1" : "0") + relay.proof.signature.slice(1);

    expect(verifyHashSignature(hash, relay.proof.signature, client.publicKeyHex)).toBe(true);
    expect(verifyHashSignature(hash, flipped, client.publicKeyHex)).toBe(false);
    expect(verifyHashSignature(hash, "zz", client.publicKeyHex)).toBe(false);
    expect(verifyHashSignature(hash, relay.proof.signature, "00".repeat(32))).toBe(false);
  });

  test("an AAT naming another requestor fails verification", () => {
    const forged = { ...aat, requestor_pub_key: servicer.publicKeyHex };

    expect(verifyAat(aat)).toBe(true);
    expect(verifyAat(forged)).toBe(false);
    expect(
      relayProblem({ ...relayFor("{}"), proof: { ...relayFor("{}").proof, aat: forged } }),
    ).toBe("aat signature is invalid");
  });
});

describe("decodeRelay refuses bad input", () => {
  const good = JSON.parse(encodeRelay(relayFor("{}", 7n))) as {
    proof: Record<string, unknown>;
    meta: Record<string, unknown>;
  };
  const withProof = (patch: Record<string, unknown>) =>
    JSON.stringify({ ...good, proof: { ...good.proof, ...patch } });

  const cases: Array<[string, string, string]> = [
    ["text that is not JSON", "{not json", "not valid JSON"],
    ["an empty object", "{}", "payload"],
    ["a servicer key that is not hex", withProof({ servicer_pub_key: "xyz" }), "servicer_pub_key"],
    ["a short request hash", withProof({ request_hash: "abcd" }), "request_hash"],
    ["a negative entropy", withProof({ entropy: -1 }), "entropy"],
    ["a fractional entropy", withProof({ entropy: 1.5 }), "entropy"],
    ["entropy as a string", withProof({ entropy: "7" }), "entropy"],
    ["a chain id of 5 bytes", withProof({ blockchain: "0000000001" }), "blockchain"],
    ["zero servicers", withProof({ num_servicers: 0 }), "num_servicers"],
    [
      "a negative block height",
      JSON.stringify({ ...good, meta: { block_height: -3 } }),
      "block_height",
    ],
  ];

  for (const [name, body, mention] of cases) {
    test(`refuses ${name}`, () => {
      const error = protocolErrorOf(() => decodeRelay(body));

      expect(error.code).toBe("bad_relay");
      expect(error.message).toContain(mention);
    });
  }

  test("refuses entropy beyond 64 bits", () => {
    const body = encodeRelay(relayFor("{}", 7n)).replace(
      '"entropy":7',
      '"entropy":18446744073709551616',
    );

    expect(protocolErrorOf(() => decodeRelay(body)).code).toBe("bad_relay");
  });
});

describe("keys", () => {
  test("a generated key pair round-trips through its private key", () => {
    const pair: KeyPair = generateKeyPair();

    expect(keyPairFromPrivateKey(pair.privateKeyHex)).toEqual(pair);
    expect(keyPairFromPrivateKey(pair.privateKeyHex.toUpperCase())).toEqual(pair);
  });

  const badKeys: Array<[string, string]> = [
    ["an empty string", ""],
    ["non-hex characters", "g".repeat(128)],
    ["an odd length", "a".repeat(63)],
    ["a 48-byte key", "ab".repeat(48)],
    ["a 0x prefix", `0x${"ab".repeat(32)}`],
    ["a public half from another key", client.privateKeyHex.slice(0, 64) + servicer.publicKeyHex],
  ];
  for (const [name, hex] of badKeys) {
    test(`keyPairFromPrivateKey refuses ${name}`, () => {
      expect(protocolErrorOf(() => keyPairFromPrivateKey(hex)).code).toBe("bad_key");
    });
  }
});

describe("Go JSON strings", () => {
  test("escapes what Go escapes and keeps the rest", () => {
    expect(goQuote('a<b>&c "q" \\')).toBe('"a\\u003cb\\u003e\\u0026c \\"q\\" \\\\"');
    expect(goQuote("\u2028\u2029")).toBe('"\\u2028\\u2029"');
    expect(goQuote("\n\r\t\u0001\u001f\u007f")).toBe('"\\n\\r\\t\\u0001\\u001f\u007f"');
    expect(goQuote("héllo 😀")).toBe('"héllo 😀"');
  });

  test("a lone surrogate becomes U+FFFD, as a servicer sees it after decoding", () => {
    expect(goQuote("a\ud800b\udc00")).toBe('"a\ufffdb\ufffd"');
  });
});

describe("dispatch schemas", () => {
  const node = {
    address: "ab".repeat(20),
    public_key: "cd".repeat(32),
    jailed: false,
    paused: false,
    status: 2,
    chains: ["0021"],
    service_url: "http://127.0.0.1:8081",
    tokens: "1000000",
    geo_zone: ["0001"],
    output_address: "keep me",
  };
  const dispatch = {
    session: {
      header: {
        requestor_public_key: requestor.publicKeyHex,
        chain: "0021",
        zone: "0001",
        num_servicers: 1,
        session_height: 1201,
      },
      key: "a2V5",
      servicers: [node],
      fishermen: null,
    },
    block_height: 1205,
  };

  test("a dispatch answer parses, keeping unknown node fields and reading null lists as empty", () => {
    const parsed = dispatchResponseSchema.parse(dispatch);

    expect(parsed.session.servicers[0]?.output_address).toBe("keep me");
    expect(parsed.session.fishermen).toEqual([]);
  });

  test("a relay error carries the new session, or null", () => {
    const moved = relayErrorSchema.parse({ error: { code: 60, message: "bad session" }, dispatch });
    const plain = relayErrorSchema.parse({ error: { message: "boom" } });

    expect(moved.dispatch?.session.header.session_height).toBe(1201);
    expect(plain.dispatch).toBeNull();
  });
});

import { describe, expect, test } from "bun:test";
import type { Aat, KeyPair, RelayPayload, RelayProof } from "@viper/shared/protocol";
import {
  aatHash,
  addressOf,
  buildRelay,
  keyPairFromPrivateKey,
  latestSessionHeight,
  proofHash,
  proofHashPreimage,
  requestHash,
  requestHashPreimage,
  responseHash,
  responseHashPreimage,
  sha3Hex,
  signAat,
  signHash,
  signResponse,
  verifyAat,
  verifyResponse,
} from "@viper/shared/protocol";

// The vectors live in the `shared` folder beside the repository root, not inside it.
const vectorsUrl = new URL("../../../shared/protocol/viper-vectors.json", import.meta.url);
const vectorsFile = Bun.file(vectorsUrl);
if (!(await vectorsFile.exists())) {
  throw new Error(
    `Viper conformance vectors not found at ${vectorsUrl.pathname}; they are expected in the shared folder beside the repo root`,
  );
}
const vectorsText = await vectorsFile.text();

interface KeyVector {
  seed_hex: string;
  private_key_hex: string;
  public_key_hex: string;
  address_hex: string;
}
interface AatVector {
  hash: string;
  hash_preimage: string;
  signed_by: "client" | "requestor";
  token: Aat;
}
interface RelayVector {
  input: {
    name: string;
    data: string;
    method: string;
    path: string;
    headers: Record<string, string> | null;
    block_height: number;
    session_block_height: number;
    blockchain: string;
    zone: string;
    num_servicers: number;
    servicer_response: string;
  };
  request_hash_preimage: string;
  request_hash: string;
  proof_hash_preimage: string;
  proof_hash: string;
  proof_signature_by_client: string;
  response_hash_preimage: string;
  response_hash: string;
  response_signature_by_servicer: string;
}
interface Vectors {
  aat: AatVector;
  aat_requestor_is_client: AatVector;
  keys: Record<"client" | "requestor" | "servicer", KeyVector>;
  relays: RelayVector[];
  sessions: Array<{
    height: number;
    blocks_per_session: number;
    latest_session_block_height: number;
  }>;
}

const vectors = JSON.parse(vectorsText) as Vectors;

// JSON.parse would round 9007199254740993 to a double, so entropies are read from the raw text.
const entropies = [...vectorsText.matchAll(/"entropy":\s*(\d+)/g)].map((match) =>
  BigInt(match[1] ?? ""),
);

function key(name: keyof Vectors["keys"]): KeyPair {
  const vector = vectors.keys[name];
  return keyPairFromPrivateKey(vector.private_key_hex);
}

describe("vector keys", () => {
  for (const [name, vector] of Object.entries(vectors.keys)) {
    test(`${name} key derives from its private key and from its seed alone`, () => {
      const fromPrivate = keyPairFromPrivateKey(vector.private_key_hex);
      const fromSeed = keyPairFromPrivateKey(vector.seed_hex);

      expect(fromPrivate).toEqual({
        privateKeyHex: vector.private_key_hex,
        publicKeyHex: vector.public_key_hex,
        addressHex: vector.address_hex,
      });
      expect(fromSeed).toEqual(fromPrivate);
      expect(addressOf(vector.public_key_hex)).toBe(vector.address_hex);
    });
  }
});

describe("vector AATs", () => {
  for (const name of ["aat", "aat_requestor_is_client"] as const) {
    test(`${name}: preimage, hash and signature match`, () => {
      const vector = vectors[name];
      const signer = key(vector.signed_by);

      const signed = signAat(vector.token.requestor_pub_key, signer);

      expect(sha3Hex(vector.hash_preimage)).toBe(vector.hash);
      expect(aatHash(vector.token)).toBe(vector.hash);
      expect(signed).toEqual(vector.token);
      expect(verifyAat(vector.token)).toBe(true);
    });
  }
});

describe("vector relays", () => {
  test("every relay vector has an entropy read exactly from the file", () => {
    expect(entropies).toHaveLength(vectors.relays.length);
    expect(entropies).toContain(9007199254740993n);
  });

  vectors.relays.forEach((vector, index) => {
    const input = vector.input;
    const entropy = entropies[index] ?? -1n;
    const payload: RelayPayload = {
      data: input.data,
      method: input.method,
      path: input.path,
      headers: input.headers,
    };
    const meta = { block_height: input.block_height };

    test(`${input.name}: request hash`, () => {
      expect(requestHashPreimage(payload, meta)).toBe(vector.request_hash_preimage);
      expect(requestHash(payload, meta)).toBe(vector.request_hash);
    });

    test(`${input.name}: proof hash and client signature`, () => {
      const proof: RelayProof = {
        request_hash: vector.request_hash,
        entropy,
        session_block_height: input.session_block_height,
        servicer_pub_key: vectors.keys.servicer.public_key_hex,
        blockchain: input.blockchain,
        aat: vectors.aat.token,
        signature: "",
        zone: input.zone,
        num_servicers: input.num_servicers,
      };

      expect(proofHashPreimage(proof)).toBe(vector.proof_hash_preimage);
      expect(proofHash(proof)).toBe(vector.proof_hash);
      expect(signHash(vector.proof_hash, key("client"))).toBe(vector.proof_signature_by_client);
    });

    test(`${input.name}: buildRelay produces the vector's proof`, () => {
      const relay = buildRelay({
        payload,
        blockHeight: input.block_height,
        sessionBlockHeight: input.session_block_height,
        servicerPublicKeyHex: vectors.keys.servicer.public_key_hex,
        chain: input.blockchain,
        zone: input.zone,
        numServicers: input.num_servicers,
        aat: vectors.aat.token,
        client: key("client"),
        entropy,
      });

      expect(relay.proof.request_hash).toBe(vector.request_hash);
      expect(relay.proof.entropy).toBe(entropy);
      expect(proofHash(relay.proof)).toBe(vector.proof_hash);
      expect(relay.proof.signature).toBe(vector.proof_signature_by_client);
    });

    test(`${input.name}: servicer response hash and signature`, () => {
      const response = input.servicer_response;

      expect(responseHashPreimage(response, vector.proof_hash)).toBe(vector.response_hash_preimage);
      expect(responseHash(response, vector.proof_hash)).toBe(vector.response_hash);
      expect(signResponse(response, vector.proof_hash, key("servicer"))).toBe(
        vector.response_signature_by_servicer,
      );
      expect(
        verifyResponse(
          response,
          vector.proof_hash,
          vector.response_signature_by_servicer,
          vectors.keys.servicer.public_key_hex,
        ),
      ).toBe(true);
    });
  });
});

describe("vector sessions", () => {
  for (const vector of vectors.sessions) {
    test(`height ${vector.height} with ${vector.blocks_per_session} blocks per session`, () => {
      expect(latestSessionHeight(vector.height, vector.blocks_per_session)).toBe(
        vector.latest_session_block_height,
      );
    });
  }
});

import type { Aat } from "./aat.ts";
import { aatHash, verifyAat } from "./aat.ts";
import { ProtocolError } from "./errors.ts";
import { goInt, goQuote, goStringMap, goStruct } from "./go-json.ts";
import { decodeHex, sha3Hex } from "./hash.ts";
import type { KeyPair } from "./keys.ts";
import { signHash, verifyHashSignature } from "./keys.ts";

/** What the dApp asked for: its raw body, HTTP method and REST path ("" for JSON-RPC). */
export interface RelayPayload {
  data: string;
  method: string;
  path: string;
  headers?: Record<string, string> | null;
}

export interface RelayMeta {
  block_height: number;
}

export interface RelayProof {
  request_hash: string;
  /** Exact 64-bit value; never convert it to a number. */
  entropy: bigint;
  session_block_height: number;
  servicer_pub_key: string;
  blockchain: string;
  aat: Aat;
  signature: string;
  zone: string;
  num_servicers: number;
}

export interface Relay {
  payload: RelayPayload;
  meta: RelayMeta;
  proof: RelayProof;
}

const MAX_ENTROPY_EXCLUSIVE = 1n << 63n;

function hasHeaders(headers: RelayPayload["headers"]): headers is Record<string, string> {
  return headers !== null && headers !== undefined && Object.keys(headers).length > 0;
}

const writePayload = goStruct(["data", "method", "path"]);
const writePayloadWithHeaders = goStruct(["data", "method", "path", "headers"]);
const writeMeta = goStruct(["block_height"]);
const writeRequestHashPreimage = goStruct(["payload", "meta"]);
const writeProofHashPreimage = goStruct([
  "entropy",
  "session_block_height",
  "servicer_pub_key",
  "blockchain",
  "signature",
  "token",
  "request_hash",
  "zone",
  "num_servicers",
]);
const EMPTY_STRING_JSON = goQuote("");

/** The payload in Go field order; `headers` is left out when empty, as Go's omitempty does. */
export function encodePayload(payload: RelayPayload): string {
  const data = goQuote(payload.data);
  const method = goQuote(payload.method);
  const path = goQuote(payload.path);
  if (hasHeaders(payload.headers)) {
    return writePayloadWithHeaders([data, method, path, goStringMap(payload.headers)]);
  }
  return writePayload([data, method, path]);
}

/** The meta object in Go field order. */
export function encodeMeta(meta: RelayMeta): string {
  return writeMeta([goInt(meta.block_height)]);
}

/** The exact text hashed into the request hash: `{"payload":…,"meta":…}`. */
export function requestHashPreimage(payload: RelayPayload, meta: RelayMeta): string {
  return writeRequestHashPreimage([encodePayload(payload), encodeMeta(meta)]);
}

/** SHA3-256 of `{"payload":…,"meta":…}` as the servicer recomputes it. */
export function requestHash(payload: RelayPayload, meta: RelayMeta): string {
  return sha3Hex(requestHashPreimage(payload, meta));
}

/** The exact text hashed into the proof hash (signature blank, AAT replaced by its hash). */
export function proofHashPreimage(proof: RelayProof): string {
  return writeProofHashPreimage([
    goInt(proof.entropy),
    goInt(proof.session_block_height),
    goQuote(proof.servicer_pub_key),
    goQuote(proof.blockchain),
    EMPTY_STRING_JSON,
    goQuote(aatHash(proof.aat)),
    goQuote(proof.request_hash),
    goQuote(proof.zone),
    goInt(proof.num_servicers),
  ]);
}

/** The hash the client key signs; `signature` is hashed as "" and `token` is the AAT hash. */
export function proofHash(proof: RelayProof): string {
  return sha3Hex(proofHashPreimage(proof));
}

/**
 * A fresh entropy from the platform CSPRNG, uniform over 0..2^63-1. The spec only promises a
 * non-negative 64-bit integer; staying below 2^63 keeps the value valid whether a servicer reads
 * it as int64 or uint64, and 63 random bits are far more than replay protection needs.
 */
export function randomEntropy(): bigint {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  const value = new DataView(bytes.buffer).getBigUint64(0);
  return value % MAX_ENTROPY_EXCLUSIVE;
}

/** The inputs of one relay; see buildRelay. */
export interface BuildRelayInput {
  payload: RelayPayload;
  /** The portal's view of the chain height (meta.block_height). */
  blockHeight: number;
  sessionBlockHeight: number;
  servicerPublicKeyHex: string;
  chain: string;
  zone: string;
  numServicers: number;
  aat: Aat;
  /** The key named by aat.client_pub_key; it signs the proof. */
  client: KeyPair;
  /** Fixed entropy for tests; a fresh random one otherwise. */
  entropy?: bigint;
}

function assertShortId(value: string, what: string): void {
  if (!/^(?:[0-9a-f]{2}){1,4}$/.test(value)) {
    throw new ProtocolError("bad_hex", `${what} must be 1 to 4 bytes of lower-case hex`);
  }
}

function assertBuildInput(input: BuildRelayInput): void {
  decodeHex(input.servicerPublicKeyHex, 32, "servicer public key", "bad_key");
  assertShortId(input.chain, "chain");
  assertShortId(input.zone, "zone");
  if (input.aat.client_pub_key !== input.client.publicKeyHex) {
    throw new ProtocolError("bad_key", "client key does not match aat.client_pub_key");
  }
  for (const [what, value, min] of [
    ["blockHeight", input.blockHeight, 0],
    ["sessionBlockHeight", input.sessionBlockHeight, 0],
    ["numServicers", input.numServicers, 1],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < min) {
      throw new ProtocolError("bad_input", `${what} must be an integer >= ${min}, got ${value}`);
    }
  }
  const entropy = input.entropy;
  if (entropy !== undefined && (entropy < 0n || entropy >= 1n << 64n)) {
    throw new ProtocolError("bad_input", "entropy must be a non-negative 64-bit integer");
  }
}

/**
 * A signed relay with what making it worked out on the way: the payload and meta as Go writes
 * them (the wire JSON repeats them) and the proof hash (the servicer's answer is bound to it).
 */
export interface SignedRelay {
  relay: Relay;
  payloadJson: string;
  metaJson: string;
  proofHash: string;
}

/** buildRelay, keeping the encoded payload and meta and the proof hash for the caller. */
export function signRelay(input: BuildRelayInput): SignedRelay {
  assertBuildInput(input);
  const payload: RelayPayload = hasHeaders(input.payload.headers)
    ? { ...input.payload, headers: { ...input.payload.headers } }
    : { data: input.payload.data, method: input.payload.method, path: input.payload.path };
  const meta: RelayMeta = { block_height: input.blockHeight };
  const payloadJson = encodePayload(payload);
  const metaJson = encodeMeta(meta);
  const unsigned: RelayProof = {
    request_hash: sha3Hex(writeRequestHashPreimage([payloadJson, metaJson])),
    entropy: input.entropy ?? randomEntropy(),
    session_block_height: input.sessionBlockHeight,
    servicer_pub_key: input.servicerPublicKeyHex,
    blockchain: input.chain,
    aat: input.aat,
    signature: "",
    zone: input.zone,
    num_servicers: input.numServicers,
  };
  const hash = proofHash(unsigned);
  const proof = { ...unsigned, signature: signHash(hash, input.client) };
  return { relay: { payload, meta, proof }, payloadJson, metaJson, proofHash: hash };
}

/**
 * Builds a signed relay: computes the request hash, fills in the proof and signs the proof hash
 * with the client key. Throws ProtocolError on malformed keys, ids or heights.
 */
export function buildRelay(input: BuildRelayInput): Relay {
  return signRelay(input).relay;
}

/**
 * Why a relay would be refused on its own terms (request hash, AAT, proof signature), or null
 * when it is sound. Session and height checks need chain state and are left to the caller.
 */
export function relayProblem(relay: Relay): string | null {
  if (requestHash(relay.payload, relay.meta) !== relay.proof.request_hash) {
    return "request hash does not match payload and meta";
  }
  if (!verifyAat(relay.proof.aat)) {
    return "aat signature is invalid";
  }
  const hash = proofHash(relay.proof);
  if (!verifyHashSignature(hash, relay.proof.signature, relay.proof.aat.client_pub_key)) {
    return "proof signature is invalid";
  }
  return null;
}

/** True when relayProblem finds nothing wrong. */
export function verifyRelay(relay: Relay): boolean {
  return relayProblem(relay) === null;
}

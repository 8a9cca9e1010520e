import { goQuote, goStruct } from "./go-json.ts";
import { decodeHex, sha3Hex } from "./hash.ts";
import type { KeyPair } from "./keys.ts";
import { signHash, verifyHashSignature } from "./keys.ts";

/** The Application Authentication Token a requestor hands to the client key that signs relays. */
export interface Aat {
  version: string;
  requestor_pub_key: string;
  client_pub_key: string;
  signature: string;
}

/** The only AAT version servicers accept. */
export const AAT_VERSION = "0.0.1";

const writeAat = goStruct(["version", "requestor_pub_key", "client_pub_key", "signature"]);

function writeAatFields(aat: Aat, signature: string): string {
  return writeAat([
    goQuote(aat.version),
    goQuote(aat.requestor_pub_key),
    goQuote(aat.client_pub_key),
    goQuote(signature),
  ]);
}

/**
 * What was worked out for one token object, with the field values it was worked out from: a
 * portal signs every relay with the same token, a servicer decodes a new one per relay.
 */
interface AatMemo {
  readonly version: string;
  readonly requestorPubKey: string;
  readonly clientPubKey: string;
  readonly signature: string;
  hash?: string;
  wire?: string;
}

const memos = new WeakMap<Aat, AatMemo>();

/** The memo of this token; a fresh one when its fields changed since (the caller changed it). */
function memoOf(aat: Aat): AatMemo {
  const known = memos.get(aat);
  if (
    known !== undefined &&
    known.version === aat.version &&
    known.requestorPubKey === aat.requestor_pub_key &&
    known.clientPubKey === aat.client_pub_key &&
    known.signature === aat.signature
  ) {
    return known;
  }
  const memo: AatMemo = {
    version: aat.version,
    requestorPubKey: aat.requestor_pub_key,
    clientPubKey: aat.client_pub_key,
    signature: aat.signature,
  };
  memos.set(aat, memo);
  return memo;
}

/** The AAT in wire order; `signature` is replaced by "" when hashing. */
export function encodeAat(aat: Aat, signature: string = aat.signature): string {
  if (signature !== aat.signature) {
    return writeAatFields(aat, signature);
  }
  const memo = memoOf(aat);
  memo.wire ??= writeAatFields(aat, signature);
  return memo.wire;
}

/** SHA3-256 of the token's JSON with `signature` set to "" (the proof's `token` field). */
export function aatHash(aat: Aat): string {
  const memo = memoOf(aat);
  memo.hash ??= sha3Hex(writeAatFields(aat, ""));
  return memo.hash;
}

/**
 * Issues an AAT for `requestorPublicKeyHex` whose client is `signer`; a portal using one key as
 * both requestor and client passes that key twice. Servicers check the signature against the
 * client key, which is why the signer is always the client.
 */
export function signAat(requestorPublicKeyHex: string, signer: KeyPair): Aat {
  decodeHex(requestorPublicKeyHex, 32, "requestor public key", "bad_key");
  const unsigned: Aat = {
    version: AAT_VERSION,
    requestor_pub_key: requestorPublicKeyHex,
    client_pub_key: signer.publicKeyHex,
    signature: "",
  };
  return { ...unsigned, signature: signHash(aatHash(unsigned), signer) };
}

/** True when the token has the known version and is signed by its client key. Never throws. */
export function verifyAat(aat: Aat): boolean {
  if (aat.version !== AAT_VERSION) {
    return false;
  }
  return verifyHashSignature(aatHash(aat), aat.signature, aat.client_pub_key);
}

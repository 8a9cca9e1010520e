import { goObject, goQuote } from "./go-json.ts";
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

/** The AAT in wire order; `signature` is replaced by "" when hashing. */
export function encodeAat(aat: Aat, signature: string = aat.signature): string {
  return goObject([
    ["version", goQuote(aat.version)],
    ["requestor_pub_key", goQuote(aat.requestor_pub_key)],
    ["client_pub_key", goQuote(aat.client_pub_key)],
    ["signature", goQuote(signature)],
  ]);
}

// A portal signs every relay with the same token object; its hash is worked out once. Keyed by
// the object, so a token built anew (as a servicer decodes one per relay) is hashed anew.
const hashes = new WeakMap<Aat, { hash: string; source: string }>();

/** SHA3-256 of the token's JSON with `signature` set to "" (the proof's `token` field). */
export function aatHash(aat: Aat): string {
  const source = encodeAat(aat, "");
  const known = hashes.get(aat);
  // The encoded text is compared, not trusted: a caller that changed the object gets a new hash.
  if (known !== undefined && known.source === source) {
    return known.hash;
  }
  const hash = sha3Hex(source);
  hashes.set(aat, { hash, source });
  return hash;
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

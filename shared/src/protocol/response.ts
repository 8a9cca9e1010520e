import { goQuote, goStruct } from "./go-json.ts";
import { sha3Hex } from "./hash.ts";
import type { KeyPair } from "./keys.ts";
import { signHash, verifyHashSignature } from "./keys.ts";

const writeResponseHashPreimage = goStruct(["signature", "payload", "Proof"]);
const EMPTY_STRING_JSON = goQuote("");

/** The exact text a servicer signs: `{"signature":"","payload":<response>,"Proof":<hash>}`. */
export function responseHashPreimage(response: string, proofHashHex: string): string {
  return writeResponseHashPreimage([EMPTY_STRING_JSON, goQuote(response), goQuote(proofHashHex)]);
}

/** SHA3-256 of the servicer's answer bound to the relay's proof hash. */
export function responseHash(response: string, proofHashHex: string): string {
  return sha3Hex(responseHashPreimage(response, proofHashHex));
}

/** Signs an answer as a servicer does (used by the devnet and tests). */
export function signResponse(response: string, proofHashHex: string, servicer: KeyPair): string {
  return signHash(responseHash(response, proofHashHex), servicer);
}

/** True when `signatureHex` is the servicer's signature of this answer to this proof. */
export function verifyResponse(
  response: string,
  proofHashHex: string,
  signatureHex: string,
  servicerPublicKeyHex: string,
): boolean {
  return verifyHashSignature(
    responseHash(response, proofHashHex),
    signatureHex,
    servicerPublicKeyHex,
  );
}

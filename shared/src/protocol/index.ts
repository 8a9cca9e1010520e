export type { Aat } from "./aat.ts";
export { AAT_VERSION, aatHash, encodeAat, signAat, verifyAat } from "./aat.ts";
export type {
  DispatchResponse,
  RelayErrorBody,
  RelayResponse,
  SessionHeader,
  ViperNode,
} from "./dispatch.ts";
export {
  dispatchResponseSchema,
  nodeSchema,
  relayErrorSchema,
  relayResponseSchema,
  sessionHeaderSchema,
} from "./dispatch.ts";
export type { ProtocolErrorCode } from "./errors.ts";
export { ProtocolError } from "./errors.ts";
export { goInt, goQuote } from "./go-json.ts";
export { sha3Hex } from "./hash.ts";
export type { KeyPair } from "./keys.ts";
export {
  addressOf,
  generateKeyPair,
  keyPairFromPrivateKey,
  signHash,
  verifyHashSignature,
} from "./keys.ts";
export type {
  BuildRelayInput,
  Relay,
  RelayMeta,
  RelayPayload,
  RelayProof,
  SignedRelay,
} from "./relay.ts";
export {
  buildRelay,
  proofHash,
  proofHashPreimage,
  randomEntropy,
  relayProblem,
  requestHash,
  requestHashPreimage,
  signRelay,
  verifyRelay,
} from "./relay.ts";
export { decodeRelay, encodeRelay, encodeSignedRelay, relaySchema } from "./relay-codec.ts";
export { responseHash, responseHashPreimage, signResponse, verifyResponse } from "./response.ts";
export { latestSessionHeight } from "./session.ts";

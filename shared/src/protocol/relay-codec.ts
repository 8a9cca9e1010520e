import { z } from "zod";
import { encodeAat } from "./aat.ts";
import { ProtocolError } from "./errors.ts";
import { goInt, goQuote, goStruct } from "./go-json.ts";
import type { Relay, RelayProof, SignedRelay } from "./relay.ts";
import { encodeMeta, encodePayload } from "./relay.ts";

const MAX_UINT64 = (1n << 64n) - 1n;

const hex = (bytes: number, what: string) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `${what}: ${bytes * 2} lower-case hex`);
const shortId = (what: string) =>
  z.string().regex(/^(?:[0-9a-f]{2}){1,4}$/, `${what}: 1 to 4 bytes of lower-case hex`);
const height = z.number().int().nonnegative();

const aatSchema = z.object({
  version: z.string(),
  requestor_pub_key: hex(32, "public key"),
  client_pub_key: hex(32, "public key"),
  signature: hex(64, "signature"),
});

/** The relay as it travels; entropy arrives as a bigint thanks to parseKeepingEntropy. */
export const relaySchema = z.object({
  payload: z.object({
    data: z.string(),
    method: z.string(),
    path: z.string(),
    headers: z.record(z.string(), z.string()).nullish(),
  }),
  meta: z.object({ block_height: height }),
  proof: z.object({
    request_hash: hex(32, "hash"),
    entropy: z
      .bigint("entropy: a non-negative 64-bit integer")
      .nonnegative()
      .max(MAX_UINT64, "entropy: a non-negative 64-bit integer"),
    session_block_height: height,
    servicer_pub_key: hex(32, "public key"),
    blockchain: shortId("blockchain"),
    aat: aatSchema,
    signature: hex(64, "signature"),
    zone: shortId("zone"),
    num_servicers: z.number().int().positive(),
  }),
});

const writeRelay = goStruct(["payload", "meta", "proof"]);
const writeProof = goStruct([
  "request_hash",
  "entropy",
  "session_block_height",
  "servicer_pub_key",
  "blockchain",
  "aat",
  "signature",
  "zone",
  "num_servicers",
]);

function encodeProof(proof: RelayProof): string {
  return writeProof([
    goQuote(proof.request_hash),
    goInt(proof.entropy),
    goInt(proof.session_block_height),
    goQuote(proof.servicer_pub_key),
    goQuote(proof.blockchain),
    encodeAat(proof.aat),
    goQuote(proof.signature),
    goQuote(proof.zone),
    goInt(proof.num_servicers),
  ]);
}

/**
 * The wire JSON of a relay, written with Go's rules and field order so the servicer decodes
 * exactly what we hashed; entropy is written from the bigint, digit for digit.
 */
export function encodeRelay(relay: Relay): string {
  return writeRelay([
    encodePayload(relay.payload),
    encodeMeta(relay.meta),
    encodeProof(relay.proof),
  ]);
}

/** encodeRelay for a relay just signed, reusing the payload and meta signRelay encoded. */
export function encodeSignedRelay(signed: SignedRelay): string {
  return writeRelay([signed.payloadJson, signed.metaJson, encodeProof(signed.relay.proof)]);
}

interface ReviverContext {
  source?: string;
}

/**
 * JSON.parse that turns every `entropy` number into a bigint read from its source text, so a
 * value beyond 2^53 never passes through a double. Other numbers stay numbers.
 */
function parseKeepingEntropy(body: string): unknown {
  return JSON.parse(body, (key: string, value: unknown, context?: ReviverContext) => {
    if (key !== "entropy" || typeof value !== "number") {
      return value;
    }
    const source = context?.source;
    if (source !== undefined) {
      // A non-integer literal (1.5, 1e3, -1) is left as a number for the schema to refuse.
      return /^(?:0|[1-9][0-9]*)$/.test(source) ? BigInt(source) : value;
    }
    // TODO: runtimes without JSON.parse source access lose digits past 2^53; refuse those
    // values until such a runtime needs support (Bun has it).
    return Number.isSafeInteger(value) && value >= 0 ? BigInt(value) : value;
  });
}

/**
 * Parses a relay body, keeping entropy exact, and checks its shape and hex forms. Throws
 * ProtocolError("bad_relay") saying which field is wrong. Hashes and signatures are not checked
 * here: use verifyRelay or relayProblem for that.
 */
export function decodeRelay(body: string): Relay {
  let raw: unknown;
  try {
    raw = parseKeepingEntropy(body);
  } catch (error) {
    throw new ProtocolError("bad_relay", "relay body is not valid JSON", { cause: error });
  }
  const parsed = relaySchema.safeParse(raw);
  if (!parsed.success) {
    throw new ProtocolError("bad_relay", `invalid relay: ${z.prettifyError(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

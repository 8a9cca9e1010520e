import type { Relay } from "@viper/shared/protocol";
import {
  decodeRelay,
  ProtocolError,
  proofHash,
  requestHash,
  verifyHashSignature,
} from "@viper/shared/protocol";
import type { DevnetNetwork } from "./network.ts";
import { Refusal, RefusalCode } from "./refusals.ts";
import type { VerifiedAats } from "./verified-aats.ts";

/** How far `meta.block_height` may be from the servicer's own height, in blocks. */
export const BLOCK_HEIGHT_TOLERANCE = 2;

/**
 * The proofs one servicer has already served, per session, so a replayed entropy is refused.
 * Sessions older than the latest are forgotten: their relays are refused as stale anyway.
 */
export class EntropyLedger {
  readonly #seen = new Map<string, { sessionHeight: number; entropies: Set<bigint> }>();

  /** Records the relay's entropy; false when this session already saw it. */
  claim(relay: Relay, latestSessionHeight: number): boolean {
    this.#forgetBefore(latestSessionHeight);
    const { proof } = relay;
    const session = [
      proof.aat.requestor_pub_key,
      proof.blockchain,
      proof.zone,
      proof.session_block_height,
    ].join("/");
    let entry = this.#seen.get(session);
    if (entry === undefined) {
      entry = { sessionHeight: proof.session_block_height, entropies: new Set() };
      this.#seen.set(session, entry);
    }
    if (entry.entropies.has(proof.entropy)) {
      return false;
    }
    entry.entropies.add(proof.entropy);
    return true;
  }

  #forgetBefore(sessionHeight: number): void {
    for (const [session, entry] of this.#seen) {
      if (entry.sessionHeight < sessionHeight) {
        this.#seen.delete(session);
      }
    }
  }
}

/** What a servicer knows when it checks a relay. */
export interface RelayCheckContext {
  network: DevnetNetwork;
  servicerPublicKey: string;
  ledger: EntropyLedger;
  aats: VerifiedAats;
}

function parseRelay(body: string): Relay {
  try {
    return decodeRelay(body);
  } catch (error) {
    const message = error instanceof ProtocolError ? error.message : "relay body is unreadable";
    throw new Refusal(RefusalCode.malformedRelay, message, { cause: error });
  }
}

/** Checks that need nothing but the relay itself: hashes, AAT and proof signatures. */
function checkSignatures(relay: Relay, context: RelayCheckContext): void {
  const { network } = context;
  const { proof } = relay;
  if (requestHash(relay.payload, relay.meta) !== proof.request_hash) {
    throw new Refusal(
      RefusalCode.requestHashMismatch,
      "proof.request_hash does not match the hash of payload and meta",
    );
  }
  if (!context.aats.verify(proof.aat)) {
    throw new Refusal(
      RefusalCode.invalidAatSignature,
      "aat signature is not valid for its client_pub_key (or its version is unknown)",
    );
  }
  if (!network.isStakedRequestor(proof.aat.requestor_pub_key)) {
    throw new Refusal(
      RefusalCode.requestorNotStaked,
      `requestor ${proof.aat.requestor_pub_key} is not staked`,
    );
  }
  if (!verifyHashSignature(proofHash(proof), proof.signature, proof.aat.client_pub_key)) {
    throw new Refusal(
      RefusalCode.invalidProofSignature,
      "proof signature is not valid for the aat's client_pub_key",
    );
  }
}

/** Checks against chain state: session height, block height, session membership, chain. */
function checkSession(relay: Relay, context: RelayCheckContext): void {
  const { network, servicerPublicKey } = context;
  const { proof } = relay;
  const request = {
    requestorPublicKey: proof.aat.requestor_pub_key,
    chain: proof.blockchain,
    zone: proof.zone,
    numServicers: proof.num_servicers,
  };
  const latest = network.latestSessionHeight;
  if (proof.session_block_height !== latest) {
    throw new Refusal(
      RefusalCode.sessionHeightMismatch,
      `proof names session height ${proof.session_block_height} but the latest is ${latest}`,
      { dispatch: network.currentSession(request) },
    );
  }
  const drift = Math.abs(relay.meta.block_height - network.height);
  if (drift > BLOCK_HEIGHT_TOLERANCE) {
    throw new Refusal(
      RefusalCode.blockHeightOutOfRange,
      `meta.block_height ${relay.meta.block_height} is more than ${BLOCK_HEIGHT_TOLERANCE} blocks from height ${network.height}`,
    );
  }
  if (proof.servicer_pub_key !== servicerPublicKey) {
    throw new Refusal(
      RefusalCode.wrongServicer,
      `proof is for servicer ${proof.servicer_pub_key}, this is ${servicerPublicKey}`,
    );
  }
  if (!network.chains.has(proof.blockchain)) {
    throw new Refusal(RefusalCode.chainNotServed, `chain ${proof.blockchain} is not served here`);
  }
  const session = network.sessionAt(request, latest).session;
  if (!session.servicers.some((node) => node.public_key === servicerPublicKey)) {
    throw new Refusal(
      RefusalCode.servicerNotInSession,
      `servicer ${servicerPublicKey} is not in the session at height ${latest}`,
    );
  }
}

/**
 * Checks a relay body the way a Viper servicer does, in order, and returns the decoded relay.
 * Throws a Refusal naming the first check that failed; the entropy is spent only when every
 * other check passed.
 */
export function checkRelay(body: string, context: RelayCheckContext): Relay {
  const relay = parseRelay(body);
  checkSignatures(relay, context);
  checkSession(relay, context);
  if (!context.ledger.claim(relay, context.network.latestSessionHeight)) {
    throw new Refusal(
      RefusalCode.entropyReused,
      `entropy ${relay.proof.entropy} was already used in this session`,
    );
  }
  return relay;
}

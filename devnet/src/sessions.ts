import type { DispatchResponse, SessionHeader, ViperNode } from "@viper/shared/protocol";
import { sha3Hex } from "@viper/shared/protocol";

/** Who a session is for: one requestor on one chain in one geo zone at one session height. */
export interface SessionSubject {
  requestorPublicKey: string;
  chain: string;
  zone: string;
  sessionHeight: number;
}

/**
 * The session key: SHA3-256 over the fields that name a session, so every node derives the same
 * key (and thus the same servicers) without talking to each other.
 */
export function sessionKeyHex(subject: SessionSubject): string {
  const { requestorPublicKey, chain, zone, sessionHeight } = subject;
  return sha3Hex(JSON.stringify([requestorPublicKey, chain, zone, sessionHeight]));
}

/**
 * Picks `count` servicers for a session key: each candidate is ranked by SHA3(key + its public
 * key), which is deterministic for the key yet shuffles servicers differently per session.
 */
export function selectServicers(
  keyHex: string,
  candidates: readonly ViperNode[],
  count: number,
): ViperNode[] {
  const ranked = candidates.map((node) => ({ node, rank: sha3Hex(keyHex + node.public_key) }));
  ranked.sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
  return ranked.slice(0, Math.max(0, count)).map((entry) => entry.node);
}

/** The dispatch answer for a session whose servicers were already chosen. */
export function dispatchResponse(
  header: SessionHeader,
  keyHex: string,
  servicers: ViperNode[],
  blockHeight: number,
): DispatchResponse {
  return {
    session: {
      header,
      key: Buffer.from(keyHex, "hex").toString("base64"),
      servicers,
      fishermen: [],
    },
    block_height: blockHeight,
  };
}

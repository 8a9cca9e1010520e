import type { DispatchResponse, ViperNode } from "@viper/shared/protocol";
import { latestSessionHeight } from "@viper/shared/protocol";
import type { BlockClock } from "./block-clock.ts";
import { dispatchResponse, selectServicers, sessionKeyHex } from "./sessions.ts";

/** A relay chain of the devnet and the RPC endpoint that actually answers for it. */
export interface DevnetChain {
  id: string;
  upstreamUrl: string;
}

/** What a dispatch asks for; the session height is always the latest one. */
export interface SessionRequest {
  requestorPublicKey: string;
  chain: string;
  zone: string;
  numServicers: number;
}

export interface NetworkOptions {
  clock: BlockClock;
  blocksPerSession: number;
  zone: string;
  chains: readonly DevnetChain[];
  /** Public keys of staked requestors; empty means every requestor counts as staked. */
  requestors: readonly string[];
}

/**
 * The chain state every devnet node reads: height, staked servicers and requestors, served
 * chains. Nodes hold no state of their own about sessions, so they always agree.
 */
export class DevnetNetwork {
  readonly clock: BlockClock;
  readonly blocksPerSession: number;
  readonly zone: string;
  readonly chains: ReadonlyMap<string, DevnetChain>;
  readonly #requestors: ReadonlySet<string>;
  readonly #servicers: ViperNode[] = [];

  constructor(options: NetworkOptions) {
    this.clock = options.clock;
    this.blocksPerSession = options.blocksPerSession;
    this.zone = options.zone;
    this.chains = new Map(options.chains.map((chain) => [chain.id, chain]));
    this.#requestors = new Set(options.requestors.map((key) => key.toLowerCase()));
  }

  get height(): number {
    return this.clock.height;
  }

  get latestSessionHeight(): number {
    return latestSessionHeight(this.clock.height, this.blocksPerSession);
  }

  /** Stakes a servicer: from now on it can be chosen for sessions. */
  stakeServicer(node: ViperNode): void {
    this.#servicers.push(node);
  }

  isStakedRequestor(publicKey: string): boolean {
    return this.#requestors.size === 0 || this.#requestors.has(publicKey);
  }

  /**
   * The servicers of a session: staked in its zone, serving its chain, not jailed or paused,
   * then chosen by the session key. An unknown chain or zone yields an empty session.
   */
  sessionAt(request: SessionRequest, sessionHeight: number): DispatchResponse {
    const subject = { ...request, sessionHeight };
    const keyHex = sessionKeyHex(subject);
    const candidates = this.#servicers.filter(
      (node) =>
        !node.jailed &&
        !node.paused &&
        node.chains.includes(request.chain) &&
        node.geo_zone.includes(request.zone),
    );
    const servicers = selectServicers(keyHex, candidates, request.numServicers);
    const header = {
      requestor_public_key: request.requestorPublicKey,
      chain: request.chain,
      zone: request.zone,
      num_servicers: request.numServicers,
      session_height: sessionHeight,
    };
    return dispatchResponse(header, keyHex, servicers, this.clock.height);
  }

  /** The session a dispatch returns: the one at the latest session height. */
  currentSession(request: SessionRequest): DispatchResponse {
    return this.sessionAt(request, this.latestSessionHeight);
  }
}

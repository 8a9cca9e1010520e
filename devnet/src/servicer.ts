import type { Logger } from "@viper/shared/logger";
import type { KeyPair, Relay, ViperNode } from "@viper/shared/protocol";
import { generateKeyPair, proofHash, signResponse } from "@viper/shared/protocol";
import type { Server } from "bun";
import type { DevnetNetwork } from "./network.ts";
import { dispatchHandler, heightResponse, NodePath, notFound } from "./node-routes.ts";
import { REFUSAL_CODESPACE, Refusal, RefusalCode, refusalResponse } from "./refusals.ts";
import { checkRelay, EntropyLedger } from "./relay-checks.ts";
import { forwardToUpstream } from "./upstream.ts";
import { VerifiedAats } from "./verified-aats.ts";

/**
 * How a servicer answers relays, so tests can watch a portal cope with bad servicers:
 * - `ok`: checks and serves relays like a real servicer.
 * - `error5xx`: answers every relay with HTTP 500.
 * - `hang`: never answers a relay until the devnet stops.
 * - `badSignature`: serves the relay but signs the answer with a throw-away key.
 * - `slow`: waits SLOW_RELAY_DELAY_MS, then behaves like `ok`.
 */
export type ServicerBehavior = "ok" | "error5xx" | "hang" | "badSignature" | "slow";

export const SLOW_RELAY_DELAY_MS = 1500;

/** How long stop() waits for answers in flight before it closes connections by force. */
const STOP_GRACE_MS = 2000;

/** Tokens every devnet servicer stakes; the portal only reads them. */
const STAKED_TOKENS = "15000000000";
/** Viper's node status for a staked node. */
const STATUS_STAKED = 2;

export interface ServicerOptions {
  network: DevnetNetwork;
  key: KeyPair;
  host: string;
  logger: Logger;
}

/** One servicer of the devnet: its own key, its own port, the node endpoints and relays. */
export class Servicer {
  behavior: ServicerBehavior = "ok";
  readonly key: KeyPair;
  readonly url: string;
  readonly node: ViperNode;
  readonly #network: DevnetNetwork;
  readonly #server: Server<undefined>;
  readonly #ledger = new EntropyLedger();
  readonly #aats = new VerifiedAats();
  readonly #logger: Logger;
  readonly #hanging = new Set<() => void>();

  constructor(options: ServicerOptions) {
    this.key = options.key;
    this.#network = options.network;
    this.#logger = options.logger.child({ servicer: options.key.addressHex });
    this.#server = Bun.serve({
      hostname: options.host,
      port: 0,
      // A hanging servicer must stay silent for as long as the test wants, not Bun's default 10 s.
      idleTimeout: 0,
      routes: {
        [NodePath.height]: { POST: () => heightResponse(this.#network) },
        [NodePath.dispatch]: { POST: (request) => dispatchHandler(request, this.#network) },
        [NodePath.relay]: { POST: (request) => this.#handleRelay(request) },
      },
      fetch: notFound,
    });
    this.url = `http://${options.host}:${this.#server.port}`;
    this.node = {
      address: options.key.addressHex,
      public_key: options.key.publicKeyHex,
      jailed: false,
      paused: false,
      status: STATUS_STAKED,
      chains: [...options.network.chains.keys()],
      service_url: this.url,
      tokens: STAKED_TOKENS,
      geo_zone: [options.network.zone],
    };
  }

  /** Closes the port; relays left hanging are answered 503 first so no client waits forever. */
  async stop(): Promise<void> {
    for (const release of this.#hanging) {
      release();
    }
    this.#hanging.clear();
    // A graceful stop lets those 503s (and relays in flight) go out; the forced one bounds it.
    const drained = await Promise.race([
      this.#server.stop(false).then(() => true),
      Bun.sleep(STOP_GRACE_MS).then(() => false),
    ]);
    if (!drained) {
      await this.#server.stop(true);
    }
  }

  async #handleRelay(request: Request): Promise<Response> {
    const behavior = this.behavior;
    if (behavior === "hang") {
      return this.#hangUntilStopped();
    }
    if (behavior === "error5xx") {
      const error = {
        code: 500,
        codespace: REFUSAL_CODESPACE,
        message: "servicer failure (error5xx mode)",
      };
      return Response.json({ error, dispatch: null }, { status: 500 });
    }
    if (behavior === "slow") {
      await Bun.sleep(SLOW_RELAY_DELAY_MS);
    }
    try {
      const relay = checkRelay(await request.text(), {
        network: this.#network,
        servicerPublicKey: this.key.publicKeyHex,
        ledger: this.#ledger,
        aats: this.#aats,
      });
      const response = await this.#serve(relay);
      const signer = behavior === "badSignature" ? generateKeyPair() : this.key;
      const signature = signResponse(response, proofHash(relay.proof), signer);
      this.#logger.debug({ chain: relay.proof.blockchain, behavior }, "relay served");
      return Response.json({ signature, response });
    } catch (error) {
      if (error instanceof Refusal) {
        this.#logger.debug({ code: error.code, reason: error.message }, "relay refused");
        return refusalResponse(error);
      }
      throw error;
    }
  }

  async #serve(relay: Relay): Promise<string> {
    const chain = this.#network.chains.get(relay.proof.blockchain);
    if (chain === undefined) {
      throw new Refusal(
        RefusalCode.chainNotServed,
        `chain ${relay.proof.blockchain} is not served here`,
      );
    }
    try {
      return await forwardToUpstream(chain.upstreamUrl, relay.payload);
    } catch (cause) {
      this.#logger.warn({ chain: chain.id, err: cause }, "upstream failed");
      throw new Refusal(RefusalCode.upstreamFailed, `chain ${chain.id} did not answer`, { cause });
    }
  }

  #hangUntilStopped(): Promise<Response> {
    return new Promise((resolve) => {
      this.#hanging.add(() => {
        resolve(Response.json({ error: { message: "servicer stopped" } }, { status: 503 }));
      });
    });
  }
}

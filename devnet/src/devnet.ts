import type { Logger } from "@viper/shared/logger";
import { silentLogger } from "@viper/shared/logger";
import { keyPairFromPrivateKey, sha3Hex } from "@viper/shared/protocol";
import type { AnvilHandle } from "./anvil.ts";
import { startAnvil } from "./anvil.ts";
import { BlockClock } from "./block-clock.ts";
import { Dispatcher } from "./dispatcher.ts";
import type { DevnetChain } from "./network.ts";
import { DevnetNetwork } from "./network.ts";
import type { ServicerBehavior } from "./servicer.ts";
import { Servicer } from "./servicer.ts";

export type { DevnetChain } from "./network.ts";
export { RefusalCode } from "./refusals.ts";
export type { ServicerBehavior } from "./servicer.ts";
export { SLOW_RELAY_DELAY_MS } from "./servicer.ts";

export interface DevnetOptions {
  servicerCount?: number;
  /** Relay chains; a chain without upstreamUrl is served by anvil, which needs `anvil: true`. */
  chains?: { id: string; upstreamUrl?: string }[];
  anvil?: boolean;
  blocksPerSession?: number;
  /** Time between blocks; pass a large value in tests that move the chain with advance(). */
  blockTimeMs?: number;
  /** Seconds between anvil's own blocks; unset, anvil mines only on transactions (tests). */
  anvilBlockTimeSeconds?: number;
  /** Public keys of staked requestors; empty accepts any requestor. */
  requestors?: string[];
  zone?: string;
  logger?: Logger;
  host?: string;
  /** A fixed port for the dispatcher (for a standalone devnet); any free port by default. */
  dispatcherPort?: number;
}

/** A running devnet. */
export interface Devnet {
  dispatcherUrl: string;
  servicers: { url: string; publicKeyHex: string; address: string }[];
  chains: DevnetChain[];
  anvil: { url: string; chainId: number } | null;
  height(): number;
  /** Moves the shared chain forward by `blocks` (default 1). */
  advance(blocks?: number): void;
  setServicerBehavior(index: number, behavior: ServicerBehavior): void;
  /** Stops the block timer, every node and anvil. */
  stop(): Promise<void>;
}

/** Raised when the options describe a devnet that cannot run. */
export class DevnetConfigError extends Error {
  override name = "DevnetConfigError";
}

/**
 * Servicer keys are derived from their index, so a devnet restarted by hand has the same
 * servicers (and the same sessions) as before.
 */
function servicerKey(index: number) {
  return keyPairFromPrivateKey(sha3Hex(`viper-devnet-servicer-${index}`));
}

function resolveChains(options: DevnetOptions, anvil: AnvilHandle | null): DevnetChain[] {
  const chains = options.chains ?? [{ id: "0021" }];
  return chains.map((chain) => {
    const upstreamUrl = chain.upstreamUrl ?? anvil?.url;
    if (upstreamUrl === undefined) {
      throw new DevnetConfigError(`chain ${chain.id} has no upstreamUrl and anvil is off`);
    }
    return { id: chain.id, upstreamUrl };
  });
}

function validate(options: DevnetOptions): void {
  const checks: [string, number | undefined, number][] = [
    ["servicerCount", options.servicerCount, 1],
    ["blocksPerSession", options.blocksPerSession, 1],
    ["blockTimeMs", options.blockTimeMs, 1],
    ["anvilBlockTimeSeconds", options.anvilBlockTimeSeconds, 1],
  ];
  for (const [name, value, minimum] of checks) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < minimum)) {
      throw new DevnetConfigError(`${name} must be an integer >= ${minimum}, got ${value}`);
    }
  }
}

/**
 * Starts a local Viper network: a dispatcher, `servicerCount` servicers with their own keys and
 * ports, a shared block height that ticks every `blockTimeMs`, and anvil when asked for.
 */
export async function startDevnet(options: DevnetOptions = {}): Promise<Devnet> {
  validate(options);
  const host = options.host ?? "127.0.0.1";
  const logger = (options.logger ?? silentLogger()).child({ component: "devnet" });
  const anvil =
    options.anvil === true
      ? await startAnvil({ host, blockTimeSeconds: options.anvilBlockTimeSeconds })
      : null;
  try {
    return startNodes(options, host, logger, anvil);
  } catch (error) {
    await anvil?.stop();
    throw error;
  }
}

/** Binds every servicer and the dispatcher; on failure releases the ports already bound. */
function startServers(
  options: DevnetOptions,
  network: DevnetNetwork,
  host: string,
  logger: Logger,
): { servicers: Servicer[]; dispatcher: Dispatcher } {
  const servicers: Servicer[] = [];
  try {
    for (let index = 0; index < (options.servicerCount ?? 5); index++) {
      const servicer = new Servicer({ network, key: servicerKey(index), host, logger });
      network.stakeServicer(servicer.node);
      servicers.push(servicer);
    }
    return { servicers, dispatcher: new Dispatcher(network, host, options.dispatcherPort) };
  } catch (error) {
    for (const servicer of servicers) {
      void servicer.stop();
    }
    throw error;
  }
}

function startNodes(
  options: DevnetOptions,
  host: string,
  logger: Logger,
  anvil: AnvilHandle | null,
): Devnet {
  const clock = new BlockClock();
  const network = new DevnetNetwork({
    clock,
    blocksPerSession: options.blocksPerSession ?? 4,
    zone: options.zone ?? "0001",
    chains: resolveChains(options, anvil),
    requestors: options.requestors ?? [],
  });
  const { servicers, dispatcher } = startServers(options, network, host, logger);
  clock.start(options.blockTimeMs ?? 1000);
  let stopped = false;
  logger.info(
    { dispatcherUrl: dispatcher.url, servicers: servicers.length, anvilUrl: anvil?.url },
    "devnet started",
  );

  return {
    dispatcherUrl: dispatcher.url,
    servicers: servicers.map((s) => ({
      url: s.url,
      publicKeyHex: s.key.publicKeyHex,
      address: s.key.addressHex,
    })),
    chains: [...network.chains.values()],
    anvil: anvil === null ? null : { url: anvil.url, chainId: anvil.chainId },
    height: () => clock.height,
    advance: (blocks = 1) => clock.advance(blocks),
    setServicerBehavior: (index, behavior) => {
      const servicer = servicers[index];
      if (servicer === undefined) {
        throw new RangeError(`no servicer ${index}; the devnet has ${servicers.length}`);
      }
      servicer.behavior = behavior;
    },
    stop: async () => {
      if (stopped) {
        return;
      }
      stopped = true;
      clock.stop();
      await Promise.all([dispatcher.stop(), ...servicers.map((s) => s.stop())]);
      await anvil?.stop();
      logger.info("devnet stopped");
    },
  };
}

/**
 * Starts a devnet with anvil and keeps it running until Ctrl-C:
 *   bun run devnet/src/main.ts
 * Environment: DEVNET_SERVICERS (5), DEVNET_BLOCK_TIME_MS (1000), DEVNET_BLOCKS_PER_SESSION (4),
 * DEVNET_CHAIN (0021), DEVNET_DISPATCHER_PORT (any free port), DEVNET_ANVIL_BLOCK_TIME_S (2:
 * anvil mines a block this often), LOG_LEVEL (info).
 */
import { createLogger } from "@viper/shared/logger";
import { startDevnet } from "./devnet.ts";

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) {
    throw new Error(`${name} must be an integer, got ${raw}`);
  }
  return value;
}

const logger = createLogger({
  service: "devnet",
  level: process.env.LOG_LEVEL ?? "info",
  format: "pretty",
});

const devnet = await startDevnet({
  anvil: true,
  chains: [{ id: process.env.DEVNET_CHAIN ?? "0021" }],
  servicerCount: intFromEnv("DEVNET_SERVICERS", 5),
  blockTimeMs: intFromEnv("DEVNET_BLOCK_TIME_MS", 1000),
  blocksPerSession: intFromEnv("DEVNET_BLOCKS_PER_SESSION", 4),
  dispatcherPort: intFromEnv("DEVNET_DISPATCHER_PORT", 0),
  anvilBlockTimeSeconds: intFromEnv("DEVNET_ANVIL_BLOCK_TIME_S", 2),
  logger,
});

logger.info(
  {
    dispatcherUrl: devnet.dispatcherUrl,
    anvilUrl: devnet.anvil?.url,
    chainId: devnet.anvil?.chainId,
    chains: devnet.chains.map((chain) => chain.id),
  },
  "devnet ready",
);
devnet.servicers.forEach((servicer, index) => {
  logger.info({ index, url: servicer.url, publicKey: servicer.publicKeyHex }, "servicer");
});

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) {
    return;
  }
  stopping = true;
  logger.info({ signal }, "stopping devnet");
  await devnet.stop();
  process.exit(0);
};
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));

/**
 * The devnet in a process of its own, with every servicer forwarding to the bench's fixed
 * upstream, so the servicers' signature checks do not share the relay's event loop. Started by
 * bench/run.ts; reads BENCH_UPSTREAM_URL, BENCH_CHAIN_ID, BENCH_SERVICERS, BENCH_BLOCK_TIME_MS,
 * BENCH_BLOCKS_PER_SESSION.
 */
import { startDevnet } from "@viper/devnet/devnet";
import { createLogger } from "@viper/shared/logger";
import { announceReady } from "./src/processes.ts";

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(`${name} is not set; start this through bench/run.ts`);
  }
  return value;
}

const logger = createLogger({ service: "bench-devnet", level: "warn", format: "json" });
const devnet = await startDevnet({
  chains: [{ id: required("BENCH_CHAIN_ID"), upstreamUrl: required("BENCH_UPSTREAM_URL") }],
  servicerCount: Number(required("BENCH_SERVICERS")),
  blockTimeMs: Number(required("BENCH_BLOCK_TIME_MS")),
  blocksPerSession: Number(required("BENCH_BLOCKS_PER_SESSION")),
  anvil: false,
  logger,
});

announceReady({ dispatcherUrl: devnet.dispatcherUrl, pid: process.pid });

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    devnet.stop().finally(() => process.exit(0));
  });
}

/**
 * The relay in a process of its own, configured by its ordinary environment variables, so the
 * bench can read its memory (/proc/<pid>/status) and it shares its event loop with nothing.
 * Started by bench/run.ts, which also passes BENCH_READY_FILE.
 */
import { loadRelayConfig } from "@viper/relay/config";
import { startRelay } from "@viper/relay/main";
import { announceReady } from "./src/processes.ts";

const relay = await startRelay(loadRelayConfig(process.env));

announceReady({ url: relay.url, port: relay.port, pid: process.pid });

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    // Writing the buffered relay logs may take a moment; the parent kills us after 5 s anyway.
    relay.stop().finally(() => process.exit(0));
  });
}

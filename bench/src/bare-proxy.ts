import { bareProxyName } from "./figures.ts";
import type { BenchProcess, ProcessGroup } from "./processes.ts";
import { BenchProcessError } from "./processes.ts";
import { startReadyChild } from "./relay-stack.ts";

/** The bare Bun proxy of scenario P, running in its own process. */
export interface BareProxy {
  url: string;
  process: BenchProcess;
}

/** Starts bench/bare-proxy-process.ts in front of the upstream and waits until it listens. */
export async function startBareProxy(
  group: ProcessGroup,
  runDir: string,
  upstreamUrl: string,
): Promise<BareProxy> {
  const { child, info } = await startReadyChild(
    group,
    runDir,
    bareProxyName,
    "bare-proxy-process.ts",
    { BENCH_UPSTREAM_URL: upstreamUrl },
  );
  if (typeof info.url !== "string") {
    await child.stop();
    throw new BenchProcessError("the bare proxy's ready file has no url");
  }
  return { url: info.url, process: child };
}

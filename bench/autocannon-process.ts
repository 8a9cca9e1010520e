/**
 * Runs one autocannon load in its own process (the fallback when wrk is missing) and prints its
 * numbers as one JSON line. Started by bench/run.ts with the load spec in BENCH_LOAD_SPEC.
 */
import autocannon from "autocannon";
import type { LoadResult, LoadSpec } from "./src/load.ts";

const spec = JSON.parse(process.env.BENCH_LOAD_SPEC ?? "null") as LoadSpec | null;
if (spec === null) {
  throw new Error("BENCH_LOAD_SPEC is not set; start this through bench/run.ts");
}

const headers = { "content-type": "application/json" };
const result = await autocannon({
  url: spec.baseUrl,
  connections: spec.connections,
  duration: spec.durationSec,
  timeout: 5,
  // Each connection walks through the list and starts over, like the wrk script's rotation.
  requests: spec.paths.map((path) => ({ method: "POST" as const, path, headers, body: spec.body })),
});

const summary: LoadResult = {
  requests: result.requests.total,
  durationSec: result.duration,
  rps: result.duration > 0 ? result.requests.total / result.duration : 0,
  p50Ms: result.latency.p50,
  p99Ms: result.latency.p99,
  maxMs: result.latency.max,
  badStatus: result.non2xx,
  socketErrors: result.errors - result.timeouts,
  timeouts: result.timeouts,
};
process.stdout.write(`BENCH_RESULT ${JSON.stringify(summary)}\n`);

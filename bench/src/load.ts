/** One load run: the same body POSTed for a fixed time over a fixed number of connections. */
export interface LoadSpec {
  /** Base URL of the server under test, e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  /** Paths to rotate through, one request each in turn (one per API key for the relay). */
  paths: string[];
  body: string;
  durationSec: number;
  connections: number;
  threads: number;
  /** A short name for the run's files, e.g. "C-keys1-batch10". */
  label: string;
}

/** What the load generator measured. Latencies are in milliseconds. */
export interface LoadResult {
  requests: number;
  durationSec: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Answers with a status of 400 or more (wrk) or outside 2xx (autocannon). */
  badStatus: number;
  /** Connect, read and write errors on the socket. */
  socketErrors: number;
  timeouts: number;
}

/** A load generator the bench can drive; each run happens in its own process. */
export interface LoadGenerator {
  name: "wrk" | "autocannon";
  version: string;
  run(spec: LoadSpec): Promise<LoadResult>;
}

/** The load generator failed or printed nothing the bench could read. */
export class LoadGeneratorError extends Error {
  override name = "LoadGeneratorError";
}

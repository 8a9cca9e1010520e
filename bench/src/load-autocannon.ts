import type { LoadGenerator, LoadResult, LoadSpec } from "./load.ts";
import { LoadGeneratorError } from "./load.ts";
import { type ProcessGroup, runPiped } from "./processes.ts";

const marker = "BENCH_RESULT ";
const script = new URL("../autocannon-process.ts", import.meta.url).pathname;

/** autocannon (npm) run by Bun in a process of its own; used when wrk is not available. */
export function autocannonGenerator(group: ProcessGroup, version: string): LoadGenerator {
  return {
    name: "autocannon",
    version,
    async run(spec: LoadSpec): Promise<LoadResult> {
      const { stdout, stderr, code } = await runPiped(
        group,
        `autocannon ${spec.label}`,
        [process.execPath, script],
        {
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin", BENCH_LOAD_SPEC: JSON.stringify(spec) },
          limitMs: (spec.durationSec + 30) * 1000,
        },
      );
      const line = stdout.split("\n").find((candidate) => candidate.startsWith(marker));
      if (code !== 0 || line === undefined) {
        throw new LoadGeneratorError(`autocannon exited with ${code}: ${stderr.slice(-500)}`);
      }
      return JSON.parse(line.slice(marker.length)) as LoadResult;
    },
  };
}

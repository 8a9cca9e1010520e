import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LoadGenerator, LoadResult, LoadSpec } from "./load.ts";
import { LoadGeneratorError } from "./load.ts";
import { type ProcessGroup, runPiped } from "./processes.ts";

const marker = "BENCH_RESULT ";

/** A Lua long string that cannot be closed early by anything in `text`. */
function luaLongString(text: string): string {
  let level = "=";
  while (text.includes(`]${level}]`)) {
    level += "=";
  }
  return `[${level}[${text}]${level}]`;
}

/**
 * The Lua script wrk runs: POSTs the body, cycling through the paths when there are several
 * (pre-formatted once, so the per-request cost is a table lookup), and prints its numbers as one
 * JSON line for the bench to read.
 */
export function wrkScript(spec: LoadSpec): string {
  const paths = spec.paths.map((path) => luaLongString(path)).join(", ");
  return `wrk.method = "POST"
wrk.body = ${luaLongString(spec.body)}
wrk.headers["Content-Type"] = "application/json"

local paths = { ${paths} }
local prepared = {}
local next_index = 0

if #paths > 1 then
  init = function(args)
    for i, path in ipairs(paths) do
      prepared[i] = wrk.format(nil, path)
    end
  end

  request = function()
    next_index = next_index % #prepared + 1
    return prepared[next_index]
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '${marker}{"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
`;
}

interface WrkNumbers {
  requests: number;
  durationUs: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

/** Reads the JSON line the script's done() printed; throws when wrk printed none. */
export function parseWrkOutput(stdout: string): LoadResult {
  const line = stdout.split("\n").find((candidate) => candidate.startsWith(marker));
  if (line === undefined) {
    throw new LoadGeneratorError(`wrk printed no result line:\n${stdout.slice(-1000)}`);
  }
  const numbers = JSON.parse(line.slice(marker.length)) as WrkNumbers;
  const durationSec = numbers.durationUs / 1e6;
  return {
    requests: numbers.requests,
    durationSec,
    rps: durationSec > 0 ? numbers.requests / durationSec : 0,
    p50Ms: numbers.p50Us / 1000,
    p99Ms: numbers.p99Us / 1000,
    maxMs: numbers.maxUs / 1000,
    badStatus: numbers.status,
    socketErrors: numbers.connect + numbers.read + numbers.write,
    timeouts: numbers.timeout,
  };
}

/** wrk from Debian, one process per run, registered with the group so Ctrl-C stops it. */
export function wrkGenerator(
  wrkPath: string,
  version: string,
  group: ProcessGroup,
  runDir: string,
): LoadGenerator {
  return {
    name: "wrk",
    version,
    async run(spec: LoadSpec): Promise<LoadResult> {
      const scriptPath = join(runDir, `${spec.label}.lua`);
      writeFileSync(scriptPath, wrkScript(spec));
      const target = spec.paths.length === 1 ? `${spec.baseUrl}${spec.paths[0]}` : spec.baseUrl;
      const command = [
        wrkPath,
        `--threads=${spec.threads}`,
        `--connections=${spec.connections}`,
        `--duration=${spec.durationSec}s`,
        "--timeout=5s",
        `--script=${scriptPath}`,
        target,
      ];
      // wrk stops itself after the duration; the limit only catches a wrk that hangs.
      const { stdout, stderr, code } = await runPiped(group, `wrk ${spec.label}`, command, {
        limitMs: (spec.durationSec + 30) * 1000,
      });
      if (code !== 0) {
        throw new LoadGeneratorError(`wrk exited with ${code}: ${stderr.slice(-500)}`);
      }
      return parseWrkOutput(stdout);
    },
  };
}

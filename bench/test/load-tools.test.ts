import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixedAnswer, requestBody } from "../src/json-rpc-bodies.ts";
import type { LoadSpec } from "../src/load.ts";
import { parseWrkOutput, wrkGenerator } from "../src/load-wrk.ts";
import { startNginx } from "../src/nginx.ts";
import { ProcessGroup } from "../src/processes.ts";
import { findProgram } from "../src/system-tools.ts";

// wrk and nginx come from Debian packages the bench installs itself; a machine without them
// skips these tests instead of failing them (bench/README.md says how to install them).
const wrk = findProgram("wrk");
const nginx = findProgram("nginx");

const runDir = mkdtempSync(join(tmpdir(), "bench-tools-test-"));
const group = new ProcessGroup();
const seenPaths = new Set<string>();
const seenBodies = new Set<string>();
let upstream: ReturnType<typeof Bun.serve>;
let upstreamUrl: string;

beforeAll(() => {
  chmodSync(runDir, 0o755);
  upstream = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const body = await request.text();
      seenPaths.add(new URL(request.url).pathname);
      seenBodies.add(body);
      if (request.url.endsWith("/broken")) {
        return new Response("no", { status: 503 });
      }
      return new Response(fixedAnswer(body), { headers: { "content-type": "application/json" } });
    },
  });
  upstreamUrl = `http://127.0.0.1:${upstream.port}`;
});

afterAll(async () => {
  await group.stopAll();
  upstream.stop(true);
  rmSync(runDir, { recursive: true, force: true });
});

function spec(baseUrl: string, paths: string[], label: string): LoadSpec {
  return {
    baseUrl,
    paths,
    body: requestBody(10),
    durationSec: 1,
    connections: 4,
    threads: 1,
    label,
  };
}

describe.skipIf(wrk === null)("wrk with the bench's script", () => {
  test("POSTs the body to every path in turn and reports what it did", async () => {
    const generator = wrkGenerator(wrk ?? "wrk", "wrk", group, runDir);

    const result = await generator.run(
      spec(upstreamUrl, ["/v1/a/k1", "/v1/a/k2", "/v1/a/k3"], "rotate"),
    );

    expect(["/v1/a/k1", "/v1/a/k2", "/v1/a/k3"].every((path) => seenPaths.has(path))).toBe(true);
    expect(seenBodies.has(requestBody(10))).toBe(true);
    expect(result.requests).toBeGreaterThan(0);
    expect(result.badStatus + result.socketErrors + result.timeouts).toBe(0);
    expect(result.p99Ms).toBeGreaterThanOrEqual(result.p50Ms);
  }, 20_000);

  test("counts answers with an error status", async () => {
    const generator = wrkGenerator(wrk ?? "wrk", "wrk", group, runDir);

    const result = await generator.run(spec(upstreamUrl, ["/broken"], "broken"));

    expect(result.badStatus).toBe(result.requests);
  }, 20_000);
});

describe.skipIf(nginx === null)("nginx as the reference proxy", () => {
  test("forwards the JSON-RPC body and answers with the upstream's answer", async () => {
    const proxy = await startNginx(group, nginx ?? "nginx", runDir, upstreamUrl);

    const response = await fetch(`${proxy.url}/via-nginx`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: requestBody(1),
    });

    expect(response.status).toBe(200);
    expect(await response.text()).toBe(fixedAnswer(requestBody(1)));
    expect(seenPaths.has("/via-nginx")).toBe(true);
    await proxy.process.stop();
    expect(proxy.process.hasExited()).toBe(true);
  }, 20_000);
});

describe("wrk output", () => {
  test("without a result line is an error naming what wrk printed", () => {
    expect(() => parseWrkOutput("unable to connect to 127.0.0.1:1")).toThrow("unable to connect");
  });
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BareProxy, startBareProxy } from "../src/bare-proxy.ts";
import { fixedAnswer, requestBody } from "../src/json-rpc-bodies.ts";
import { ProcessGroup } from "../src/processes.ts";

const runDir = mkdtempSync(join(tmpdir(), "bench-bare-proxy-test-"));
const group = new ProcessGroup();
const received: string[] = [];
// An unusual content type, so the test sees it is the upstream's and not one the proxy made up.
const upstreamType = "application/json; charset=utf-8";
let upstream: ReturnType<typeof Bun.serve>;
let proxy: BareProxy;

beforeAll(async () => {
  upstream = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const body = await request.text();
      received.push(body);
      return new Response(fixedAnswer(body), { headers: { "content-type": upstreamType } });
    },
  });
  proxy = await startBareProxy(group, runDir, `http://127.0.0.1:${upstream.port}`);
}, 30_000);

afterAll(async () => {
  await group.stopAll();
  upstream.stop(true);
  rmSync(runDir, { recursive: true, force: true });
});

async function call(body: string): Promise<Response> {
  return await fetch(proxy.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
}

describe("the bare Bun proxy (scenario P)", () => {
  test("passes a JSON-RPC call to the upstream and its answer back, byte for byte", async () => {
    const body = requestBody(1);

    const response = await call(body);

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe(upstreamType);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(
      new TextEncoder().encode(fixedAnswer(body)),
    );
    expect(received.at(-1)).toBe(body);
  });

  test("passes a batch of 100 calls the same way", async () => {
    const body = requestBody(100);

    const response = await call(body);

    expect(await response.text()).toBe(fixedAnswer(body));
    expect(received.at(-1)).toBe(body);
  });

  test("answers 502 when the upstream is gone, and stops when asked", async () => {
    const orphan = await startBareProxy(group, runDir, "http://127.0.0.1:1");

    const response = await fetch(orphan.url, { method: "POST", body: requestBody(1) });
    await orphan.process.stop();

    expect(response.status).toBe(502);
    expect(orphan.process.hasExited()).toBe(true);
  }, 20_000);
});

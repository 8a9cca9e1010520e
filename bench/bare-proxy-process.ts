/**
 * Scenario P: the smallest proxy Bun can be. It reads each request's body, sends it with `fetch`
 * to the fixed upstream and answers with the upstream's bytes and content type; no key check, no
 * limits, no logs. What it costs is what the runtime alone costs for one proxy hop, the floor
 * under the relay (scenario C). Started by bench/run.ts; reads BENCH_UPSTREAM_URL.
 */
import { announceReady } from "./src/processes.ts";

const upstreamUrl = process.env.BENCH_UPSTREAM_URL;
if (upstreamUrl === undefined || upstreamUrl === "") {
  throw new Error("BENCH_UPSTREAM_URL is not set; start this through bench/run.ts");
}

// The relay sends JSON-RPC as application/json whatever the client said; so does this floor.
const forwardHeaders = { "content-type": "application/json" };

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    // Bun's fetch keeps connections to the upstream alive and reuses them by default.
    const answer = await fetch(upstreamUrl, {
      method: "POST",
      headers: forwardHeaders,
      body: await request.arrayBuffer(),
    });
    return new Response(await answer.arrayBuffer(), {
      status: answer.status,
      headers: { "content-type": answer.headers.get("content-type") ?? "application/json" },
    });
  },
  // An upstream that cannot be reached is a gateway error, counted by the load generator.
  error: () => new Response("upstream unreachable", { status: 502 }),
});

announceReady({ url: `http://127.0.0.1:${server.port}`, pid: process.pid });

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.stop(true);
    process.exit(0);
  });
}

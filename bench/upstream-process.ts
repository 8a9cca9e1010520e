/**
 * The fast upstream: a JSON-RPC "node" that answers every call with a fixed result. It runs in its
 * own process so the server under test never shares its event loop. Started by bench/run.ts.
 */
import { fixedAnswer } from "./src/json-rpc-bodies.ts";
import { announceReady } from "./src/processes.ts";

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    const answer = fixedAnswer(await request.text());
    return new Response(answer, { headers: { "content-type": "application/json" } });
  },
});

announceReady({ url: `http://127.0.0.1:${server.port}`, pid: process.pid });

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.stop(true);
    process.exit(0);
  });
}

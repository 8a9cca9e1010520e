// Temporary in-process load loop for profiling the relay's per-request CPU (not committed).
import { openDatabase } from "@viper/db/client";
import { createProjectWithKey, upsertChains } from "@viper/db/seed";
import { createLogger } from "@viper/shared/logger";
import { generateKeyPair } from "@viper/shared/protocol";
import { RedisStore } from "@viper/shared/store";
import { createRelayApp } from "../src/app.ts";
import { parseRateLimitConfig } from "../src/rate-limit/config.ts";

const internal = process.env.INTERNAL === "1";
const seconds = Number(process.env.SECS ?? 5);
const handle = await openDatabase({ url: "postgres://postgres@127.0.0.1:5432/viper_bench", poolSize: 4 });
await upsertChains(handle.db, [{ id: "0b01", slug: "bench-plain", name: "p" }, { id: "0021", slug: "bench-viper", name: "v" }]);
const seeded = await createProjectWithKey(handle.db, {
  email: `inproc-${Date.now()}@x.localhost`, projectName: "inproc", chainIds: ["0b01", "0021"], rules: { ratePerSecond: 10_000_000 }, internal,
});
const store = new RedisStore({ url: "redis://127.0.0.1:6379/9", prefix: "inproc:" });
const logger = createLogger({ service: "relay", level: "info", destination: { write() {} } as never });
const requestor = generateKeyPair();
const app = createRelayApp({
  db: handle.db, store, logger,
  viper: { dispatchUrls: [process.env.DISPATCH ?? "http://127.0.0.1:1"], requestor, client: requestor, numServicers: 5, blocksPerSession: 4, defaultZone: "0001" },
  limits: { maxBodyBytes: 1 << 20, deadlineMs: 10_000, servicerTimeoutMs: 2_500 },
  relayLog: { spoolDir: null },
  rateLimit: parseRateLimitConfig({ defaultTier: "b", tiers: { b: { project: { perSecond: 1e7 }, key: { perSecond: 1e7 }, methods: {} } } }),
  plainUpstreams: { "0b01": ["http://127.0.0.1:18081/"] },
});
await app.decorator.relay.ready;
const url = `http://relay.test/v1/${process.env.DISPATCH ? "bench-viper" : "bench-plain"}/${seeded.apiKey.key}`;
const body = '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}';
const one = async () => {
  const r = await app.handle(new Request(url, { method: "POST", headers: { "content-type": "application/json", "content-length": String(body.length) }, body }));
  const t = await r.text();
  if (r.status !== 200) throw new Error(`${r.status} ${t}`);
};
for (let i = 0; i < 500; i++) await one();
let count = 0;
let stop = false;
const loop = async () => { while (!stop) { await one(); count++; } };
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const loops = Array.from({ length: 64 }, loop);
await Bun.sleep(seconds * 1000);
stop = true;
await Promise.all(loops);
const el = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ internal, rps: Math.round(count / el), cpuUsPerReq: Math.round((cpu.user + cpu.system) / count), cpuPct: Math.round((cpu.user + cpu.system) / 1e4 / el) }));
await app.decorator.relay.close();
await store.close();
await handle.close();
process.exit(0);

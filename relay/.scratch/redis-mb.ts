import { RedisClient } from "bun";
import { Redis } from "ioredis";
const script = "return redis.call('TIME')";
const io = new Redis("redis://127.0.0.1:6379/9", { enableAutoPipelining: true });
const sha = (await io.script("LOAD", script)) as string;
const bn = new RedisClient("redis://127.0.0.1:6379/9");
await bn.connect();
async function run(name: string, f: () => Promise<unknown>) {
  const n = 50000; const conc = 64; let i = 0;
  const c0 = process.cpuUsage(); const t0 = performance.now();
  await Promise.all(Array.from({ length: conc }, async () => { while (i++ < n) await f(); }));
  const c = process.cpuUsage(c0); const el = performance.now() - t0;
  console.log(name, "ops/s", Math.round(n / el * 1000), "cpu us/op", ((c.user + c.system) / n).toFixed(1));
}
for (let k = 0; k < 2; k++) {
  await run("ioredis evalsha", () => io.evalsha(sha, 2, "a", "b", "1", "2", "3", "4", "5", "6"));
  await run("bun evalsha", () => bn.send("EVALSHA", [sha, "2", "a", "b", "1", "2", "3", "4", "5", "6"]));
}
io.disconnect(); bn.close();

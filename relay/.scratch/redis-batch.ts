import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { execSync } from "node:child_process";
const redisPid = execSync("pgrep -f 'redis-server 127.0.0.1:6379'").toString().trim().split("\n")[0];
const ticks = () => { const f = readFileSync(`/proc/${redisPid}/stat`, "utf8").split(") ")[1].split(" "); return Number(f[11]) + Number(f[12]); };
const io = new Redis("redis://127.0.0.1:6379/9", { enableAutoPipelining: true });
const noop = await io.script("LOAD", "return 1") as string;
const time = await io.script("LOAD", "return redis.call('TIME')") as string;
const loop = await io.script("LOAD", "local r={} for i=1,#KEYS do local s=redis.call('HMGET',KEYS[i],'l','t') r[i]=tostring(s[1]) end return r") as string;
async function run(name: string, f: () => Promise<unknown>, n = 20000) {
  let i = 0; const t0 = ticks(); const w0 = performance.now();
  await Promise.all(Array.from({ length: 64 }, async () => { while (i++ < n) { await f(); } }));
  console.log(name, "redis cpu us/op", ((ticks() - t0) * 10000 / n).toFixed(1), "ops/s", Math.round(n / (performance.now() - w0) * 1000));
}
await run("noop script", () => io.evalsha(noop, 0));
await run("TIME script", () => io.evalsha(time, 0));
await run("loop 2 keys", () => io.evalsha(loop, 2, "a", "b"));
await run("loop 32 keys", () => io.evalsha(loop, 32, ...Array.from({length:32},(_, i)=>"k"+i)));
io.disconnect();

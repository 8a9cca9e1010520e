import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { execSync } from "node:child_process";
const redisPid = execSync("pgrep -f 'redis-server 127.0.0.1:6379'").toString().trim().split("\n")[0];
const ticks = () => { const f = readFileSync(`/proc/${redisPid}/stat`, "utf8").split(") ")[1].split(" "); return Number(f[11]) + Number(f[12]); };
const io = new Redis("redis://127.0.0.1:6379/9", { enableAutoPipelining: true });
const src = readFileSync("src/rate-limit/redis-limiter.ts", "utf8");
const cur = src.split("const takeScript = `")[1].split("`;")[0];
const strScript = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local stored = redis.call('MGET', unpack(KEYS))
local levels = {}
local admitted = true
local reply = {tostring(now)}
for i = 1, #KEYS do
  local capacity = tonumber(ARGV[i * 3 - 2])
  local rate = tonumber(ARGV[i * 3 - 1])
  local cost = tonumber(ARGV[i * 3])
  local level, at = 0, now
  if stored[i] then
    local sep = string.find(stored[i], ':', 1, true)
    level = tonumber(string.sub(stored[i], 1, sep - 1)) or 0
    at = tonumber(string.sub(stored[i], sep + 1)) or now
  end
  level = math.max(0, level - math.max(0, now - at) * rate / 1000)
  levels[i] = level
  local room = level + cost <= capacity
  if not room then admitted = false end
  reply[#reply + 1] = tostring(level)
  reply[#reply + 1] = room and '1' or '0'
end
if admitted then
  for i = 1, #KEYS do
    local rate = tonumber(ARGV[i * 3 - 1])
    local level = levels[i] + tonumber(ARGV[i * 3])
    redis.call('SET', KEYS[i], tostring(level) .. ':' .. tostring(now), 'PX', math.ceil(level / rate * 1000) + 1000)
  end
end
return reply
`;
const s1 = await io.script("LOAD", cur) as string;
const s2 = await io.script("LOAD", strScript) as string;
async function run(name: string, f: (i: number) => Promise<unknown>, n = 40000) {
  let i = 0; const t0 = ticks(); const w0 = performance.now();
  await Promise.all(Array.from({ length: 64 }, async () => { while (i < n) { await f(i++); } }));
  const t1 = ticks(); const el = performance.now() - w0;
  console.log(name, "redis cpu us/op", ((t1 - t0) * 10000 / n).toFixed(1), "ops/s", Math.round(n / el * 1000));
}
const args = ["1e7", "1e7", "1", "1e7", "1e7", "1"];
for (let k = 0; k < 2; k++) {
  await run("hash script", () => io.evalsha(s1, 2, "rlx:key:a", "rlx:project:b", ...args));
  await run("string script", () => io.evalsha(s2, 2, "rly:key:a", "rly:project:b", ...args));
  await run("plain GET", () => io.get("x"));
}
io.disconnect();

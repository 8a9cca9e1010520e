import { openDatabase } from "@viper/db/client";
import { createProjectWithKey, upsertChains } from "@viper/db/seed";
const handle = await openDatabase({ url: "postgres://postgres@127.0.0.1:5432/viper_bench", poolSize: 1 });
await upsertChains(handle.db, [{ id: "0b01", slug: "bench-plain", name: "p" }, { id: "0021", slug: "bench-viper", name: "v" }]);
const s = await createProjectWithKey(handle.db, { email: `mk-${Date.now()}@x.localhost`, projectName: "mk", chainIds: ["0b01", "0021"], rules: { ratePerSecond: 10_000_000 } });
console.log(s.apiKey.key);
await handle.close();

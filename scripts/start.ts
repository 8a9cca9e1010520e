// `npm start`: the whole product on one machine. Without DATABASE_URL it runs on the embedded
// PGlite, without REDIS_URL on the in-process store, and without VIPER_DISPATCH_URLS it starts a
// local Viper devnet whose servicers forward to anvil. Relay and server share one database handle
// and one store here, because PGlite allows one process on its files.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openDatabase } from "@viper/db/client";
import { migrateDatabase } from "@viper/db/migrate";
import { type ChainSeed, createProjectWithKey, upsertChains } from "@viper/db/seed";
import { startDevnet } from "@viper/devnet/devnet";
import { loadRelayConfig } from "@viper/relay/config";
import { startRelay } from "@viper/relay/main";
import { loadServerConfig } from "@viper/server/config";
import { startServer } from "@viper/server/main";
import { ConfigError } from "@viper/shared/config";
import { createLogger } from "@viper/shared/logger";
import { generateKeyPair } from "@viper/shared/protocol";
import { createStore } from "@viper/shared/store";
import { z } from "zod";

/** The chain the local devnet serves through anvil. */
const devnetChain = {
  id: "0021",
  slug: "eth-devnet",
  name: "Ethereum (local devnet)",
  evmChainId: 31337,
};

const dataDir = process.env.DATA_DIR ?? ".data";
mkdirSync(dataDir, { recursive: true });

const logger = createLogger({
  service: "portal",
  level: process.env.LOG_LEVEL ?? "info",
  format: process.env.LOG_FORMAT === "json" || !process.stdout.isTTY ? "json" : "pretty",
  environment: process.env.NODE_ENV ?? "development",
});

/** Reads a JSON file of ours from the data folder, or makes and keeps it. */
function kept<T>(name: string, make: () => T): T {
  const path = join(dataDir, name);
  if (existsSync(path)) {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  }
  const value = make();
  writeFileSync(path, JSON.stringify(value, null, 2), { mode: 0o600 });
  return value;
}

async function main() {
  const env: Record<string, string | undefined> = { ...process.env };
  env.PGLITE_DIR ??= join(dataDir, "pglite");
  const useDevnet = !env.VIPER_DISPATCH_URLS;
  if (useDevnet) {
    // The devnet accepts any requestor; the key is kept so sessions survive a restart.
    env.VIPER_REQUESTOR_PRIVATE_KEY ??= kept("requestor-key.json", () => ({
      privateKeyHex: generateKeyPair().privateKeyHex,
    })).privateKeyHex;
    env.VIPER_DISPATCH_URLS = "http://127.0.0.1:1"; // replaced below once the devnet is up
  }
  const relayConfig = loadRelayConfig(env);
  const serverConfig = loadServerConfig(env);
  const extraChains = configuredChains(env.PORTAL_CHAINS);

  const devnet = useDevnet
    ? await startDevnet({
        anvil: true,
        chains: [{ id: devnetChain.id }],
        blockTimeMs: 2000,
        // The chain's head moves on its own, so eth_blockNumber shows the devnet is live.
        anvilBlockTimeSeconds: 2,
        logger,
      })
    : null;
  if (devnet) {
    relayConfig.VIPER_DISPATCH_URLS = [devnet.dispatcherUrl];
  }

  const database = await openDatabase({
    url: relayConfig.DATABASE_URL,
    pgliteDir: relayConfig.PGLITE_DIR,
    poolSize: relayConfig.DATABASE_POOL_SIZE,
  });
  await migrateDatabase(database);
  const store = createStore(relayConfig.REDIS_URL);

  const chains = [...(devnet ? [devnetChain] : []), ...extraChains];
  await upsertChains(database.db, chains);
  const demoKey = devnet ? await demoKeyFor(database.db) : null;

  const relay = await startRelay(relayConfig, { db: database.db, store, logger });
  // The dashboard's RPC URLs name the relay that runs here, on whatever port it bound; the
  // server's own PUBLIC_URL follows its port the same way (startServer).
  serverConfig.RELAY_PUBLIC_URL ??= relay.url;
  const server = await startServer(serverConfig, { db: database.db, store, logger });

  console.log(`Dashboard API: ${server.url}/trpc`);
  console.log(`Relay API docs: ${relay.url}/docs`);
  if (demoKey) {
    console.log(`RPC URL: ${relay.url}/v1/${devnetChain.slug}/${demoKey}`);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      return;
    }
    stopping = true;
    logger.info({ signal }, "stopping");
    await relay.stop();
    await server.stop();
    await devnet?.stop();
    await store.close();
    await database.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

const chainSeedSchema = z.array(
  z.object({
    id: z.string().regex(/^(?:[0-9a-f]{2}){1,4}$/, "a Viper chain id: 1-4 bytes of lower-case hex"),
    slug: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lower-case letters, digits and dashes"),
    name: z.string().min(1).max(100),
    evmChainId: z.number().int().positive().optional(),
    supportsWebsocket: z.boolean().optional(),
  }),
);

/** The chains an operator lists in PORTAL_CHAINS (JSON); a bad list stops the start. */
function configuredChains(json: string | undefined): ChainSeed[] {
  if (!json) {
    return [];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new ConfigError(["PORTAL_CHAINS: not valid JSON"]);
  }
  const result = chainSeedSchema.safeParse(parsed);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `PORTAL_CHAINS.${issue.path.join(".")}: ${issue.message}`),
    );
  }
  return result.data;
}

/**
 * The first start's demo: a verified user owning a project on the devnet chain, with one key.
 * The raw key is kept in the data folder (never in the database) so later starts print it again.
 */
async function demoKeyFor(db: Parameters<typeof createProjectWithKey>[0]): Promise<string> {
  const path = join(dataDir, "demo-key.json");
  if (existsSync(path)) {
    return (JSON.parse(readFileSync(path, "utf8")) as { key: string }).key;
  }
  const demo = await createProjectWithKey(db, {
    email: "demo@viper.local",
    projectName: "Demo project",
    chainIds: [devnetChain.id],
    keyName: "demo key",
  });
  writeFileSync(path, JSON.stringify({ key: demo.apiKey.key }), { mode: 0o600 });
  logger.info({ projectId: demo.projectId, keyId: demo.keyId }, "demo project created");
  return demo.apiKey.key;
}

try {
  await main();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    logger.fatal({ err: error }, "start failed");
  }
  process.exit(1);
}

import { startAnalyticsJobs } from "@viper/db/analytics/jobs";
import { type DatabaseHandle, openDatabase } from "@viper/db/client";
import { migrateDatabase } from "@viper/db/migrate";
import { createLogger } from "@viper/shared/logger";
import { createStore, type KeyValueStore } from "@viper/shared/store";
import { createServerApp, type ServerApp, type ServerAppOptions } from "./app.ts";
import { loadServerConfig, type ServerConfig, serverUrl } from "./config.ts";
import type { ServerDeps } from "./services.ts";

/** What a caller may supply instead of what config would open; the caller then closes it. */
export type ServerOverrides = Partial<Omit<ServerDeps, "config">> & ServerAppOptions;

export interface RunningServer {
  /** http://host:port, without a trailing slash. */
  url: string;
  port: number;
  /** PUBLIC_URL, or `url` when it is unset: where mail links and cookie checks point. */
  publicUrl: string;
  /** Stops listening and closes what startServer opened itself (not the overrides). */
  stop(): Promise<void>;
}

/**
 * Starts the dashboard API on SERVER_HOST:SERVER_PORT (port 0 picks a free one). Opens and
 * migrates the database and opens the store unless they are passed in. Without PUBLIC_URL the
 * server's public address is the one it listens on.
 */
export async function startServer(
  config: ServerConfig,
  overrides: ServerOverrides = {},
): Promise<RunningServer> {
  const logger =
    overrides.logger ??
    createLogger({
      service: "server",
      level: config.LOG_LEVEL,
      format: config.LOG_FORMAT,
      environment: config.NODE_ENV,
    });
  const owned: Array<() => Promise<void>> = [];
  try {
    const db = overrides.db ?? (await openOwnDatabase(config, owned));
    const store = overrides.store ?? openOwnStore(config, owned);
    // The socket is bound before the app is built: an unset PUBLIC_URL is the address bound,
    // which only the socket knows with SERVER_PORT=0. Requests arriving in between wait.
    let resolveApp: (app: ServerApp) => void = () => {};
    const built = new Promise<ServerApp>((resolve) => {
      resolveApp = resolve;
    });
    const server = Bun.serve({
      hostname: config.SERVER_HOST,
      port: config.SERVER_PORT,
      // The app answers a body over MAX_REQUEST_BODY_BYTES with a JSON 413 before reading it;
      // far larger ones Bun refuses itself (an empty 413) without handing them to the app.
      maxRequestBodySize: config.MAX_REQUEST_BODY_BYTES * 8,
      fetch: async (request, bunServer) => (await built).fetch(request, bunServer),
    });
    owned.push(() => server.stop(true));
    const port = server.port ?? config.SERVER_PORT;
    const url = serverUrl(config.SERVER_HOST, port);
    const publicUrl = config.PUBLIC_URL ?? url;
    const app = await createServerApp(
      { ...overrides, config: { ...config, PUBLIC_URL: publicUrl }, db, store, logger },
      overrides,
    );
    resolveApp(app);
    // Usage rollups, daily partitions and retention (docs/analytics.md); stopped before the
    // database closes.
    const jobs = startAnalyticsJobs({ db, logger: logger.child({ job: "analytics" }) });
    owned.push(() => jobs.stop());
    logger.info({ url, publicUrl }, "server listening");
    return {
      url,
      port,
      publicUrl,
      async stop() {
        await closeAll(owned);
        logger.info("server stopped");
      },
    };
  } catch (error) {
    await closeAll(owned);
    throw error;
  }
}

async function openOwnDatabase(config: ServerConfig, owned: Array<() => Promise<void>>) {
  const handle: DatabaseHandle = await openDatabase({
    url: config.DATABASE_URL,
    pgliteDir: config.PGLITE_DIR,
    poolSize: config.DATABASE_POOL_SIZE,
  });
  owned.push(() => handle.close());
  await migrateDatabase(handle);
  return handle.db;
}

function openOwnStore(config: ServerConfig, owned: Array<() => Promise<void>>): KeyValueStore {
  const store = createStore(config.REDIS_URL);
  owned.push(() => store.close());
  return store;
}

async function closeAll(owned: Array<() => Promise<void>>): Promise<void> {
  for (const close of owned.reverse()) {
    await close();
  }
}

async function runStandalone(): Promise<void> {
  const config = loadServerConfig();
  const server = await startServer(config);
  let stopping = false;
  const shutdown = () => {
    if (!stopping) {
      stopping = true;
      void server.stop().then(() => process.exit(0));
    }
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}

if (import.meta.main) {
  await runStandalone();
}

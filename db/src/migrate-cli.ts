import { baseConfigSchema, loadConfig } from "@viper/shared/config";
import { createLogger } from "@viper/shared/logger";
import { openDatabase } from "./client.ts";
import { migrateDatabase } from "./migrate.ts";

// `bun run db:migrate`: applies migrations to DATABASE_URL, or to the embedded PGlite.
const config = loadConfig(baseConfigSchema);
const logger = createLogger({
  service: "migrate",
  level: config.LOG_LEVEL,
  format: config.LOG_FORMAT,
});
const handle = await openDatabase({ url: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR });
await migrateDatabase(handle);
logger.info({ driver: handle.kind }, "migrations applied");
await handle.close();

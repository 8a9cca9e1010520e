import { fileURLToPath } from "node:url";
import type { PgliteDatabase } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import type { PostgresJsDatabase } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import { ensureRelayLogPartitions } from "./analytics/partitions.ts";
import type { DatabaseHandle } from "./client.ts";

/** The folder drizzle-kit writes to (see drizzle.config.ts at the repo root). */
export const migrationsFolder = fileURLToPath(new URL("../migrations", import.meta.url));

/**
 * Applies every pending migration, then the steps drizzle-kit cannot express (relay_logs
 * partitioned by day); safe to run on each start.
 */
export async function migrateDatabase(handle: DatabaseHandle): Promise<void> {
  if (handle.kind === "pglite") {
    await migratePglite(handle.db as unknown as PgliteDatabase, { migrationsFolder });
  } else {
    await migratePostgres(handle.db as unknown as PostgresJsDatabase, { migrationsFolder });
  }
  await ensureRelayLogPartitions(handle.db);
}

import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema/index.ts";

export { schema };

/** The query surface both drivers share; services depend on this, never on a driver. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface DatabaseHandle {
  db: Database;
  kind: "postgres" | "pglite";
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** A postgres:// URL; without one the embedded PGlite is used. */
  url?: string | undefined;
  /** Where PGlite keeps its files; omitted means in memory (tests). */
  pgliteDir?: string | undefined;
  poolSize?: number;
  /** Called with every SQL statement; tests count queries with it. */
  onQuery?: (query: string) => void;
}

/** Opens the database: postgres.js with a pool when a URL is given, PGlite otherwise. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const logger = options.onQuery
    ? { logQuery: (query: string) => options.onQuery?.(query) }
    : undefined;
  if (options.url) {
    const client = postgres(options.url, {
      max: options.poolSize ?? 10,
      onnotice: () => undefined,
      // Queries fail fast while the server is away instead of queueing forever.
      connect_timeout: 5,
    });
    const db = drizzlePostgres({ client, schema, logger }) as unknown as Database;
    return {
      db,
      kind: "postgres",
      ping: () => pingDatabase(db),
      close: () => client.end({ timeout: 5 }),
    };
  }
  if (options.pgliteDir) {
    mkdirSync(options.pgliteDir, { recursive: true });
  }
  const client = options.pgliteDir ? new PGlite(options.pgliteDir) : new PGlite();
  await client.waitReady;
  const db = drizzlePglite({ client, schema, logger }) as unknown as Database;
  return {
    db,
    kind: "pglite",
    ping: () => pingDatabase(db),
    close: () => client.close(),
  };
}

async function pingDatabase(db: Database): Promise<boolean> {
  try {
    await db.execute(sql`select 1`);
    return true;
  } catch {
    return false;
  }
}

import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { type DatabaseHandle, type OpenDatabaseOptions, openDatabase } from "./client.ts";
import { migrateDatabase } from "./migrate.ts";

/**
 * The server tests create their databases on; CI and every dev machine run Postgres here.
 * TEST_DB picks the driver for the whole run: "pglite" (default) or "postgres".
 */
const adminUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export const testDriver: "pglite" | "postgres" =
  process.env.TEST_DB === "postgres" ? "postgres" : "pglite";

export interface TestDatabase extends DatabaseHandle {
  /** A postgres:// URL for other processes (relay instances); null on PGlite. */
  url: string | null;
}

/**
 * A fresh, migrated database for one test file: a new Postgres database (dropped on close) or
 * an in-memory PGlite. Nothing is shared between files, so tests never see each other's rows.
 */
export async function createTestDatabase(
  options: Pick<OpenDatabaseOptions, "onQuery"> = {},
): Promise<TestDatabase> {
  if (testDriver === "pglite") {
    const handle = await openDatabase({ onQuery: options.onQuery });
    await migrateDatabase(handle);
    return { ...handle, url: null };
  }
  const name = `vp_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database ${name}`);
  const url = withDatabase(adminUrl, name);
  const handle = await openDatabase({ url, poolSize: 5, onQuery: options.onQuery });
  await migrateDatabase(handle);
  return {
    ...handle,
    url,
    async close() {
      await handle.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

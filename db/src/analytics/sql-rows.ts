import type { SQL } from "drizzle-orm";
import type { Database } from "../client.ts";

/**
 * Runs a raw statement and returns its rows on either driver: postgres.js answers with an array,
 * PGlite with `{ rows }`. Numbers of type bigint or numeric come back as strings on one driver
 * and numbers on the other, so callers read them through `Number(...)`.
 */
export async function queryRows<Row>(db: Database, query: SQL): Promise<Row[]> {
  const result: unknown = await db.execute(query);
  if (Array.isArray(result)) {
    return result as Row[];
  }
  const rows = (result as { rows?: unknown }).rows;
  return Array.isArray(rows) ? (rows as Row[]) : [];
}

/** A timestamp column read back from either driver (a Date, or a string from some casts). */
export function asDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

/** A count or sum read back from either driver; null (an empty sum) reads as 0. */
export function asNumber(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

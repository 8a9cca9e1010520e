import { getTableColumns, sql } from "drizzle-orm";
import type { Database } from "../client.ts";
import { type NewRelayLog, relayLogs } from "../schema/relay-logs.ts";
import { usageRollupMarks } from "../schema/usage-rollup-marks.ts";
import { floorTo } from "./time-buckets.ts";

// TODO: per-project sampling of request and response bodies (off by default, secrets redacted,
// kept a few days) is not built; add it beside these rows when a project needs payload debugging.

/** A relay row as the writer holds it: the id is made before the first attempt to store it. */
export type RelayLogRow = NewRelayLog & { id: string };

/**
 * Stores a batch of relay rows and marks their minutes for the rollup job, in one transaction.
 * Rows already stored (same id and time) are skipped, so a batch retried after a lost answer or
 * replayed from the spool is never counted twice. The mark is taken before the rows go in and
 * is held until commit; see usage_rollup_marks for why that keeps late rows in the rollups.
 */
export async function insertRelayLogRows(
  db: Database,
  rows: readonly RelayLogRow[],
  writer: string,
): Promise<void> {
  if (rows.length === 0) {
    return;
  }
  const minutes = [...new Set(rows.map((row) => floorTo(row.createdAt, "minute").getTime()))];
  // Ascending, the order the rollup job deletes marks in, so the two never deadlock.
  minutes.sort((a, b) => a - b);
  const markedAt = new Date();
  await db.transaction(async (tx) => {
    await tx
      .insert(usageRollupMarks)
      .values(minutes.map((at) => ({ bucketStart: new Date(at), writer, markedAt })))
      .onConflictDoUpdate({
        target: [usageRollupMarks.bucketStart, usageRollupMarks.writer],
        set: { markedAt: sql`excluded.marked_at` },
      });
    await tx.execute(sql`
      insert into ${relayLogs} (${relayLogInsert.target})
      select ${relayLogInsert.source}
      from json_to_recordset(${JSON.stringify(rows.map(compactRow))}::json)
        as r(${relayLogInsert.record})
      on conflict do nothing`);
  });
}

// The rows go to the server as one JSON parameter: building a VALUES list of 19 parameters per
// row was most of the relay's CPU under load (bench/README.md, "Performance log"). Fields get
// short names (c0, c1…) and nulls are left out, which halves the text to send and parse.
const relayLogColumns = Object.entries(getTableColumns(relayLogs)).map(([key, column], index) => ({
  key,
  column,
  field: `c${index}`,
}));

const relayLogInsert = {
  target: sql.raw(relayLogColumns.map(({ column }) => `"${column.name}"`).join(", ")),
  source: sql.raw(relayLogColumns.map(({ field }) => `r.${field}`).join(", ")),
  record: sql.raw(
    relayLogColumns.map(({ field, column }) => `${field} ${column.getSQLType()}`).join(", "),
  ),
};

/**
 * The row under short field names, each column the caller left out set to its default as an
 * INSERT would, and null columns left out (json_to_recordset reads a missing field as null).
 */
function compactRow(row: RelayLogRow): Record<string, unknown> {
  const values: Record<string, unknown> = row;
  const compact: Record<string, unknown> = {};
  for (const { key, column, field } of relayLogColumns) {
    const value = values[key] ?? column.default;
    if (value !== null && value !== undefined) {
      compact[field] = value;
    }
  }
  return compact;
}

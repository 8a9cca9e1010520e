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
      from json_to_recordset(${JSON.stringify(rows.map(withDefaults))}::json)
        as r(${relayLogInsert.record})
      on conflict do nothing`);
  });
}

// The rows go to the server as one JSON parameter: building a VALUES list of 19 parameters per
// row was most of the relay's CPU under load (bench/README.md, "Performance log").
const relayLogColumns = Object.entries(getTableColumns(relayLogs));

const relayLogInsert = {
  target: sql.raw(relayLogColumns.map(([, column]) => `"${column.name}"`).join(", ")),
  source: sql.raw(relayLogColumns.map(([key]) => `r."${key}"`).join(", ")),
  record: sql.raw(
    relayLogColumns.map(([key, column]) => `"${key}" ${column.getSQLType()}`).join(", "),
  ),
};

/** The row with each column the caller left out set to its default, as an INSERT would. */
function withDefaults(row: RelayLogRow): Record<string, unknown> {
  const complete: Record<string, unknown> = { ...row };
  for (const [key, column] of relayLogColumns) {
    if (complete[key] === undefined && column.default !== undefined) {
      complete[key] = column.default;
    }
  }
  return complete;
}

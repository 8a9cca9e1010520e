import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { RelayLogRow } from "./relay-log-rows.ts";

/** A Postgres error state as the drivers report it (`code`, five characters). */
export interface SqlStateError {
  sqlState: string;
  message: string;
}

const sqlStatePattern = /^[0-9A-Z]{5}$/;

/**
 * The Postgres error inside what a query threw: Drizzle wraps the driver's error (postgres-js,
 * PGlite) as its `cause`. Null when there is none, as for a refused connection.
 */
export function sqlStateErrorOf(error: unknown): SqlStateError | null {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const code: unknown = "code" in current ? current.code : undefined;
    if (typeof code === "string" && sqlStatePattern.test(code)) {
      const message: unknown = "message" in current ? current.message : "";
      return { sqlState: code, message: String(message) };
    }
    current = "cause" in current ? current.cause : undefined;
  }
  return null;
}

/**
 * True when Postgres refused the data itself: class 22 (data exception, such as NUL in text)
 * or 23 (integrity constraint violation). The same rows fail the same way on every retry,
 * unlike a lost connection or a server that is down.
 */
export function isDataError(error: SqlStateError | null): error is SqlStateError {
  return error !== null && (error.sqlState.startsWith("22") || error.sqlState.startsWith("23"));
}

/**
 * Relay rows the database refused for their content, kept as JSON lines (the row, the error,
 * when) for someone to look at, in `dead-letter/relay-logs.jsonl` inside the spool folder. The
 * spool replays only its own `*.jsonl` files at the top of the folder, so these never go back
 * in on their own.
 */
export class RelayLogDeadLetters {
  /** The file rows are appended to. */
  readonly path: string;
  readonly #dir: string;

  constructor(spoolDir: string) {
    this.#dir = join(spoolDir, "dead-letter");
    this.path = join(this.#dir, "relay-logs.jsonl");
  }

  /** Appends the rows with the error that refused them (synchronously). */
  keep(rows: readonly RelayLogRow[], error: SqlStateError): void {
    // Made on first use, so a healthy spool folder stays empty once its rows are stored.
    mkdirSync(this.#dir, { recursive: true });
    const at = new Date().toISOString();
    const lines = rows.map((row) => `${JSON.stringify({ at, error, row })}\n`);
    appendFileSync(this.path, lines.join(""));
  }
}

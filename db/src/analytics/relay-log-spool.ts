import { randomBytes } from "node:crypto";
import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { RelayLogRow } from "./relay-log-rows.ts";

/**
 * Relay rows kept on local disk while the database is away: append-only JSON lines in segment
 * files under one folder per relay instance. The writer appends to an open segment
 * (`*.open.jsonl`); a segment is sealed (renamed to `*.jsonl`) before it is replayed, and
 * removed only after every row in it is stored. A crash between storing and removing replays
 * the segment, which the row ids make harmless. Rows reach the page cache, not the platter: a
 * process crash keeps them, a power cut may not.
 */
export class RelayLogSpool {
  readonly dir: string;
  readonly #maxSegmentRows: number;
  #openPath: string | null = null;
  #openRows = 0;
  /** Rows per sealed segment, so the writer can report what waits on disk. */
  readonly #sealed = new Map<string, number>();

  constructor(dir: string, options: { maxSegmentRows?: number } = {}) {
    this.dir = dir;
    this.#maxSegmentRows = options.maxSegmentRows ?? 10_000;
    mkdirSync(dir, { recursive: true });
    this.#adoptLeftovers();
  }

  /** Rows on disk not yet stored. */
  get rowCount(): number {
    let total = this.#openRows;
    for (const rows of this.#sealed.values()) {
      total += rows;
    }
    return total;
  }

  /** Appends rows to the open segment (synchronously: they are on disk when this returns). */
  append(rows: readonly RelayLogRow[]): void {
    if (rows.length === 0) {
      return;
    }
    if (this.#openPath === null) {
      this.#openPath = join(this.dir, `${segmentStem()}.open.jsonl`);
      this.#openRows = 0;
    }
    const text = rows.map((row) => `${JSON.stringify(row)}\n`).join("");
    appendFileSync(this.#openPath, text);
    this.#openRows += rows.length;
    if (this.#openRows >= this.#maxSegmentRows) {
      this.seal();
    }
  }

  /** Closes the open segment so it can be replayed; later appends start a new one. */
  seal(): void {
    if (this.#openPath === null) {
      return;
    }
    const sealedPath = this.#openPath.replace(/\.open\.jsonl$/, ".jsonl");
    renameSync(this.#openPath, sealedPath);
    this.#sealed.set(sealedPath, this.#openRows);
    this.#openPath = null;
    this.#openRows = 0;
  }

  /** Sealed segments, oldest first. */
  sealedSegments(): string[] {
    return [...this.#sealed.keys()].sort();
  }

  /**
   * The rows of a sealed segment. A torn last line (the process died mid-append) is skipped:
   * that row never left the dead process's memory intact.
   */
  async read(segment: string): Promise<RelayLogRow[]> {
    const text = await readFile(segment, "utf8");
    const rows: RelayLogRow[] = [];
    for (const line of text.split("\n")) {
      const row = parseRow(line);
      if (row !== null) {
        rows.push(row);
      }
    }
    return rows;
  }

  /** Forgets a segment whose rows are all stored. */
  remove(segment: string): void {
    rmSync(segment, { force: true });
    this.#sealed.delete(segment);
  }

  /** Segments left by an earlier run of this instance are sealed and queued for replay. */
  #adoptLeftovers(): void {
    for (const name of readdirSync(this.dir).sort()) {
      if (!name.endsWith(".jsonl")) {
        continue;
      }
      let path = join(this.dir, name);
      if (name.endsWith(".open.jsonl")) {
        const sealedPath = path.replace(/\.open\.jsonl$/, ".jsonl");
        renameSync(path, sealedPath);
        path = sealedPath;
      }
      const lines = readFileSync(path, "utf8")
        .split("\n")
        .filter((line) => line !== "").length;
      this.#sealed.set(path, lines);
    }
  }
}

/** Sortable by time, unique across restarts and processes. */
function segmentStem(): string {
  const time = new Date().toISOString().replace(/[-:.]/g, "");
  return `relay-logs-${time}-${process.pid}-${randomBytes(3).toString("hex")}`;
}

function parseRow(line: string): RelayLogRow | null {
  if (line.trim() === "") {
    return null;
  }
  try {
    const parsed = JSON.parse(line) as RelayLogRow & { createdAt: string };
    return { ...parsed, createdAt: new Date(parsed.createdAt) };
  } catch {
    return null;
  }
}

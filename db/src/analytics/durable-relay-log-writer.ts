import { hostname } from "node:os";
import type { Logger } from "@viper/shared/logger";
import { withTimeLimit } from "@viper/shared/time-limit";
import type { Database } from "../client.ts";
import type { NewRelayLog } from "../schema/relay-logs.ts";
import {
  isDataError,
  RelayLogDeadLetters,
  type SqlStateError,
  sqlStateErrorOf,
} from "./relay-log-dead-letters.ts";
import { insertRelayLogRows, type RelayLogRow } from "./relay-log-rows.ts";
import { RelayLogSpool } from "./relay-log-spool.ts";

export interface DurableRelayLogWriterOptions {
  db: Database;
  logger: Logger;
  flushIntervalMs?: number;
  /** A flush starts as soon as this many rows wait. */
  batchSize?: number;
  /**
   * Rows held in memory. Past it they go to the spool at once (or, without a spool, the oldest
   * are dropped and counted).
   */
  maxBuffered?: number;
  /**
   * Where rows wait while the database is away; one folder per relay instance. Without it rows
   * wait in memory only, up to maxBuffered.
   */
  spoolDir?: string | null;
  /** Names this writer's rollup marks; host and process by default. */
  writerId?: string;
  /**
   * How long one insert may take before it counts as failed and its rows wait for the next
   * attempt. A write stuck on a lock or a half-dead connection would otherwise hold up every
   * later row; rows of a write that commits after all are skipped on the retry (same ids).
   */
  writeTimeoutMs?: number;
}

/** What the writer has done so far, for metrics. */
export interface RelayLogWriterStats {
  /** Rows in memory. */
  buffered: number;
  /** Rows in the spool on disk. */
  spooled: number;
  /** Rows stored (a replayed duplicate counts again; the database keeps one). */
  written: number;
  /** Insert attempts that failed. */
  failedWrites: number;
  /** Rows lost: buffer full without a spool, or the spool could not be written. */
  dropped: number;
  /**
   * Rows the database refused for their content (bad text, a broken constraint), set aside in
   * the spool's dead-letter file so they hold up no other row.
   */
  deadLettered: number;
  /** Whether the last insert attempt failed. */
  databaseDown: boolean;
}

/**
 * Collects one usage row per request and stores them in batches, off the request path. While
 * the database is away, rows move to an append-only spool on local disk and are replayed once
 * it answers again: none is lost, and none is stored twice, because each row's id is made here
 * and inserts skip ids already stored.
 */
export class DurableRelayLogWriter {
  readonly #db: Database;
  readonly #logger: Logger;
  readonly #batchSize: number;
  readonly #maxBuffered: number;
  readonly #writerId: string;
  readonly #writeTimeoutMs: number;
  readonly #spool: RelayLogSpool | null;
  readonly #deadLetters: RelayLogDeadLetters | null;
  readonly #timer: ReturnType<typeof setInterval>;
  #buffer: RelayLogRow[] = [];
  #flushing: Promise<void> | null = null;
  #stats = { written: 0, failedWrites: 0, dropped: 0, unreportedDrops: 0, deadLettered: 0 };
  #databaseDown = false;

  constructor(options: DurableRelayLogWriterOptions) {
    this.#db = options.db;
    this.#logger = options.logger;
    this.#batchSize = options.batchSize ?? 200;
    this.#maxBuffered = options.maxBuffered ?? 50_000;
    this.#writerId = options.writerId ?? `${hostname()}-${process.pid}`;
    this.#writeTimeoutMs = options.writeTimeoutMs ?? 30_000;
    this.#spool = options.spoolDir ? new RelayLogSpool(options.spoolDir) : null;
    this.#deadLetters = options.spoolDir ? new RelayLogDeadLetters(options.spoolDir) : null;
    this.#timer = setInterval(() => {
      this.flush().catch(() => undefined);
    }, options.flushIntervalMs ?? 500);
    this.#timer.unref();
  }

  /** Rows not yet stored: in memory and in the spool. */
  get pending(): number {
    return this.#buffer.length + (this.#spool?.rowCount ?? 0);
  }

  /** A snapshot of the writer's counters. */
  stats(): RelayLogWriterStats {
    return {
      buffered: this.#buffer.length,
      spooled: this.#spool?.rowCount ?? 0,
      written: this.#stats.written,
      failedWrites: this.#stats.failedWrites,
      dropped: this.#stats.dropped,
      deadLettered: this.#stats.deadLettered,
      databaseDown: this.#databaseDown,
    };
  }

  /** Queues a row; never waits on the database. */
  add(row: Omit<NewRelayLog, "id">): void {
    this.#buffer.push({ ...row, id: crypto.randomUUID() });
    if (this.#buffer.length >= this.#maxBuffered) {
      this.#overflow();
    }
    if (this.#buffer.length >= this.#batchSize) {
      this.flush().catch(() => undefined);
    }
  }

  /** Stores what is buffered now, then replays the spool; concurrent calls share one pass. */
  flush(): Promise<void> {
    if (!this.#flushing) {
      this.#flushing = this.#writeAll().finally(() => {
        this.#flushing = null;
      });
    }
    return this.#flushing;
  }

  /**
   * Stops the timer and stores what is left. A flush already running may have started before
   * the last rows came in, so a second pass picks those up. Rows that still cannot be stored
   * stay in the spool for the next start (or are reported lost without one).
   */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
    if (this.#buffer.length > 0) {
      await this.flush();
    }
    if (this.#buffer.length > 0 && this.#spool) {
      this.#park([]);
    }
    this.#spool?.seal();
    if (this.pending > 0) {
      this.#logger.warn(
        { buffered: this.#buffer.length, spooled: this.#spool?.rowCount ?? 0 },
        "relay log writer stopped with rows not stored",
      );
    }
  }

  async #writeAll(): Promise<void> {
    this.#reportDropped();
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.splice(0, this.#batchSize);
      if (!(await this.#store(batch))) {
        this.#park(batch);
        return;
      }
    }
    await this.#replaySpool();
  }

  /** Replays sealed spool segments; stops at the first failure and leaves the rest on disk. */
  async #replaySpool(): Promise<void> {
    const spool = this.#spool;
    if (!spool || spool.rowCount === 0) {
      return;
    }
    spool.seal();
    for (const segment of spool.sealedSegments()) {
      const rows = await spool.read(segment);
      for (let start = 0; start < rows.length; start += this.#batchSize) {
        if (!(await this.#store(rows.slice(start, start + this.#batchSize)))) {
          return;
        }
      }
      spool.remove(segment);
      this.#logger.info({ rows: rows.length, segment }, "relay log spool segment replayed");
    }
  }

  async #store(batch: RelayLogRow[]): Promise<boolean> {
    try {
      const ms = this.#writeTimeoutMs;
      const insert = insertRelayLogRows(this.#db, batch, this.#writerId);
      await withTimeLimit(insert, ms, () => new RelayLogWriteTimeoutError(ms));
    } catch (error) {
      const refused = sqlStateErrorOf(error);
      if (isDataError(refused)) {
        return this.#storeApart(batch, refused);
      }
      this.#stats.failedWrites += 1;
      if (!this.#databaseDown) {
        this.#logger.warn(
          { err: error, pending: this.pending + batch.length, spool: this.#spool !== null },
          "relay log write failed, will retry",
        );
      }
      this.#databaseDown = true;
      return false;
    }
    this.#stats.written += batch.length;
    if (this.#databaseDown) {
      this.#databaseDown = false;
      this.#logger.info({ pending: this.pending }, "relay log writes resumed");
    }
    return true;
  }

  /**
   * Stores a batch the database refused for its data, so one bad row holds up no other: the
   * halves are tried in turn down to single rows, and a row refused alone is set aside.
   * False when the database stops answering meanwhile; the caller keeps the whole batch, and
   * the rows already stored are skipped when it is tried again.
   */
  async #storeApart(batch: RelayLogRow[], refused: SqlStateError): Promise<boolean> {
    if (batch.length > 1) {
      const middle = Math.ceil(batch.length / 2);
      return (
        (await this.#store(batch.slice(0, middle))) && (await this.#store(batch.slice(middle)))
      );
    }
    this.#stats.deadLettered += batch.length;
    let file: string | null = null;
    try {
      this.#deadLetters?.keep(batch, refused);
      file = this.#deadLetters?.path ?? null;
    } catch (error) {
      this.#logger.error({ err: error }, "relay log dead-letter write failed");
    }
    this.#logger.error(
      {
        ...refused,
        ids: batch.map((row) => row.id),
        requestIds: batch.map((row) => row.requestId),
        file,
      },
      "relay log row refused by the database, set aside",
    );
    return true;
  }

  /**
   * Keeps a batch that failed: with a spool, it and everything buffered go to disk so memory
   * stays flat through an outage; without one, the batch goes back to the front of the buffer.
   */
  #park(batch: RelayLogRow[]): void {
    if (!this.#spool) {
      this.#buffer.unshift(...batch);
      this.#trimBuffer();
      return;
    }
    const rows = [...batch, ...this.#buffer.splice(0)];
    try {
      this.#spool.append(rows);
    } catch (error) {
      this.#stats.dropped += rows.length;
      this.#logger.error({ err: error, rows: rows.length }, "relay log spool write failed");
    }
  }

  /** The buffer reached its bound between flushes (a slow or absent database). */
  #overflow(): void {
    if (this.#spool) {
      this.#park([]);
      return;
    }
    this.#trimBuffer();
  }

  #trimBuffer(): void {
    const excess = this.#buffer.length - this.#maxBuffered;
    if (excess > 0) {
      this.#buffer.splice(0, excess);
      this.#stats.dropped += excess;
      this.#stats.unreportedDrops += excess;
    }
  }

  #reportDropped(): void {
    if (this.#stats.unreportedDrops > 0) {
      this.#logger.warn(
        { dropped: this.#stats.unreportedDrops },
        "relay log buffer full, oldest rows dropped",
      );
      this.#stats.unreportedDrops = 0;
    }
  }
}

/** An insert that took longer than the writer's writeTimeoutMs. */
export class RelayLogWriteTimeoutError extends Error {
  constructor(ms: number) {
    super(`relay log insert took longer than ${ms} ms`);
    this.name = "RelayLogWriteTimeoutError";
  }
}

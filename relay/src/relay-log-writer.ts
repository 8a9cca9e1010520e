import type { Database } from "@viper/db/client";
import { type NewRelayLog, relayLogs } from "@viper/db/schema/relay-logs";
import type { Logger } from "@viper/shared/logger";

export interface RelayLogWriterOptions {
  db: Database;
  logger: Logger;
  flushIntervalMs?: number;
  /** A flush starts as soon as this many rows wait. */
  batchSize?: number;
  /** Rows kept while the database is away; past it the oldest are dropped (and counted). */
  maxBuffered?: number;
}

/**
 * Collects one usage row per request and writes them in batches, off the request path. Rows
 * that fail to insert stay in the buffer for the next flush; ids are made here, so a batch that
 * did land before its answer was lost is not inserted twice.
 */
export class RelayLogWriter {
  readonly #db: Database;
  readonly #logger: Logger;
  readonly #batchSize: number;
  readonly #maxBuffered: number;
  readonly #timer: ReturnType<typeof setInterval>;
  #buffer: NewRelayLog[] = [];
  #flushing: Promise<void> | null = null;
  #dropped = 0;

  constructor(options: RelayLogWriterOptions) {
    this.#db = options.db;
    this.#logger = options.logger;
    this.#batchSize = options.batchSize ?? 200;
    this.#maxBuffered = options.maxBuffered ?? 50_000;
    this.#timer = setInterval(() => {
      this.flush().catch(() => undefined);
    }, options.flushIntervalMs ?? 500);
    this.#timer.unref();
  }

  /** Rows waiting to be written. */
  get pending(): number {
    return this.#buffer.length;
  }

  /** Queues a row; never waits on the database. */
  add(row: Omit<NewRelayLog, "id">): void {
    this.#buffer.push({ ...row, id: crypto.randomUUID() });
    if (this.#buffer.length > this.#maxBuffered) {
      const excess = this.#buffer.length - this.#maxBuffered;
      this.#buffer.splice(0, excess);
      this.#dropped += excess;
    }
    if (this.#buffer.length >= this.#batchSize) {
      this.flush().catch(() => undefined);
    }
  }

  /** Writes what is buffered now; concurrent calls share one write. */
  flush(): Promise<void> {
    if (!this.#flushing) {
      this.#flushing = this.#writeAll().finally(() => {
        this.#flushing = null;
      });
    }
    return this.#flushing;
  }

  async #writeAll(): Promise<void> {
    this.#reportDropped();
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.splice(0, this.#batchSize);
      try {
        await this.#db.insert(relayLogs).values(batch).onConflictDoNothing();
      } catch (error) {
        this.#buffer.unshift(...batch);
        // Only the driver's reason: the failed query error also carries every row's values.
        this.#logger.warn(
          { reason: failureReason(error), pending: this.#buffer.length },
          "relay log write failed, will retry",
        );
        return;
      }
    }
  }

  #reportDropped(): void {
    if (this.#dropped > 0) {
      this.#logger.warn({ dropped: this.#dropped }, "relay log buffer full, oldest rows dropped");
      this.#dropped = 0;
    }
  }

  /**
   * Stops the timer and writes what is left: a flush already running may have started before
   * the last rows came in, so a second pass picks those up (and retries a failed write once).
   */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
    if (this.#buffer.length > 0) {
      await this.flush();
    }
  }
}

/** The innermost message of an error chain, cut short: what went wrong, without the data. */
function failureReason(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) {
    current = current.cause;
  }
  const message = current instanceof Error ? current.message : String(current);
  return message.slice(0, 200);
}

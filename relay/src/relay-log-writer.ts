import {
  DurableRelayLogWriter,
  type DurableRelayLogWriterOptions,
} from "@viper/db/analytics/durable-relay-log-writer";

export type RelayLogWriterOptions = DurableRelayLogWriterOptions;

/**
 * Collects one usage row per request and writes them in batches, off the request path. While
 * the database is away rows wait in an append-only spool on disk (`spoolDir`) and are replayed
 * when it is back; ids are made here, so a row is never stored twice. The machinery lives in
 * db/src/analytics (docs/analytics.md, "Nothing lost").
 */
export class RelayLogWriter extends DurableRelayLogWriter {}

import type { Logger } from "@viper/shared/logger";
import type { RelayMetrics } from "@viper/shared/metrics/relay-metrics";
import type { PortalErrorName } from "./errors.ts";
import { portalErrors } from "./errors.ts";
import type { RpcBody } from "./json-rpc.ts";
import { logMethodOf } from "./json-rpc.ts";
import type { KeyRecord } from "./key-record.ts";
import type { RelayLogWriter } from "./relay-log-writer.ts";
import { logLabel } from "./unicode-text.ts";

// A usage row names a method and an origin; it is no copy of the request. Longer text is cut.
const MAX_METHOD_CHARS = 128;
const MAX_ORIGIN_CHARS = 256;

/**
 * What the relay learned about one request as it went along; it feeds the usage row and the
 * final log line whatever step the request ended at.
 */
export interface Exchange {
  requestId: string;
  startedAt: number;
  /** Epoch ms by which the request must be answered. */
  deadline: number;
  /** The request's logger; rpc-handler makes it on first use, as most requests never log. */
  readonly logger: Logger;
  /** Whether the line for a request served without error is logged (debug level is on). */
  logsServed: boolean;
  origin: string | null;
  bytesIn: number;
  body: RpcBody | null;
  key: KeyRecord | null;
  chainId: string | null;
  zone: string | null;
  servicer: string | null;
  /** The rate limiter's headers, for every answer after the limiter saw the request. */
  rateLimitHeaders: Record<string, string>;
  /** What the forwarded calls cost in compute units (billing); unset until they are known. */
  computeUnits?: number;
}

/** How a request ended, for the usage row and the log. */
export interface ExchangeEnd {
  httpStatus: number;
  /** The portal error that decided the answer; null when the upstream answer was returned. */
  errorName: PortalErrorName | null;
  bytesOut: number;
  /** The client went away before it was answered (HTTP 499 in the row); nobody saw an answer. */
  clientClosed?: boolean;
}

/** Writes the usage row and the closing log line of a request. */
export function finishExchange(
  exchange: Exchange,
  end: ExchangeEnd,
  relayLogs: RelayLogWriter,
  metrics?: RelayMetrics,
): void {
  const latencyMs = Math.max(0, Math.round(Date.now() - exchange.startedAt));
  const errorCode = end.errorName === null ? null : portalErrors[end.errorName].code;
  const method = logLabel(logMethodOf(exchange.body), MAX_METHOD_CHARS);
  const status = end.clientClosed ? "client_closed" : (end.errorName ?? "ok");
  metrics?.observeRelay({ chain: exchange.chainId, status, method, latencyMs });
  relayLogs.add({
    createdAt: new Date(exchange.startedAt),
    requestId: exchange.requestId,
    projectId: exchange.key?.projectId ?? null,
    apiKeyId: exchange.key?.keyId ?? null,
    chainId: exchange.chainId,
    zone: exchange.zone,
    method,
    batchSize: exchange.body?.items.length ?? 0,
    status,
    httpStatus: end.httpStatus,
    errorCode,
    latencyMs,
    servicer: exchange.servicer,
    bytesIn: exchange.bytesIn,
    bytesOut: end.bytesOut,
    computeUnits: exchange.computeUnits ?? 0,
    origin: logLabel(exchange.origin, MAX_ORIGIN_CHARS),
  });
  const fields = {
    status: end.httpStatus,
    error: end.errorName ?? undefined,
    latencyMs,
    chain: exchange.chainId ?? undefined,
    keyId: exchange.key?.keyId,
    keyLastFour: exchange.key?.lastFour,
    servicer: exchange.servicer ?? undefined,
  };
  if (end.clientClosed) {
    exchange.logger.info(fields, "client closed the request");
  } else if (end.httpStatus >= 500) {
    exchange.logger.error(fields, "relay failed");
  } else if (end.httpStatus >= 400) {
    exchange.logger.info(fields, "relay refused");
  } else if (exchange.logsServed) {
    exchange.logger.debug(fields, "relay served");
  }
}

import pino, { type DestinationStream, type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger } from "pino";

export interface LoggerOptions {
  service: string;
  level?: string;
  /** json for machines (the default), pretty for a developer's terminal. */
  format?: "json" | "pretty";
  environment?: string;
  /** Where json lines go instead of stdout; tests capture log output through it. */
  destination?: DestinationStream;
}

/**
 * Paths that must never reach a log line in clear. Values are replaced, not removed, so a reader
 * can still see that the field was there.
 */
const redactedPaths = [
  "password",
  "*.password",
  "token",
  "*.token",
  "refreshToken",
  "*.refreshToken",
  "apiKey",
  "*.apiKey",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "headers.cookie",
  "privateKey",
  "*.privateKey",
];

/** The root logger of a service: every line carries the service and environment. */
export function createLogger(options: LoggerOptions): Logger {
  const settings = {
    level: options.level ?? "info",
    base: { service: options.service, env: options.environment ?? "development" },
    redact: { paths: redactedPaths, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.format === "pretty") {
    return pino(settings, pretty({ colorize: true, sync: true, ignore: "pid,hostname" }));
  }
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

/** A logger that drops everything; for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

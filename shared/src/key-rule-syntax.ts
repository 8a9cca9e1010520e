/**
 * The text forms of the origin and method entries in an API key's rules (and a project's
 * allowed origins). The server refuses entries these parsers refuse; the relay compiles stored
 * entries with the same parsers, so both read an entry the same way. IP entries live in
 * ./ip-address.ts.
 */

/** An allowed origin: one exact origin, or every subdomain of a domain. */
export type OriginPattern =
  | { kind: "exact"; origin: string }
  | {
      kind: "wildcard";
      /** "http" or "https"; null admits both (with their default ports). */
      scheme: string | null;
      /** ".example.com": what the host must end with, after at least one more label. */
      hostSuffix: string;
      /** The port a matching origin names; "" for the scheme's default port. */
      port: string;
    };

export type ParseResult<T> =
  | { ok: true; value: T; normalized: string }
  | { ok: false; problem: string };

const otherSchemeOrigin = /^[a-z][a-z0-9+.-]*:\/\/[a-z0-9][a-z0-9.-]*$/;
const wildcardForm = /^(?:(https?):\/\/)?\*\.([^*/?#@\s]+)$/;

/**
 * Parses an allowed-origin entry: `https://app.example.com`, `http://localhost:3000`,
 * `https://*.example.com` (any subdomain, not example.com itself), `*.example.com` (any
 * subdomain over http or https) or another scheme's origin (`chrome-extension://abcdef`). Case
 * and a trailing slash are ignored; `normalized` is the form to store.
 */
export function parseOriginPattern(text: string): ParseResult<OriginPattern> {
  const trimmed = text.trim().toLowerCase().replace(/\/$/, "");
  if (trimmed === "*") {
    return { ok: false, problem: "leave the list empty to allow every origin" };
  }
  if (trimmed.includes("*")) {
    return parseWildcard(trimmed);
  }
  if (!/^https?:\/\//.test(trimmed)) {
    return otherSchemeOrigin.test(trimmed)
      ? { ok: true, value: { kind: "exact", origin: trimmed }, normalized: trimmed }
      : {
          ok: false,
          problem: "an origin is scheme://host[:port], such as https://app.example.com",
        };
  }
  const url = urlOf(trimmed);
  if (url?.pathname !== "/" || url.search || url.hash || url.username || url.password) {
    return { ok: false, problem: "an origin is scheme://host[:port], without path or query" };
  }
  return { ok: true, value: { kind: "exact", origin: url.origin }, normalized: url.origin };
}

function parseWildcard(trimmed: string): ParseResult<OriginPattern> {
  const match = wildcardForm.exec(trimmed);
  const scheme = match?.[1] ?? null;
  const rest = match?.[2];
  if (!rest) {
    return { ok: false, problem: "a wildcard is *.example.com or https://*.example.com" };
  }
  if (scheme === null && rest.includes(":")) {
    return { ok: false, problem: "name the scheme to name a port: https://*.example.com:8443" };
  }
  const url = urlOf(`${scheme ?? "https"}://x.${rest}`);
  if (url?.pathname !== "/" || url.search || url.hash || !url.hostname.startsWith("x.")) {
    return { ok: false, problem: "a wildcard is *.example.com or https://*.example.com" };
  }
  const hostSuffix = url.hostname.slice(1);
  if (!hostSuffix.slice(1).includes(".")) {
    return { ok: false, problem: "a wildcard must name a domain below the top level" };
  }
  const port = url.port;
  const normalized = `${scheme ? `${scheme}://` : ""}*${hostSuffix}${port ? `:${port}` : ""}`;
  return { ok: true, value: { kind: "wildcard", scheme, hostSuffix, port }, normalized };
}

function urlOf(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

/** An Origin header split into its parts; built once per request. */
export interface RequestOrigin {
  /** The whole header, lower case. */
  origin: string;
  scheme: string;
  host: string;
  port: string;
}

/** Splits an Origin header; null for "null" and anything else that is not scheme://host. */
export function splitRequestOrigin(header: string): RequestOrigin | null {
  const origin = header.toLowerCase();
  const separator = origin.indexOf("://");
  if (separator <= 0) {
    return null;
  }
  const hostAndPort = origin.slice(separator + 3);
  // A bracketed IPv6 host has colons of its own; it never matches a wildcard, so no port split.
  const colon = hostAndPort.startsWith("[") ? -1 : hostAndPort.lastIndexOf(":");
  return {
    origin,
    scheme: origin.slice(0, separator),
    host: colon === -1 ? hostAndPort : hostAndPort.slice(0, colon),
    port: colon === -1 ? "" : hostAndPort.slice(colon + 1),
  };
}

/** True when the request's origin is the one a pattern names or lies under its wildcard. */
export function originMatches(pattern: OriginPattern, request: RequestOrigin): boolean {
  if (pattern.kind === "exact") {
    return pattern.origin === request.origin;
  }
  const schemeFits =
    pattern.scheme === null
      ? (request.scheme === "https" || request.scheme === "http") && request.port === ""
      : pattern.scheme === request.scheme && pattern.port === request.port;
  return (
    schemeFits &&
    request.host.length > pattern.hostSuffix.length &&
    request.host.endsWith(pattern.hostSuffix)
  );
}

/** An allowed or blocked method entry: a method name, or every method starting with a prefix. */
export type MethodPattern = { kind: "exact"; method: string } | { kind: "prefix"; prefix: string };

const methodName = /^[A-Za-z][\w.:-]{0,99}$/;
const methodPrefix = /^[A-Za-z][\w.:-]{0,98}\*$/;

/**
 * Parses a method entry: `eth_call` (exact, case-sensitive as JSON-RPC is) or `debug_*` (every
 * method starting with `debug_`). The star may only end the entry.
 */
export function parseMethodPattern(text: string): ParseResult<MethodPattern> {
  const trimmed = text.trim();
  if (methodName.test(trimmed)) {
    return { ok: true, value: { kind: "exact", method: trimmed }, normalized: trimmed };
  }
  if (methodPrefix.test(trimmed)) {
    return {
      ok: true,
      value: { kind: "prefix", prefix: trimmed.slice(0, -1) },
      normalized: trimmed,
    };
  }
  return { ok: false, problem: "a method is a name such as eth_call, or a prefix such as debug_*" };
}

import { ProtocolError } from "./errors.ts";

// Where JSON.stringify and Go part ways: Go also escapes <, >, & and U+2028/9, writes \u0008 and
// \u000c where JSON.stringify writes \b and \f, and writes a lone surrogate as U+FFFD. Without
// these, JSON.stringify (native, many times faster than the loop below on a relay's body) writes
// exactly what Go writes.
// biome-ignore lint/suspicious/noControlCharactersInRegex: \b and \f are where the two differ
const DIFFERS_FROM_JSON = /[<>&\u2028\u2029\u0008\u000c\ud800-\udfff]/;
const HEX_DIGITS = "0123456789abcdef";
const REPLACEMENT_CHARACTER = "\ufffd";

function unicodeEscape(code: number): string {
  return `\\u${HEX_DIGITS.charAt((code >> 12) & 15)}${HEX_DIGITS.charAt((code >> 8) & 15)}${HEX_DIGITS.charAt((code >> 4) & 15)}${HEX_DIGITS.charAt(code & 15)}`;
}

function escapeCodeUnit(code: number): string {
  switch (code) {
    case 0x22:
      return '\\"';
    case 0x5c:
      return "\\\\";
    case 0x0a:
      return "\\n";
    case 0x0d:
      return "\\r";
    case 0x09:
      return "\\t";
    default:
      // TODO: Go >= 1.22 writes \b and \f instead of \u0008 and \u000c; switch once the Go
      // version of the Viper servicers is known to be >= 1.22 (a vector with those bytes settles it).
      return unicodeEscape(code);
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * Quotes a string exactly as Go's `encoding/json` does (HTML escaping on): `<`, `>`, `&`,
 * U+2028 and U+2029 become `\u` escapes, control characters become `\n`, `\r`, `\t` or `\u00XX`.
 * A lone surrogate becomes a literal U+FFFD: a servicer only ever hashes strings it decoded from
 * JSON, and Go's decoder turns any invalid UTF-16/UTF-8 into a valid U+FFFD, which its encoder
 * then writes raw; writing the `\ufffd` escape here would make our hash differ from the servicer's.
 */
export function goQuote(s: string): string {
  // One scan: where JSON.stringify writes what Go writes, it does whether or not s needs escapes.
  if (!DIFFERS_FROM_JSON.test(s)) {
    return JSON.stringify(s);
  }
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    let replacement: string | undefined;
    if (code < 0x20 || code === 0x22 || code === 0x5c) {
      replacement = escapeCodeUnit(code);
    } else if (
      code === 0x3c ||
      code === 0x3e ||
      code === 0x26 ||
      code === 0x2028 ||
      code === 0x2029
    ) {
      replacement = unicodeEscape(code);
    } else if (isHighSurrogate(code) && isLowSurrogate(s.charCodeAt(i + 1))) {
      i++;
      continue;
    } else if (isHighSurrogate(code) || isLowSurrogate(code)) {
      replacement = REPLACEMENT_CHARACTER;
    }
    if (replacement !== undefined) {
      out += s.slice(start, i) + replacement;
      start = i + 1;
    }
  }
  return `${out}${s.slice(start)}"`;
}

/**
 * Writes a JSON integer as Go writes an int64/uint64. Numbers must be safe integers: a value that
 * does not fit a double exactly has to be a bigint so no digit is lost.
 */
export function goInt(value: number | bigint): string {
  if (typeof value === "bigint") {
    return value.toString(10);
  }
  if (!Number.isSafeInteger(value)) {
    throw new ProtocolError("bad_input", `${value} is not a safe integer`);
  }
  return value.toString(10);
}

/** A JSON fragment that is already encoded (a quoted string, an integer, a nested object). */
export type GoJsonFragment = string;

// Field names come from a small fixed set (struct fields, map keys of a relay); quoting each once
// takes a share of every relay's encoding off its path. Past the cap, names are quoted as they come.
const quotedNames = new Map<string, string>();
const QUOTED_NAMES_CAP = 1_000;

function quoteName(name: string): string {
  let quoted = quotedNames.get(name);
  if (quoted === undefined) {
    quoted = goQuote(name);
    if (quotedNames.size < QUOTED_NAMES_CAP) {
      quotedNames.set(name, quoted);
    }
  }
  return quoted;
}

/**
 * A writer for a struct whose fields are always the same names in the same order: the names are
 * quoted once, here, and each call only joins the values (already encoded) in between.
 */
export function goStruct(
  names: readonly string[],
): (values: readonly GoJsonFragment[]) => GoJsonFragment {
  const prefixes = names.map((name, index) => `${index === 0 ? "{" : ","}${goQuote(name)}:`);
  return (values) => {
    if (values.length !== prefixes.length) {
      throw new ProtocolError(
        "bad_input",
        `expected ${prefixes.length} fields, got ${values.length}`,
      );
    }
    let out = prefixes.length === 0 ? "{" : "";
    for (let index = 0; index < prefixes.length; index++) {
      out += `${prefixes[index]}${values[index]}`;
    }
    return `${out}}`;
  };
}

/** Writes a JSON object whose fields keep the given order, as Go writes a struct. */
export function goObject(fields: ReadonlyArray<readonly [string, GoJsonFragment]>): string {
  let out = "{";
  for (const [name, value] of fields) {
    out += `${out.length === 1 ? "" : ","}${quoteName(name)}:${value}`;
  }
  return `${out}}`;
}

const utf8 = new TextEncoder();

function compareUtf8(a: string, b: string): number {
  const left = utf8.encode(a);
  const right = utf8.encode(b);
  const length = Math.min(left.length, right.length);
  for (let i = 0; i < length; i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff !== 0) {
      return diff;
    }
  }
  return left.length - right.length;
}

/**
 * Writes a `map[string]string` as Go does: keys sorted by their UTF-8 bytes (JavaScript's default
 * sort compares UTF-16 code units, which orders some non-BMP keys differently).
 */
export function goStringMap(map: Readonly<Record<string, string>>): string {
  const keys = Object.keys(map).sort(compareUtf8);
  return goObject(keys.map((key) => [key, goQuote(map[key] ?? "")] as const));
}

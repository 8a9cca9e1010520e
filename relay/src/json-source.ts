import { endOfString, skipWhitespace } from "./json-array.ts";

/**
 * What JSON.parse forgets about a request object's source text, which the relay needs to judge
 * the request the way JSON-RPC nodes do and to answer it exactly: whether a member name repeats,
 * the exact text of its `id` (a number past 2^53 loses digits in a double), and how deep its
 * arrays and objects nest.
 */
export interface RequestSource {
  /** The first member name that appears twice at the top level, or null. */
  duplicateMember: string | null;
  /** The source text of the top-level `id` value (the last one, as JSON.parse keeps); null without one. */
  idText: string | null;
  /** Levels of arrays and objects, the request object itself counting as 1. */
  depth: number;
}

/** A value that JSON.stringify writes as its text, verbatim (see rawJson). */
export interface RawJson {
  readonly rawJSON: string;
}

// TypeScript's lib does not declare JSON.rawJSON yet (JSON.parse source text access); Bun has it.
const jsonWithRaw = JSON as JSON & { rawJSON(text: string): RawJson };

/** Wraps a JSON primitive's source text so JSON.stringify writes it unchanged (a large id). */
export function rawJson(text: string): RawJson {
  return jsonWithRaw.rawJSON(text);
}

const QUOTE = 34;
const COMMA = 44;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

/**
 * Reads the top-level members of a JSON object's text. The text must be one object that
 * JSON.parse accepted, so this only finds boundaries and never reports syntax errors.
 */
export function inspectRequestSource(text: string): RequestSource {
  const source: RequestSource = { duplicateMember: null, idText: null, depth: 1 };
  const names = new Set<string>();
  let index = skipWhitespace(text, text.indexOf("{") + 1);
  while (index < text.length && text.charCodeAt(index) === QUOTE) {
    const nameEnd = endOfString(text, index);
    const name = memberName(text.slice(index, nameEnd));
    if (names.has(name)) {
      source.duplicateMember ??= name;
    }
    names.add(name);
    // Past the name come optional whitespace, the colon, and optional whitespace again.
    const valueStart = skipWhitespace(text, skipWhitespace(text, nameEnd) + 1);
    const valueEnd = endOfValue(text, valueStart, source);
    if (name === "id") {
      source.idText = text.slice(valueStart, valueEnd);
    }
    index = skipWhitespace(text, valueEnd);
    if (text.charCodeAt(index) === COMMA) {
      index = skipWhitespace(text, index + 1);
    }
  }
  return source;
}

function memberName(quoted: string): string {
  if (!quoted.includes("\\")) {
    return quoted.slice(1, -1);
  }
  // Escapes can spell a name ("\u0069d" is "id"): let JSON.parse read it as JSON.parse did.
  const name: unknown = JSON.parse(quoted);
  return typeof name === "string" ? name : quoted;
}

function isWhitespace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

/** The index just past the value at `start`; notes in `source` how deep its containers go. */
function endOfValue(text: string, start: number, source: RequestSource): number {
  const first = text.charCodeAt(start);
  if (first === QUOTE) {
    return endOfString(text, start);
  }
  let index = start;
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    while (index < text.length) {
      const code = text.charCodeAt(index);
      if (code === COMMA || code === CLOSE_BRACE || isWhitespace(code)) {
        return index;
      }
      index += 1;
    }
    return index;
  }
  let depth = 0;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) {
      index = endOfString(text, index);
      continue;
    }
    if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      depth += 1;
      // The value sits inside the request object, one level down.
      source.depth = Math.max(source.depth, depth + 1);
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth -= 1;
      if (depth === 0) {
        return index + 1;
      }
    }
    index += 1;
  }
  return index;
}

/**
 * Splits the text of a JSON array into the exact source text of each element, so the relay can
 * forward or return elements byte for byte instead of re-serialising them (a JSON.parse and
 * JSON.stringify round trip would change number formatting and lose large integers).
 *
 * The caller must already know the text is valid JSON holding an array; this only finds the
 * element boundaries. Returns null when the text is not an array after all.
 */
export function splitJsonArray(text: string): string[] | null {
  let index = skipWhitespace(text, 0);
  if (text[index] !== "[") {
    return null;
  }
  index = skipWhitespace(text, index + 1);
  const elements: string[] = [];
  if (text[index] === "]") {
    return elements;
  }
  while (index < text.length) {
    const end = endOfValue(text, index);
    elements.push(text.slice(index, end).trimEnd());
    const next = skipWhitespace(text, end);
    if (text[next] === "]") {
      return elements;
    }
    if (text[next] !== ",") {
      return null;
    }
    index = skipWhitespace(text, next + 1);
  }
  return null;
}

// Character codes, compared instead of one-character strings: this runs over every byte of a
// batch, and comparing codes is several times faster than charAt and includes.
const SPACE = 32;
const TAB = 9;
const LINE_FEED = 10;
const CARRIAGE_RETURN = 13;
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

/** The index of the first character at or after `from` that is not JSON whitespace. */
export function skipWhitespace(text: string, from: number): number {
  let index = from;
  for (;;) {
    const code = text.charCodeAt(index);
    if (code !== SPACE && code !== TAB && code !== LINE_FEED && code !== CARRIAGE_RETURN) {
      return index;
    }
    index += 1;
  }
}

/** The index just past the value starting at `start`: stops at a top-level `,` or `]`. */
function endOfValue(text: string, start: number): number {
  let depth = 0;
  let index = start;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) {
      index = endOfString(text, index);
      continue;
    }
    if (code === OPEN_BRACKET || code === OPEN_BRACE) {
      depth += 1;
    } else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) {
      if (depth === 0) {
        return index;
      }
      depth -= 1;
    } else if (code === COMMA && depth === 0) {
      return index;
    }
    index += 1;
  }
  return index;
}

/** The index just past the closing quote of the string that opens at `start`. */
export function endOfString(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) {
      return text.length;
    }
    // The quote closes the string unless an odd run of backslashes escapes it.
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) {
      backslashes += 1;
    }
    if (backslashes % 2 === 0) {
      return quote + 1;
    }
    from = quote + 1;
  }
}

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

function skipWhitespace(text: string, from: number): number {
  let index = from;
  while (index < text.length && " \t\n\r".includes(text.charAt(index))) {
    index += 1;
  }
  return index;
}

/** The index just past the value starting at `start`: stops at a top-level `,` or `]`. */
function endOfValue(text: string, start: number): number {
  let depth = 0;
  let index = start;
  while (index < text.length) {
    const char = text.charAt(index);
    if (char === '"') {
      index = endOfString(text, index);
      continue;
    }
    if (char === "[" || char === "{") {
      depth += 1;
    } else if (char === "]" || char === "}") {
      if (depth === 0) {
        return index;
      }
      depth -= 1;
    } else if (char === "," && depth === 0) {
      return index;
    }
    index += 1;
  }
  return index;
}

/** The index just past the closing quote of the string that opens at `start`. */
function endOfString(text: string, start: number): number {
  let index = start + 1;
  while (index < text.length) {
    const char = text.charAt(index);
    if (char === "\\") {
      index += 2;
      continue;
    }
    if (char === '"') {
      return index + 1;
    }
    index += 1;
  }
  return index;
}

/**
 * Checks and cleans text that comes from dApps (methods, ids, origins) before the relay judges,
 * stores or logs it. JSON strings may hold anything, even NUL and halves of surrogate pairs,
 * and Postgres refuses both in text.
 */

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Code units logLabel rewrites: controls (see isControl) and surrogates, paired or not. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const NEEDS_CLEANING = /[\u0000-\u001f\u007f-\u009f\ud800-\udfff]/;

/** C0 controls (NUL included), DEL and C1 controls. */
function isControl(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

/** True when the text holds half of a surrogate pair, which no UTF-8 text can carry. */
export function hasLoneSurrogate(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (isHighSurrogate(code) && isLowSurrogate(text.charCodeAt(index + 1))) {
      index += 1;
    } else if (isHighSurrogate(code) || isLowSurrogate(code)) {
      return true;
    }
  }
  return false;
}

/**
 * The text as a label for a usage row or a log line: control characters written as `\uXXXX`
 * escapes, a lone surrogate as U+FFFD, and at most `maxChars` characters (a pair is never cut).
 * A label names what was asked for; it is not the payload, so nothing past the cap is kept.
 */
export function logLabel(text: string | null, maxChars: number): string | null {
  if (text === null) {
    return null;
  }
  // Most labels are short plain text and come out as they went in: one native scan, no copy.
  if (text.length <= maxChars && !NEEDS_CLEANING.test(text)) {
    return text;
  }
  let label = "";
  let chars = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    let piece = text.charAt(index);
    let pieceChars = 1;
    if (isHighSurrogate(code) && isLowSurrogate(text.charCodeAt(index + 1))) {
      piece = text.slice(index, index + 2);
      index += 1;
    } else if (isHighSurrogate(code) || isLowSurrogate(code)) {
      piece = "\uFFFD";
    } else if (isControl(code)) {
      piece = `\\u${code.toString(16).padStart(4, "0")}`;
      pieceChars = piece.length;
    }
    if (chars + pieceChars > maxChars) {
      break;
    }
    label += piece;
    chars += pieceChars;
  }
  return label;
}

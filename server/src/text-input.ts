import { z } from "zod";

export interface TextInputOptions {
  /** Least length after trimming; 0 (the default) allows an empty text. */
  min?: number;
  max: number;
  /** Notes and the like: tab, line feed and carriage return are allowed. Names: none. */
  multiline?: boolean;
  /** What the form shows when the text is shorter than `min`. */
  minMessage?: string;
}

const controlMessage = "Remove control characters (such as NUL) from the text.";
const brokenMessage = "The text has a broken character (a lone UTF-16 surrogate).";

/**
 * Text a person types (names, notes, search terms): trimmed, bounded, and free of what nobody
 * types and PostgreSQL cannot store: control characters (NUL above all) and lone surrogates.
 * Every input schema with free text uses this, so such input is INVALID_INPUT with an issue on
 * its field instead of a database error.
 */
export function textInput(options: TextInputOptions) {
  const trimmed = z.string().trim();
  const bounded = (options.min ? trimmed.min(options.min, options.minMessage) : trimmed).max(
    options.max,
  );
  return withTextChecks(bounded, options);
}

/**
 * Adds textInput's character checks to another string schema (a URL, a pattern, a token) that
 * keeps its own format rules.
 */
export function withTextChecks<T extends z.ZodType<string>>(
  schema: T,
  options: { multiline?: boolean } = {},
): T {
  const multiline = options.multiline ?? false;
  return schema
    .refine((text) => !hasControlCharacter(text, multiline), controlMessage)
    .refine((text) => isWellFormed(text), brokenMessage);
}

const layoutCharacters = new Set([0x09, 0x0a, 0x0d]);

function hasControlCharacter(text: string, multiline: boolean): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    const control = unit < 0x20 || (unit >= 0x7f && unit <= 0x9f);
    if (control && !(multiline && layoutCharacters.has(unit))) {
      return true;
    }
  }
  return false;
}

/** Whether every surrogate is half of a pair (String#isWellFormed is newer than our lib). */
function isWellFormed(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    if (unit >= 0xdc00 && unit <= 0xdfff) {
      return false;
    }
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(index + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) {
        return false;
      }
      index += 1;
    }
  }
  return true;
}

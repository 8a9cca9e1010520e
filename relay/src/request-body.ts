import { RelayError } from "./errors.ts";

/** True for `application/json`, with or without parameters such as a charset. */
export function isJsonContentType(header: string | null): boolean {
  if (header === null) {
    return false;
  }
  // What nearly every client sends, answered without splitting and copying the header.
  if (header === "application/json") {
    return true;
  }
  const mediaType = header.split(";", 1)[0]?.trim().toLowerCase();
  return mediaType === "application/json";
}

// Fatal: bytes that are not UTF-8 are refused rather than replaced with U+FFFD, which would
// change the request the dApp sent. A leading UTF-8 BOM is dropped, as RFC 8259 allows.
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The body's bytes as text; RelayError("parse_error") when they are not UTF-8. */
function decodeUtf8(bytes: ArrayBuffer | Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new RelayError("parse_error", { cause, detail: "the body is not valid UTF-8" });
  }
}

/** A request body as text, with its size on the wire for the usage log. */
export interface RequestBody {
  text: string;
  bytes: number;
}

/**
 * Reads the body as UTF-8 text, refusing it once it passes `maxBytes`. The declared
 * Content-Length is checked first so an oversized upload is refused before it is read, and the
 * stream is counted as it arrives because a chunked upload declares no length.
 */
export async function readLimitedBody(request: Request, maxBytes: number): Promise<RequestBody> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new RelayError("body_too_large");
  }
  if (Number.isFinite(declared)) {
    // A declared length within the limit is read in one go, without the stream reader (or even
    // the stream object, made on first use of request.body), which cost several times more.
    const buffer = await request.arrayBuffer();
    if (buffer.byteLength > maxBytes) {
      throw new RelayError("body_too_large");
    }
    return { text: decodeUtf8(buffer), bytes: buffer.byteLength };
  }
  if (request.body === null) {
    return { text: "", bytes: 0 };
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new RelayError("body_too_large");
    }
    chunks.push(value);
  }
  return { text: decodeUtf8(Buffer.concat(chunks)), bytes: total };
}

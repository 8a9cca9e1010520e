import { isUtf8 } from "node:buffer";
import type { TRPCError } from "@trpc/server";
import { AppError } from "./errors.ts";
import { toWireError } from "./trpc.ts";

/** Limits on what one HTTP request to /trpc may carry. */
export interface RequestLimits {
  maxBodyBytes: number;
  maxBatchSize: number;
}

/** A refusal and the headers it needs (Allow on a 405). */
export interface Refusal {
  error: AppError;
  headers?: Record<string, string>;
}

const trpcMethods = new Set(["GET", "HEAD", "POST"]);

/**
 * Checks a /trpc request before tRPC reads it: the method, the content type, the declared body
 * size, the query's UTF-8 and the number of calls in a batch. Returns null when it may go on.
 * The body itself is not read here (see readBody).
 */
export function checkTrpcRequest(
  request: Request,
  procedurePath: string,
  limits: RequestLimits,
): Refusal | null {
  const url = new URL(request.url);
  if (!trpcMethods.has(request.method)) {
    return {
      error: new AppError("METHOD_NOT_ALLOWED", {
        message: `${request.method} is not allowed: queries use GET, mutations POST.`,
      }),
      headers: { allow: "GET, POST" },
    };
  }
  if (request.method === "POST") {
    const contentType = request.headers.get("content-type");
    if (contentType?.split(";", 1)[0]?.trim().toLowerCase() !== "application/json") {
      const message = contentType
        ? `Unsupported content type ${JSON.stringify(contentType)}: send application/json.`
        : "Missing content type: send application/json.";
      return { error: new AppError("UNSUPPORTED_CONTENT_TYPE", { message }) };
    }
  }
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > limits.maxBodyBytes) {
    return { error: bodyTooLarge(limits.maxBodyBytes) };
  }
  if (!isUtf8Query(url.search)) {
    const message = "The query string is not valid UTF-8.";
    return { error: new AppError("INVALID_INPUT", { message }) };
  }
  const calls = url.searchParams.get("batch") === "1" ? procedurePath.split(",").length : 1;
  if (calls > limits.maxBatchSize) {
    return {
      error: new AppError("BATCH_TOO_LARGE", {
        message: `A batch may hold at most ${limits.maxBatchSize} calls; this one has ${calls}.`,
      }),
    };
  }
  return null;
}

/**
 * Reads a POST body up to the limit, so an endless chunked body cannot grow the process, and
 * hands on a request holding what was read once it is known to be UTF-8. Bun's own decoding
 * would turn broken bytes into U+FFFD and store them as if the client had sent that character.
 * A declared size was bounded by checkTrpcRequest already, and the socket holds the body to it.
 */
export async function readBody(request: Request, maxBytes: number): Promise<Request | Refusal> {
  if (request.method !== "POST" || !request.body) {
    return request;
  }
  const body = await readBounded(request.body, maxBytes);
  if (!(body instanceof Uint8Array)) {
    return body;
  }
  if (!isUtf8(body)) {
    const message = "The request body is not valid UTF-8.";
    return { error: new AppError("INVALID_INPUT", { message }) };
  }
  return new Request(request.url, {
    method: request.method,
    headers: request.headers,
    body,
    signal: request.signal,
  });
}

async function readBounded(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
): Promise<Buffer<ArrayBuffer> | Refusal> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        return Buffer.concat(chunks);
      }
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        return { error: bodyTooLarge(maxBytes) };
      }
      chunks.push(value);
    }
  } catch (error) {
    // The client went away or sent a broken chunked body; nobody may read the answer.
    const message = "The request body could not be read.";
    return { error: new AppError("REQUEST_REJECTED", { message, cause: error }) };
  }
}

/**
 * Whether a query string's percent-escapes decode to UTF-8. URLSearchParams (and so tRPC's
 * `input`) turns broken sequences into U+FFFD without a word. A `%` not followed by two hex
 * digits is literal text to URLSearchParams, so it is escaped before decodeURIComponent, which
 * throws on broken UTF-8 (overlong forms and surrogates included).
 */
function isUtf8Query(search: string): boolean {
  try {
    decodeURIComponent(search.replace(/%(?![0-9a-fA-F]{2})/g, "%25"));
    return true;
  } catch {
    return false;
  }
}

function bodyTooLarge(maxBytes: number): AppError {
  return new AppError("BODY_TOO_LARGE", {
    message: `The request body is larger than ${maxBytes} bytes.`,
  });
}

/**
 * An error answered outside tRPC (a refusal before it, an unknown path, the verification link),
 * in the same JSON shape and with the same fields as tRPC's errors.
 */
export function errorResponse(
  error: TRPCError,
  facts: { requestId: string; path?: string | undefined; headers?: Record<string, string> },
): Response {
  const wire = toWireError(error, { requestId: facts.requestId, path: facts.path });
  return Response.json(
    { error: wire },
    { status: wire.data.httpStatus, ...(facts.headers ? { headers: facts.headers } : {}) },
  );
}

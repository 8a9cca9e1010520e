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
 * size and the number of calls in a batch. Returns null when it may go on. The body itself is
 * not read here (see boundBody for bodies without a declared size).
 */
export function checkTrpcRequest(
  request: Request,
  procedurePath: string,
  limits: RequestLimits,
): Refusal | null {
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
  const calls =
    new URL(request.url).searchParams.get("batch") === "1" ? procedurePath.split(",").length : 1;
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
 * Reads a POST body sent without Content-Length (chunked) up to the limit, so an endless body
 * cannot grow the process, and hands on a request holding what was read. Requests with a
 * declared size pass untouched: checkTrpcRequest bounded them and the socket enforces it.
 */
export async function boundBody(request: Request, maxBytes: number): Promise<Request | Refusal> {
  if (request.method !== "POST" || request.headers.has("content-length") || !request.body) {
    return request;
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
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
  return new Request(request.url, {
    method: request.method,
    headers: request.headers,
    body: Buffer.concat(chunks),
    signal: request.signal,
  });
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

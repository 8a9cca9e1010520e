/** Headers every relay answer carries. */
export function baseHeaders(requestId: string): Record<string, string> {
  return {
    "x-request-id": requestId,
    // Browser dApps call the relay directly; keys are restricted by origin rules, not CORS.
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "x-request-id",
  };
}

/** A JSON answer with the relay's headers. */
export function jsonResponse(body: unknown, status: number, requestId: string): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...baseHeaders(requestId), "content-type": "application/json" },
  });
}

/** An answer whose JSON text is already made (the upstream answer, passed on byte for byte). */
export function rawJsonResponse(text: string, status: number, requestId: string): Response {
  return new Response(text, {
    status,
    headers: { ...baseHeaders(requestId), "content-type": "application/json" },
  });
}

/** The empty answer to a request made only of notifications. */
export function noContentResponse(requestId: string): Response {
  return new Response(null, { status: 204, headers: baseHeaders(requestId) });
}

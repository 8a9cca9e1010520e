/**
 * The portal's own errors: every way the relay can refuse or fail a request, each with a stable
 * JSON-RPC code and HTTP status. docs/relay-errors.md documents this table; keep them in step.
 * Answers the servicers relay (including the chain's own JSON-RPC errors) never pass through here.
 */
export const portalErrors = {
  parse_error: { code: -32700, status: 400, message: "Parse error: the body is not valid JSON" },
  invalid_request: {
    code: -32600,
    status: 400,
    message: "Invalid request: expected a JSON-RPC 2.0 request object",
  },
  unknown_key: { code: -32001, status: 401, message: "Unknown or malformed API key" },
  key_revoked: { code: -32002, status: 401, message: "This API key was revoked" },
  key_expired: { code: -32003, status: 401, message: "This API key has expired" },
  unknown_chain: { code: -32004, status: 404, message: "Unknown chain" },
  chain_not_allowed: {
    code: -32006,
    status: 403,
    message: "This chain is not enabled for this project or key",
  },
  method_not_allowed: {
    code: -32007,
    status: 403,
    message: "This method is not allowed for this key",
  },
  origin_not_allowed: {
    code: -32008,
    status: 403,
    message: "Requests from this origin are not allowed for this key",
  },
  // -32005 is the "limit exceeded" code wallets and libraries already recognise. The rate
  // limiter (rate-limit/refusal.ts) answers these three with messages of its own.
  rate_limited: { code: -32005, status: 429, message: "Rate limit exceeded" },
  request_too_costly: {
    code: -32013,
    status: 413,
    message: "This request costs more compute units than the rate limit ever allows at once",
  },
  limiter_unavailable: {
    code: -32023,
    status: 503,
    message: "Rate limiting is unavailable right now, so requests are refused",
  },
  ip_not_allowed: {
    code: -32009,
    status: 403,
    message: "Requests from this address are not allowed for this key",
  },
  body_too_large: { code: -32010, status: 413, message: "Request body is too large" },
  unsupported_media_type: {
    code: -32011,
    status: 415,
    message: "Content-Type must be application/json",
  },
  route_not_found: {
    code: -32012,
    status: 404,
    message: "No such endpoint; send JSON-RPC with POST to /v1/{chain}/{apiKey}",
  },
  servicers_failed: {
    code: -32020,
    status: 502,
    message: "No servicer of the current session answered correctly",
  },
  session_unavailable: {
    code: -32021,
    status: 503,
    message: "No Viper session is available for this chain right now",
  },
  deadline_exceeded: {
    code: -32022,
    status: 504,
    message: "The request did not complete within the relay deadline",
  },
  internal_error: {
    code: -32603,
    status: 503,
    message: "The portal could not handle this request; please retry",
  },
} as const satisfies Record<string, { code: number; status: number; message: string }>;

export type PortalErrorName = keyof typeof portalErrors;

/**
 * A request the relay refuses or cannot serve. Thrown by the relay's services and turned into a
 * JSON-RPC error body only at the edge (the route and Elysia's onError).
 */
export class RelayError extends Error {
  readonly errorName: PortalErrorName;

  constructor(errorName: PortalErrorName, options?: { cause?: unknown; detail?: string }) {
    super(options?.detail ?? portalErrors[errorName].message, { cause: options?.cause });
    this.name = "RelayError";
    this.errorName = errorName;
  }

  get code(): number {
    return portalErrors[this.errorName].code;
  }

  get status(): number {
    return portalErrors[this.errorName].status;
  }
}

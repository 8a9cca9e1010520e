import { swagger } from "@elysiajs/swagger";
import type { DocumentDecoration } from "elysia";
import { portalErrors } from "./errors.ts";

// The RPC route reads its body itself (byte limits, exact forwarding), so Elysia has no body
// schema to document; these hand-written schemas describe the wire format instead.
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const rpcId = {
  description: "Echoed in the answer. Absent makes the request a notification (no answer).",
  oneOf: [{ type: "string" }, { type: "integer" }, { type: "null" }],
};

const schemas = {
  JsonRpcRequest: {
    type: "object",
    required: ["jsonrpc", "method"],
    properties: {
      jsonrpc: { type: "string", enum: ["2.0"] },
      id: rpcId,
      method: { type: "string", examples: ["eth_blockNumber"] },
      params: { oneOf: [{ type: "array", items: {} }, { type: "object" }] },
    },
  },
  JsonRpcBatch: { type: "array", minItems: 1, items: ref("JsonRpcRequest") },
  JsonRpcErrorDetail: {
    type: "object",
    required: ["code", "message"],
    properties: {
      code: { type: "integer" },
      message: { type: "string" },
      data: {},
    },
  },
  JsonRpcResponse: {
    type: "object",
    required: ["jsonrpc", "id"],
    description: "The chain's answer, exactly as the servicer returned it.",
    properties: {
      jsonrpc: { type: "string", enum: ["2.0"] },
      id: rpcId,
      result: {},
      error: ref("JsonRpcErrorDetail"),
    },
  },
  PortalError: {
    type: "object",
    required: ["jsonrpc", "id", "error"],
    description: "An error of the portal itself; codes are listed in docs/relay-errors.md.",
    properties: {
      jsonrpc: { type: "string", enum: ["2.0"] },
      id: rpcId,
      error: {
        type: "object",
        required: ["code", "message", "data"],
        properties: {
          code: { type: "integer", enum: Object.values(portalErrors).map((entry) => entry.code) },
          message: { type: "string" },
          data: {
            type: "object",
            required: ["requestId"],
            properties: { requestId: { type: "string" } },
          },
        },
      },
    },
  },
  PortalErrorBody: {
    oneOf: [ref("PortalError"), { type: "array", items: ref("PortalError") }],
  },
  Health: {
    type: "object",
    required: ["status"],
    properties: { status: { type: "string", enum: ["ok"] } },
  },
  Readiness: {
    type: "object",
    required: ["status", "checks"],
    properties: {
      status: {
        type: "string",
        enum: ["ready", "degraded", "not_ready"],
        description: "degraded (HTTP 200): serving, but rate limits count per instance",
      },
      checks: {
        type: "object",
        required: ["database", "store", "dispatcher", "rateLimiter"],
        properties: {
          ...Object.fromEntries(
            ["database", "store", "dispatcher"].map((name) => [
              name,
              { type: "string", enum: ["ok", "unavailable"] },
            ]),
          ),
          rateLimiter: {
            type: "string",
            enum: ["redis", "memory", "degraded-memory", "degraded-refusing"],
          },
        },
      },
    },
  },
};

const json = (schema: object) => ({ "application/json": { schema } });

const errorResponse = (description: string) => ({
  description,
  content: json(ref("PortalErrorBody")),
});

/** OpenAPI description of `POST /v1/{chain}/{apiKey}`. */
export const rpcRouteDoc = {
  operationId: "relayJsonRpc",
  summary: "Relay a JSON-RPC 2.0 request (single or batch) to the chain",
  tags: ["relay"],
  parameters: [
    {
      name: "chain",
      in: "path",
      required: true,
      description: "Chain slug (eth-devnet) or Viper relay chain id (0021)",
      schema: { type: "string" },
    },
    {
      name: "apiKey",
      in: "path",
      required: true,
      description: "The project's API key",
      schema: { type: "string" },
    },
  ],
  requestBody: {
    required: true,
    content: json({ oneOf: [ref("JsonRpcRequest"), ref("JsonRpcBatch")] }),
  },
  responses: {
    200: {
      description: "The chain's answer: one response object, or an array for a batch",
      content: json({
        oneOf: [ref("JsonRpcResponse"), { type: "array", items: ref("JsonRpcResponse") }],
      }),
    },
    204: { description: "The request held only notifications" },
    400: errorResponse("Body is not JSON (-32700) or not a JSON-RPC 2.0 request (-32600)"),
    401: errorResponse("Unknown, revoked or expired API key"),
    403: errorResponse("Chain, method or origin not allowed for this key"),
    404: errorResponse("Unknown chain"),
    413: errorResponse(
      "Body larger than the relay accepts (-32010), or a request costing more compute units than the rate limit ever holds (-32013)",
    ),
    415: errorResponse("Content-Type is not application/json"),
    429: errorResponse("Rate limit exceeded (-32005)"),
    502: errorResponse("No servicer answered correctly"),
    503: errorResponse(
      "No session available, the rate limiter is unavailable (-32023), or the portal could not handle the request",
    ),
    504: errorResponse("The relay deadline passed"),
  },
} as DocumentDecoration;

/** OpenAPI description of `GET /health`. */
export const healthRouteDoc = {
  operationId: "health",
  summary: "Liveness: the process is up",
  tags: ["operations"],
  responses: { 200: { description: "Alive", content: json(ref("Health")) } },
} as DocumentDecoration;

/** OpenAPI description of `GET /ready`. */
export const readyRouteDoc = {
  operationId: "ready",
  summary: "Readiness: database, store and dispatcher are reachable",
  tags: ["operations"],
  responses: {
    200: {
      description:
        "Ready to relay (status ready), or relaying with per-instance rate limits (degraded)",
      content: json(ref("Readiness")),
    },
    503: {
      description: "A dependency is unavailable, or the rate limiter refuses every request",
      content: json(ref("Readiness")),
    },
  },
} as DocumentDecoration;

/** OpenAPI description of `GET /metrics`. */
export const metricsRouteDoc = {
  operationId: "metrics",
  summary: "Prometheus metrics of this instance (series in docs/analytics.md)",
  tags: ["operations"],
  responses: {
    200: {
      description: "Prometheus text exposition format",
      content: { "text/plain": { schema: { type: "string" } } },
    },
  },
} as DocumentDecoration;

// The reference page loads Scalar from a CDN; a pinned version keeps /docs from changing (or
// breaking) under us when Scalar publishes. The path is the bundle the package itself names.
const scalarBundle =
  "https://cdn.jsdelivr.net/npm/@scalar/api-reference@1.76.0/dist/browser/standalone.js";

/** The docs plugin: a reference page at /docs and the OpenAPI JSON at /docs/json. */
export function relayDocs() {
  return swagger({
    path: "/docs",
    scalarCDN: scalarBundle,
    documentation: {
      // 3.1, because its schemas are plain JSON Schema: a nullable id is `{"type": "null"}`.
      openapi: "3.1.0",
      info: {
        title: "Viper Portal relay",
        version: "1.0.0",
        description: "JSON-RPC gateway to Viper Network servicers.",
      },
      tags: [
        { name: "relay", description: "JSON-RPC relaying" },
        { name: "operations", description: "Health, readiness and metrics" },
      ],
      components: { schemas: schemas as Record<string, object> },
    },
  });
}

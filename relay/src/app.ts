import { metricsResponse } from "@viper/shared/metrics/registry";
import { Elysia } from "elysia";
import { type PortalErrorName, portalErrors, RelayError } from "./errors.ts";
import { rpcError } from "./json-rpc.ts";
import {
  healthRouteDoc,
  metricsRouteDoc,
  readyRouteDoc,
  relayDocs,
  rpcRouteDoc,
} from "./openapi.ts";
import { checkReadiness } from "./readiness.ts";
import { requestIdOf } from "./request-id.ts";
import { baseHeaders, callerOriginHeaders, jsonResponse } from "./responses.ts";
import { handleRpc } from "./rpc-handler.ts";
import { createRelayRuntime, type RelayDeps, type RelayRuntime } from "./runtime.ts";

export type { RelayDeps, RelayLimits, RelayRuntime, ViperSettings } from "./runtime.ts";

/** Maps Elysia's own error codes (and anything thrown outside the RPC handler) to portal errors. */
function portalErrorFor(code: unknown, error: unknown): PortalErrorName {
  if (error instanceof RelayError) {
    return error.errorName;
  }
  switch (code) {
    case "NOT_FOUND":
      return "route_not_found";
    case "PARSE":
      return "parse_error";
    case "VALIDATION":
    case "INVALID_COOKIE_SIGNATURE":
    case "INVALID_FILE_TYPE":
      return "invalid_request";
    default:
      return "internal_error";
  }
}

function setHeaders(response: Response, headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) {
    response.headers.set(name, value);
  }
}

/**
 * Builds the relay's HTTP app: `POST /v1/:chain/:apiKey`, `/health`, `/ready` and the OpenAPI
 * docs at `/docs` (JSON at `/docs/json`). It starts no server: call `listen` (see startRelay) or
 * hand it requests with `app.handle`. The runtime (caches, log writer) is at
 * `app.decorator.relay`; call its `close()` when done with an app that never listened.
 */
export function createRelayApp(deps: RelayDeps) {
  const runtime: RelayRuntime = createRelayRuntime(deps);
  return (
    new Elysia({ name: "viper-relay" })
      .decorate("relay", runtime)
      .onError(({ code, error, request }) => {
        const requestId = requestIdOf(request);
        const name = portalErrorFor(code, error);
        if (name === "internal_error") {
          deps.logger.error({ err: error, requestId, code }, "unhandled relay error");
        }
        return jsonResponse(rpcError(null, name, requestId), portalErrors[name].status, requestId);
      })
      // Every answer carries the request id and the CORS headers. Routes that build their own
      // Response put them in already; set.headers stays empty for those, since Elysia copies a
      // Response into a new, streamed one when set.headers is not (a tenth of the relay's CPU).
      .mapResponse(({ request, response, set }) => {
        const origin = request.headers.get("origin");
        if (!(response instanceof Response)) {
          Object.assign(set.headers, baseHeaders(requestIdOf(request)));
          if (origin !== null) {
            Object.assign(set.headers, callerOriginHeaders(origin));
          }
          return;
        }
        if (!response.headers.has("x-request-id")) {
          setHeaders(response, baseHeaders(requestIdOf(request)));
        }
        if (origin !== null) {
          setHeaders(response, callerOriginHeaders(origin));
        }
        return response;
      })
      .use(relayDocs())
      .get("/health", () => ({ status: "ok" as const }), { detail: healthRouteDoc })
      .get("/metrics", () => metricsResponse(runtime.metrics.registry), {
        detail: metricsRouteDoc,
      })
      .get(
        "/ready",
        async ({ request }) => {
          const readiness = await checkReadiness(runtime);
          const status = readiness.status === "not_ready" ? 503 : 200;
          return jsonResponse(readiness, status, requestIdOf(request));
        },
        { detail: readyRouteDoc },
      )
      .options(
        "/v1/:chain/:apiKey",
        ({ request }) =>
          new Response(null, {
            status: 204,
            headers: {
              ...baseHeaders(requestIdOf(request)),
              "access-control-allow-methods": "POST, OPTIONS",
              "access-control-allow-headers": "content-type, x-request-id",
              "access-control-max-age": "86400",
            },
          }),
        { detail: { hide: true } },
      )
      .post(
        "/v1/:chain/:apiKey",
        ({ request, params, server }) =>
          handleRpc(runtime, request, {
            ...params,
            clientIp: server?.requestIP(request)?.address ?? null,
          }),
        {
          parse: "none",
          detail: rpcRouteDoc,
        },
      )
  );
}

/** The type of the app createRelayApp builds. */
export type RelayApp = ReturnType<typeof createRelayApp>;

import type { AnyRouter } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { metricsResponse } from "@viper/shared/metrics/registry";
import { sql } from "drizzle-orm";
import { createContext } from "./context.ts";
import { describeError } from "./errors.ts";
import { appRouter } from "./router.ts";
import { createServices, type ServerDeps, type Services } from "./services.ts";

/** Where the client is, as the socket tells it; Bun.serve's server provides it. */
export interface ClientAddress {
  requestIP(request: Request): { address: string } | null;
}

export interface ServerApp {
  /** Handles one HTTP request: /trpc/* for the API, /health for probes. */
  fetch(request: Request, client?: ClientAddress): Promise<Response>;
  services: Services;
}

export interface ServerAppOptions {
  /** Another router to serve (tests mount extra procedures); the app router by default. */
  router?: AnyRouter;
}

const requestIdPattern = /^[\w.-]{1,64}$/;

/**
 * Builds the server's request handler from its dependencies: tRPC at /trpc, a health probe at
 * /health, CORS with credentials for the dashboard's origins. No socket is opened here.
 */
export async function createServerApp(
  deps: ServerDeps,
  options: ServerAppOptions = {},
): Promise<ServerApp> {
  const services = await createServices(deps);
  const router = options.router ?? appRouter;
  services.metrics.knowProcedures(Object.keys(router._def.procedures));

  async function handle(request: Request, client?: ClientAddress): Promise<Response> {
    const incomingId = request.headers.get("x-request-id");
    const requestId =
      incomingId && requestIdPattern.test(incomingId) ? incomingId : crypto.randomUUID();
    const url = new URL(request.url);
    const startedAt = performance.now();
    const cors = corsHeaders(services, request.headers.get("origin"));

    if (request.method === "OPTIONS") {
      return new Response(null, { status: 204, headers: cors });
    }
    let response: Response;
    if (url.pathname === "/health") {
      response = await health(services);
    } else if (url.pathname === "/metrics") {
      // Prometheus scrapes this; see docs/analytics.md for the series.
      response = await metricsResponse(services.metrics.registry);
    } else if (url.pathname === "/trpc" || url.pathname.startsWith("/trpc/")) {
      const facts = { requestId, ip: clientIp(services, request, client) };
      response = await fetchRequestHandler({
        endpoint: "/trpc",
        req: request,
        router,
        createContext: ({ req, resHeaders }) =>
          createContext(services, { ...facts, req, resHeaders }),
        onError: ({ error, path, ctx }) => {
          const logger = ctx?.logger ?? services.logger.child({ requestId });
          if (getHTTPStatusCodeFromError(error) >= 500) {
            logger.error({ path, err: describeError(error) }, "procedure failed");
          } else {
            logger.debug({ path, code: error.code }, "procedure refused");
          }
        },
      });
    } else {
      response = Response.json({ error: "not found" }, { status: 404 });
    }
    response.headers.set("x-request-id", requestId);
    services.logger.debug(
      {
        requestId,
        method: request.method,
        path: url.pathname,
        status: response.status,
        durationMs: Math.round(performance.now() - startedAt),
      },
      "request handled",
    );
    cors.forEach((value, name) => {
      response.headers.set(name, value);
    });
    return response;
  }

  return { fetch: handle, services };
}

async function health(services: Services): Promise<Response> {
  const [store, database] = await Promise.all([
    services.store.ping(),
    services.db.execute(sql`select 1`).then(
      () => true,
      () => false,
    ),
  ]);
  const ok = store && database;
  return Response.json(
    { status: ok ? "ok" : "degraded", database, store },
    { status: ok ? 200 : 503 },
  );
}

function corsHeaders(services: Services, origin: string | null): Headers {
  const headers = new Headers();
  if (origin && services.settings.allowedOrigins.includes(origin)) {
    headers.set("access-control-allow-origin", origin);
    headers.set("access-control-allow-credentials", "true");
    headers.set("access-control-allow-methods", "GET, POST, OPTIONS");
    headers.set(
      "access-control-allow-headers",
      "content-type, authorization, x-request-id, trpc-accept",
    );
    headers.set("access-control-expose-headers", "x-request-id");
    headers.set("vary", "Origin");
  }
  return headers;
}

function clientIp(services: Services, request: Request, client?: ClientAddress): string | null {
  if (services.config.TRUST_PROXY) {
    const forwarded = request.headers.get("x-forwarded-for")?.split(",")[0]?.trim();
    if (forwarded) {
      return forwarded;
    }
  }
  return client?.requestIP(request)?.address ?? null;
}

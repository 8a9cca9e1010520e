import type { AnyRouter } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { metricsResponse } from "@viper/shared/metrics/registry";
import { sql } from "drizzle-orm";
import { createContext } from "./context.ts";
import { AppError, describeError } from "./errors.ts";
import { readinessResponse } from "./readiness.ts";
import { checkTrpcRequest, errorResponse, type RequestLimits, readBody } from "./request-guards.ts";
import { runInRequestScope } from "./request-scope.ts";
import { appRouter } from "./router.ts";
import { createServices, type ServerDeps, type Services } from "./services.ts";
import { verifyEmailByLink } from "./verify-email-link.ts";

/** Where the client is, as the socket tells it; Bun.serve's server provides it. */
export interface ClientAddress {
  requestIP(request: Request): { address: string } | null;
}

export interface ServerApp {
  /** Handles one HTTP request: /trpc/* for the API, /health, /ready and /metrics for probes. */
  fetch(request: Request, client?: ClientAddress): Promise<Response>;
  services: Services;
}

export interface ServerAppOptions {
  /** Another router to serve (tests mount extra procedures); the app router by default. */
  router?: AnyRouter;
}

const requestIdPattern = /^[\w.-]{1,64}$/;

/** Who is asking, as far as the handler knows before tRPC runs. */
interface RequestFacts {
  requestId: string;
  ip: string | null;
}

/**
 * Builds the server's request handler from its dependencies: tRPC at /trpc, probes at /health
 * and /ready, CORS with credentials for the dashboard's origins, and /verify-email while mails link
 * to this server. Everything refused outside tRPC is answered in tRPC's error shape. No socket is
 * opened here.
 */
export async function createServerApp(
  deps: ServerDeps,
  options: ServerAppOptions = {},
): Promise<ServerApp> {
  const services = await createServices(deps);
  const router = options.router ?? appRouter;
  services.metrics.knowProcedures(Object.keys(router._def.procedures));
  const mount: TrpcMount = {
    services,
    router,
    limits: {
      maxBodyBytes: services.config.MAX_REQUEST_BODY_BYTES,
      maxBatchSize: services.config.TRPC_MAX_BATCH_SIZE,
    },
  };
  const servesVerifyLink =
    new URL(services.settings.dashboardUrl).origin === new URL(services.settings.publicUrl).origin;

  async function handleVerifyLink(request: Request, facts: RequestFacts): Promise<Response> {
    if (request.method !== "GET") {
      const error = new AppError("METHOD_NOT_ALLOWED", { message: "Open the link with GET." });
      return errorResponse(error, { requestId: facts.requestId, headers: { allow: "GET" } });
    }
    return verifyEmailByLink(services, request, facts);
  }

  async function handle(request: Request, client?: ClientAddress): Promise<Response> {
    const incomingId = request.headers.get("x-request-id");
    const requestId =
      incomingId && requestIdPattern.test(incomingId) ? incomingId : crypto.randomUUID();
    const url = new URL(request.url);
    const facts: RequestFacts = { requestId, ip: clientIp(services, request, client) };
    const startedAt = performance.now();
    const cors = corsHeaders(services, request.headers.get("origin"));

    if (request.method === "OPTIONS") {
      return new Response(null, { status: 204, headers: cors });
    }
    let response: Response;
    if (url.pathname === "/health") {
      response = await health(services);
    } else if (url.pathname === "/ready") {
      response = await readinessResponse(services);
    } else if (url.pathname === "/metrics") {
      // Prometheus scrapes this; see docs/analytics.md for the series.
      response = await metricsResponse(services.metrics.registry);
    } else if (url.pathname === "/trpc" || url.pathname.startsWith("/trpc/")) {
      response = await runInRequestScope(requestId, () => handleTrpc(mount, request, url, facts));
    } else if (servesVerifyLink && url.pathname === "/verify-email") {
      response = await handleVerifyLink(request, facts);
    } else {
      const error = new AppError("NOT_FOUND", { message: `Nothing is at ${url.pathname}.` });
      response = errorResponse(error, { requestId });
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

interface TrpcMount {
  services: Services;
  router: AnyRouter;
  limits: RequestLimits;
}

/** One /trpc request: the guards, then tRPC, with every refusal in tRPC's error shape. */
async function handleTrpc(
  app: TrpcMount,
  request: Request,
  url: URL,
  facts: RequestFacts,
): Promise<Response> {
  const { services, router, limits } = app;
  const path = procedurePathOf(url);
  const refusal = checkTrpcRequest(request, path, limits);
  const bounded = refusal ?? (await readBody(request, limits.maxBodyBytes));
  if (!(bounded instanceof Request)) {
    services.logger.debug({ ...facts, path, code: bounded.error.appCode }, "request refused");
    const { error, headers } = bounded;
    return errorResponse(error, { requestId: facts.requestId, path: path || undefined, headers });
  }
  const response = await fetchRequestHandler({
    endpoint: "/trpc",
    req: bounded,
    router,
    // checkTrpcRequest answers first with BATCH_TOO_LARGE; this is tRPC's own guard behind it.
    maxBatchSize: limits.maxBatchSize,
    createContext: ({ req, resHeaders }) => createContext(services, { ...facts, req, resHeaders }),
    onError: ({ error, path, ctx }) => {
      const logger = ctx?.logger ?? services.logger.child({ requestId: facts.requestId });
      if (getHTTPStatusCodeFromError(error) >= 500) {
        logger.error({ path, err: describeError(error) }, "procedure failed");
      } else {
        logger.debug({ path, code: error.code }, "procedure refused");
      }
    },
  });
  // tRPC's answers to requests it refused before any procedure ran carry no content type.
  if (response.status >= 400 && !response.headers.has("content-type")) {
    response.headers.set("content-type", "application/json");
  }
  return response;
}

/** The procedure path of a /trpc URL ("auth.signIn", or "a,b" for a batch); "" for /trpc. */
function procedurePathOf(url: URL): string {
  const raw = url.pathname.slice("/trpc/".length);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
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

import { initTRPC, TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import type { AuthSession, AuthUser, Context } from "./context.ts";
import {
  AppError,
  type AppErrorCode,
  type AppErrorDetails,
  appCodeOf,
  appErrors,
  fromTrpcRefusal,
  toClientError,
} from "./errors.ts";
import { currentRequestId } from "./request-scope.ts";

/** One problem with the input, as a form can show it beside its field. */
export interface InputIssue {
  path: (string | number)[];
  message: string;
  code: string;
}

/** The `data` of every error the server sends. */
export interface AppErrorData {
  /** tRPC's code (sets the HTTP status). */
  code: TRPCError["code"];
  httpStatus: number;
  path?: string;
  /** The server's stable code; see server/src/errors.ts and docs/server-errors.md. */
  appCode: AppErrorCode;
  /** The id of the request in the server's logs; quote it when reporting a problem. */
  requestId: string | null;
  details: AppErrorDetails | null;
  /** Present on INVALID_INPUT: what is wrong with which field. */
  issues: InputIssue[] | null;
}

/** The `error` member of every error body: tRPC's answers and the refusals before tRPC alike. */
export interface WireError {
  message: string;
  /** tRPC's JSON-RPC style number for `data.code`. */
  code: number;
  data: AppErrorData;
}

/** Turns an error into what a client sees; the one place that decides the wire shape. */
export function toWireError(
  raised: TRPCError,
  facts: { requestId: string | null; path?: string | undefined },
): WireError {
  const error = fromTrpcRefusal(raised);
  const appCode = appCodeOf(error);
  const issues = inputIssuesOf(error);
  const data: AppErrorData = {
    code: error.code,
    httpStatus: getHTTPStatusCodeFromError(error),
    ...(facts.path === undefined ? {} : { path: facts.path }),
    appCode,
    requestId: facts.requestId,
    details: error instanceof AppError ? (error.details ?? null) : null,
    issues,
  };
  // Unknown errors keep their cause for the log, but their message never reaches a client.
  const message = appCode === "INTERNAL" || issues ? appErrors[appCode].message : error.message;
  return { message, code: TRPC_ERROR_CODES_BY_KEY[error.code], data };
}

const t = initTRPC.context<Context>().create({
  // Stacks stay in the logs; clients get codes.
  isDev: false,
  errorFormatter({ shape, error, ctx }) {
    // Without a context (tRPC refused the request before making one) the scope has the id.
    const requestId = ctx?.requestId ?? currentRequestId();
    return { ...shape, ...toWireError(error, { requestId, path: shape.data.path }) };
  },
});

function inputIssuesOf(error: TRPCError): InputIssue[] | null {
  const cause = error.cause as { issues?: unknown } | undefined;
  if (error.code !== "BAD_REQUEST" || !Array.isArray(cause?.issues)) {
    return null;
  }
  return cause.issues.map((issue: { path?: PropertyKey[]; message?: string; code?: string }) => ({
    path: (issue.path ?? []).map((part) => (typeof part === "number" ? part : String(part))),
    message: issue.message ?? "invalid",
    code: issue.code ?? "invalid",
  }));
}

export const router = t.router;
export const middleware = t.middleware;
export const mergeRouters = t.mergeRouters;
export const createCallerFactory = t.createCallerFactory;

/**
 * Every procedure is timed and counted for /metrics, by name and result code; its error first
 * passes the one mapping of unexpected errors a client may still be told about (toClientError).
 */
const observedProcedure = t.procedure.use(async ({ ctx, path, next }) => {
  const started = performance.now();
  const result = await next();
  const settled = result.ok ? result : { ...result, error: toClientError(result.error) };
  ctx.services.metrics.observeProcedure({
    procedure: path,
    code: settled.ok ? "OK" : settled.error.code,
    durationMs: performance.now() - started,
  });
  return settled;
});

/** Anyone may call it; `ctx.user` is set when the request carries a valid credential. */
export const publicProcedure = observedProcedure;

/** The context after authentication: a user and a session are guaranteed. */
export type AuthedContext = Context & { user: AuthUser; session: AuthSession };

/**
 * Signed in, by the dashboard's session cookie or `Authorization: Bearer <access token>`.
 * A presented but refused credential fails with its reason (TOKEN_EXPIRED, SESSION_REVOKED...),
 * no credential with UNAUTHENTICATED.
 */
export const authedProcedure = observedProcedure.use(({ ctx, next }) => {
  if (ctx.authFailure) {
    throw ctx.authFailure instanceof TRPCError
      ? ctx.authFailure
      : new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause: ctx.authFailure });
  }
  if (!ctx.user || !ctx.session) {
    throw new AppError("UNAUTHENTICATED");
  }
  return next({ ctx: { ...ctx, user: ctx.user, session: ctx.session } });
});

/** Signed in with a verified email address (creating API keys and the like). */
export const verifiedProcedure = authedProcedure.use(({ ctx, next }) => {
  if (!ctx.user.emailVerified) {
    throw new AppError("EMAIL_NOT_VERIFIED");
  }
  return next();
});

/** Signed in as a platform admin; the role is read from the database on each request. */
export const adminProcedure = authedProcedure.use(({ ctx, next }) => {
  if (ctx.user.role !== "admin") {
    throw new AppError("ADMIN_REQUIRED");
  }
  return next();
});

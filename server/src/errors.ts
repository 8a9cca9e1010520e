import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";

/**
 * Every error the server sends names one of these codes in `error.data.appCode`; clients branch
 * on it, never on the message. docs/server-errors.md lists them with what a client should do.
 * The tRPC code beside each one sets the HTTP status.
 */
export const appErrors = {
  INVALID_INPUT: { trpc: "BAD_REQUEST", message: "The input is not valid." },
  INTERNAL: { trpc: "INTERNAL_SERVER_ERROR", message: "Something went wrong on our side." },
  NOT_FOUND: { trpc: "NOT_FOUND", message: "Not found." },
  RATE_LIMITED: { trpc: "TOO_MANY_REQUESTS", message: "Too many requests; try again later." },
  REQUEST_REJECTED: { trpc: "BAD_REQUEST", message: "The request was refused." },
  METHOD_NOT_ALLOWED: { trpc: "METHOD_NOT_SUPPORTED", message: "This HTTP method is not allowed." },
  UNSUPPORTED_CONTENT_TYPE: {
    trpc: "UNSUPPORTED_MEDIA_TYPE",
    message: "Send the body as application/json.",
  },
  BODY_TOO_LARGE: { trpc: "PAYLOAD_TOO_LARGE", message: "The request body is too large." },
  BATCH_TOO_LARGE: { trpc: "BAD_REQUEST", message: "The batch holds too many calls." },

  UNAUTHENTICATED: { trpc: "UNAUTHORIZED", message: "Sign in first." },
  TOKEN_INVALID: { trpc: "UNAUTHORIZED", message: "The access token is not valid." },
  TOKEN_EXPIRED: { trpc: "UNAUTHORIZED", message: "The access token has expired." },
  SESSION_REVOKED: { trpc: "UNAUTHORIZED", message: "This session has ended; sign in again." },
  FORBIDDEN: { trpc: "FORBIDDEN", message: "You may not do this." },
  ADMIN_REQUIRED: { trpc: "FORBIDDEN", message: "Only platform admins may do this." },
  EMAIL_NOT_VERIFIED: { trpc: "FORBIDDEN", message: "Verify your email address first." },
  PROJECT_ROLE_REQUIRED: { trpc: "FORBIDDEN", message: "Your project role does not allow this." },

  INVALID_CREDENTIALS: { trpc: "UNAUTHORIZED", message: "Wrong email or password." },
  SIGN_IN_LOCKED: {
    trpc: "TOO_MANY_REQUESTS",
    message: "Too many failed sign-ins; try again later.",
  },
  ACCOUNT_DISABLED: { trpc: "FORBIDDEN", message: "This account is disabled." },
  PASSWORD_INCORRECT: { trpc: "FORBIDDEN", message: "The current password is wrong." },
  EMAIL_REQUIRED: {
    trpc: "PRECONDITION_FAILED",
    message: "Add an email address to the account first.",
  },
  EMAIL_TAKEN: { trpc: "CONFLICT", message: "Another account uses this email address." },
  EMAIL_ALREADY_VERIFIED: { trpc: "CONFLICT", message: "The email address is already verified." },
  VERIFICATION_TOKEN_INVALID: {
    trpc: "BAD_REQUEST",
    message: "The verification link is invalid, used or expired.",
  },
  REFRESH_TOKEN_INVALID: {
    trpc: "UNAUTHORIZED",
    message: "The refresh token is invalid, used or expired.",
  },
  REFRESH_TOKEN_REUSED: {
    trpc: "UNAUTHORIZED",
    message: "The refresh token was used before; the session has been revoked.",
  },

  PROVIDER_DISABLED: { trpc: "NOT_FOUND", message: "This sign-in method is not set up here." },
  OAUTH_STATE_INVALID: {
    trpc: "BAD_REQUEST",
    message: "The sign-in attempt is unknown or expired; start again.",
  },
  OAUTH_CODE_INVALID: {
    trpc: "BAD_REQUEST",
    message: "The provider refused the authorization code; start again.",
  },
  OAUTH_PROVIDER_UNAVAILABLE: {
    trpc: "BAD_GATEWAY",
    message: "The sign-in provider did not answer; try again.",
  },
  ID_TOKEN_INVALID: { trpc: "UNAUTHORIZED", message: "The identity token is not valid." },
  EMAIL_UNVERIFIED_AT_PROVIDER: {
    trpc: "FORBIDDEN",
    message: "The provider has not verified this email address.",
  },
  IDENTITY_IN_USE: { trpc: "CONFLICT", message: "This sign-in is linked to another account." },
  SIWE_NONCE_INVALID: { trpc: "BAD_REQUEST", message: "The nonce is unknown, used or expired." },
  SIWE_MESSAGE_INVALID: {
    trpc: "BAD_REQUEST",
    message: "The sign-in message is malformed, expired or for another site or chain.",
  },
  SIWE_SIGNATURE_INVALID: {
    trpc: "UNAUTHORIZED",
    message: "The signature does not match the address.",
  },
  WALLET_CLAIM_MISSING: { trpc: "BAD_REQUEST", message: "The token names no Ethereum wallet." },
  CANNOT_CHANGE_SELF: { trpc: "BAD_REQUEST", message: "Admins cannot do this to themselves." },

  LIMIT_REACHED: { trpc: "FORBIDDEN", message: "The project's tier allows no more of these." },
  CHAIN_UNAVAILABLE: {
    trpc: "BAD_REQUEST",
    message: "A chain is unknown, not served, or not one of the project's chains.",
  },
  INVITE_INVALID: { trpc: "BAD_REQUEST", message: "The invitation is invalid, used or expired." },
  INVITE_EMAIL_MISMATCH: {
    trpc: "FORBIDDEN",
    message: "This invitation is for another email address; sign in with that one.",
  },
  ALREADY_MEMBER: { trpc: "CONFLICT", message: "This person is already a member of the project." },
  OWNER_MUST_TRANSFER: {
    trpc: "PRECONDITION_FAILED",
    message: "The owner must transfer ownership first.",
  },
  KEY_REVOKED: { trpc: "CONFLICT", message: "This API key is revoked." },
} as const satisfies Record<string, { trpc: TRPC_ERROR_CODE_KEY; message: string }>;

export type AppErrorCode = keyof typeof appErrors;

/** Extra facts a client needs to act on an error, sent in `error.data.details`. */
export interface AppErrorDetails {
  /** Seconds until a locked or rate-limited action may be tried again. */
  retryAfterSeconds?: number;
}

/**
 * A domain error with a stable code. Services throw it; the error formatter puts the code and
 * details on the wire. Anything else thrown becomes INTERNAL with its cause kept for the log.
 */
export class AppError extends TRPCError {
  readonly appCode: AppErrorCode;
  readonly details: AppErrorDetails | undefined;

  constructor(
    appCode: AppErrorCode,
    options: { message?: string; cause?: unknown; details?: AppErrorDetails } = {},
  ) {
    const entry = appErrors[appCode];
    super({ code: entry.trpc, message: options.message ?? entry.message, cause: options.cause });
    this.name = "AppError";
    this.appCode = appCode;
    this.details = options.details;
  }
}

/** The app code for any tRPC error: its own when it has one, else one per tRPC code. */
export function appCodeOf(error: TRPCError): AppErrorCode {
  if (error instanceof AppError) {
    return error.appCode;
  }
  switch (error.code) {
    case "BAD_REQUEST":
    case "PARSE_ERROR":
      return "INVALID_INPUT";
    case "UNAUTHORIZED":
      return "UNAUTHENTICATED";
    case "FORBIDDEN":
      return "FORBIDDEN";
    case "NOT_FOUND":
      return "NOT_FOUND";
    case "TOO_MANY_REQUESTS":
      return "RATE_LIMITED";
    case "METHOD_NOT_SUPPORTED":
      return "METHOD_NOT_ALLOWED";
    case "UNSUPPORTED_MEDIA_TYPE":
      return "UNSUPPORTED_CONTENT_TYPE";
    case "PAYLOAD_TOO_LARGE":
      return "BODY_TOO_LARGE";
    default:
      return getHTTPStatusCodeFromError(error) < 500 ? "REQUEST_REJECTED" : "INTERNAL";
  }
}

/**
 * tRPC's own refusals of a call, made before any procedure runs, in the server's codes. Input
 * that is not JSON is INVALID_INPUT with a message of ours instead of the parser's ("JSON Parse
 * error: Unexpected EOF"). Any other BAD_REQUEST tRPC raises without input issues (a batch that
 * mixes queries and mutations, a batch input that is not an object, a badly encoded path) is
 * REQUEST_REJECTED with tRPC's message, which says what is wrong.
 */
export function fromTrpcRefusal(error: TRPCError): TRPCError {
  if (error instanceof AppError || error.code !== "BAD_REQUEST") {
    return error;
  }
  if (error.cause instanceof SyntaxError) {
    return new AppError("INVALID_INPUT", {
      message: "The request body (or the input parameter of a GET) is not valid JSON.",
      cause: error,
    });
  }
  const issues = (error.cause as { issues?: unknown } | undefined)?.issues;
  if (Array.isArray(issues)) {
    return error;
  }
  return new AppError("REQUEST_REJECTED", { message: error.message, cause: error });
}

/**
 * PostgreSQL's refusals of text it cannot store: a NUL or a byte sequence invalid in UTF-8
 * (22021), a \u0000 escape in JSON (22P05). The input schemas refuse such text first; this
 * catches what they miss.
 */
const unstorableTextStates = new Set(["22021", "22P05"]);

/**
 * The error a client gets for a failed procedure: text the database refused to store is the
 * client's INVALID_INPUT, not our INTERNAL; every other error stays as it is.
 */
export function toClientError(error: TRPCError): TRPCError {
  if (error instanceof AppError || !databaseRefusedText(error)) {
    return error;
  }
  return new AppError("INVALID_INPUT", {
    message: "The input holds characters that cannot be stored.",
    cause: error.cause ?? error,
  });
}

function databaseRefusedText(error: Error): boolean {
  // Drizzle wraps the driver's error, tRPC wraps Drizzle's: look a few causes deep.
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && unstorableTextStates.has(code)) {
      return true;
    }
    current = current.cause;
  }
  return false;
}

/** Name, message and code of an error, for logs: never its enumerable fields (query parameters). */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) {
    return { message: String(error) };
  }
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    ...(typeof code === "string" || typeof code === "number" ? { code } : {}),
    stack: error.stack,
    ...(error.cause === undefined ? {} : { cause: describeError(error.cause) }),
  };
}

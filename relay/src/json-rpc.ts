import { type PortalErrorName, portalErrors, RelayError } from "./errors.ts";
import { splitJsonArray } from "./json-array.ts";
import { inspectRequestSource, type RawJson, type RequestSource, rawJson } from "./json-source.ts";
import { hasLoneSurrogate } from "./unicode-text.ts";

/** An id as the portal echoes it; a number keeps its source text where a double would not. */
export type JsonRpcId = string | number | null | RawJson;

/**
 * Deeper requests are refused before they are forwarded: nodes refuse them anyway (or spend
 * their stack on them), and no real call nests anywhere near this.
 */
export const MAX_REQUEST_DEPTH = 512;

/** One request of a dApp's body (the only one, or one element of a batch). */
export interface RpcItem {
  /** The element's exact source text, forwarded as is. */
  raw: string;
  /** False for a notification: the `id` member is absent (an explicit null is not absent). */
  hasId: boolean;
  /** The id to answer with, as written; null when absent, given twice, or no string or number. */
  id: JsonRpcId;
  /** The method name, or null when the item has none. */
  method: string | null;
  /** True for a well-formed JSON-RPC 2.0 request object. */
  valid: boolean;
}

/** A parsed body: a single request or a batch of them. */
export interface RpcBody {
  batch: boolean;
  items: RpcItem[];
}

/** A JSON-RPC 2.0 error answer as the portal writes it. */
export interface RpcErrorObject {
  jsonrpc: "2.0";
  id: JsonRpcId;
  error: { code: number; message: string; data: { requestId: string } & Record<string, unknown> };
}

/** A message and data fields that replace an error's fixed message and add to its data. */
export interface RpcErrorDetail {
  message: string;
  data: Record<string, unknown>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// An integer as JSON writes it: no fraction, no exponent.
const integerText = /^-?(?:0|[1-9][0-9]*)$/;

/**
 * A JSON-RPC 2.0 id: null, a string of real text, or a number written as an integer. The spec
 * discourages fractions, and nodes refuse them, exponents (1e2, 1e400) included.
 */
function isValidId(value: unknown, source: RequestSource): boolean {
  if (typeof value === "string") {
    return !hasLoneSurrogate(value);
  }
  if (typeof value === "number") {
    return source.idText !== null && integerText.test(source.idText);
  }
  return value === null;
}

/** The id to answer with, as the client wrote it where the text allows; null when unclear. */
function answerId(value: unknown, source: RequestSource): JsonRpcId {
  if (source.duplicateMember === "id") {
    return null;
  }
  // A double may not hold the number (2^53 + 1), nor keep how it was written (1e2, -0).
  if (typeof value === "number" && source.idText !== null && source.idText !== String(value)) {
    return rawJson(source.idText);
  }
  return value === null || typeof value === "string" || typeof value === "number" ? value : null;
}

function describeItem(raw: string, value: unknown): RpcItem {
  if (!isRecord(value)) {
    return { raw, hasId: false, id: null, method: null, valid: false };
  }
  const source = inspectRequestSource(raw);
  const hasId = Object.hasOwn(value, "id");
  const id = hasId ? answerId(value.id, source) : null;
  const method = typeof value.method === "string" ? value.method : null;
  const params = value.params;
  const paramsOk = params === undefined || Array.isArray(params) || isRecord(params);
  const valid =
    value.jsonrpc === "2.0" &&
    method !== null &&
    paramsOk &&
    (!hasId || isValidId(value.id, source)) &&
    source.duplicateMember === null &&
    source.depth <= MAX_REQUEST_DEPTH;
  return { raw, hasId, id, method, valid };
}

/**
 * Parses a dApp's body into requests without judging methods or keys. Throws
 * RelayError("parse_error") when the text is not JSON and RelayError("invalid_request") for an
 * empty batch; a malformed item is returned with valid=false so it gets its own error answer.
 * Malformed includes what JSON.parse lets through but nodes refuse: a number id written with a
 * fraction or exponent, a string id with a lone surrogate, a member given twice, and nesting
 * deeper than MAX_REQUEST_DEPTH.
 */
export function parseRpcBody(text: string): RpcBody {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new RelayError("parse_error", { cause });
  }
  if (!Array.isArray(value)) {
    return { batch: false, items: [describeItem(text.trim(), value)] };
  }
  const raws = splitJsonArray(text);
  if (value.length === 0 || raws === null || raws.length !== value.length) {
    throw new RelayError("invalid_request", { detail: "empty or unreadable batch" });
  }
  const items = value.map((element, index) => describeItem(raws[index] ?? "", element));
  return { batch: true, items };
}

/** True when the item expects an answer: a notification does not, a malformed item does. */
export function expectsAnswer(item: RpcItem): boolean {
  return item.hasId || !item.valid;
}

/**
 * The portal's error answer for one request; `detail` replaces the fixed message and adds data
 * fields (the rate limiter names the limit and when to retry).
 */
export function rpcError(
  id: JsonRpcId,
  name: PortalErrorName,
  requestId: string,
  detail?: RpcErrorDetail,
): RpcErrorObject {
  const { code } = portalErrors[name];
  const message = detail?.message ?? portalErrors[name].message;
  return { jsonrpc: "2.0", id, error: { code, message, data: { ...detail?.data, requestId } } };
}

/**
 * The error body for a request refused as a whole (bad key, unknown chain…): one error object
 * for a single request, one per answerable item for a batch, and a lone id-null object when
 * there is nothing to carry an id (unparsable body, empty batch, all notifications).
 */
export function wholeRequestError(
  body: RpcBody | null,
  name: PortalErrorName,
  requestId: string,
  detail?: RpcErrorDetail,
): RpcErrorObject | RpcErrorObject[] {
  if (body === null) {
    return rpcError(null, name, requestId, detail);
  }
  const answered = body.items.filter(expectsAnswer);
  if (!body.batch || answered.length === 0) {
    return rpcError(answered[0]?.id ?? null, name, requestId, detail);
  }
  return answered.map((item) => rpcError(item.id, name, requestId, detail));
}

/** The first method named in the body, or "batch" for a batch; for the usage log. */
export function logMethodOf(body: RpcBody | null): string | null {
  if (body === null) {
    return null;
  }
  if (body.batch) {
    return "batch";
  }
  return body.items[0]?.method ?? null;
}

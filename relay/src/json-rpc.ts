import { type PortalErrorName, portalErrors, RelayError } from "./errors.ts";
import { splitJsonArray } from "./json-array.ts";

export type JsonRpcId = string | number | null;

/** One request of a dApp's body (the only one, or one element of a batch). */
export interface RpcItem {
  /** The element's exact source text, forwarded as is. */
  raw: string;
  /** False for a notification: the `id` member is absent (an explicit null is not absent). */
  hasId: boolean;
  /** The id to answer with; null when absent or not a valid id. */
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

function isId(value: unknown): value is JsonRpcId {
  return value === null || typeof value === "string" || typeof value === "number";
}

function describeItem(raw: string, value: unknown): RpcItem {
  if (!isRecord(value)) {
    return { raw, hasId: false, id: null, method: null, valid: false };
  }
  const hasId = Object.hasOwn(value, "id");
  const id = hasId && isId(value.id) ? value.id : null;
  const method = typeof value.method === "string" ? value.method : null;
  const params = value.params;
  const paramsOk = params === undefined || Array.isArray(params) || isRecord(params);
  const valid =
    value.jsonrpc === "2.0" && method !== null && paramsOk && (!hasId || isId(value.id));
  return { raw, hasId, id, method, valid };
}

/**
 * Parses a dApp's body into requests without judging methods or keys. Throws
 * RelayError("parse_error") when the text is not JSON and RelayError("invalid_request") for an
 * empty batch; a malformed item is returned with valid=false so it gets its own error answer.
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

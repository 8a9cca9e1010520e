import type { PortalErrorName } from "./errors.ts";
import { splitJsonArray } from "./json-array.ts";
import { expectsAnswer, type RpcBody, type RpcItem, rpcError } from "./json-rpc.ts";
import { inspectRequestSource } from "./json-source.ts";

/** What goes upstream and which items the portal answers itself. */
export interface ForwardPlan {
  /** The text to relay, or null when every item was refused. */
  data: string | null;
  /** The portal's own answer per item index (malformed or forbidden items). */
  refusals: Map<number, PortalErrorName>;
  /** True when the upstream answer is the whole answer and goes back byte for byte. */
  verbatim: boolean;
  /** True when at least one forwarded item expects an answer (is not a notification). */
  expectsUpstreamAnswer: boolean;
}

/**
 * Sorts a body's items into forwarded and refused ones. With nothing refused the dApp's body is
 * forwarded as it came; otherwise the forwarded items are re-joined from their source text.
 */
export function planForward(
  body: RpcBody,
  original: string,
  refuse: (item: RpcItem & { method: string }) => PortalErrorName | null,
): ForwardPlan {
  const refusals = new Map<number, PortalErrorName>();
  const forwarded: RpcItem[] = [];
  body.items.forEach((item, index) => {
    const reason =
      item.valid && item.method !== null
        ? refuse({ ...item, method: item.method })
        : "invalid_request";
    if (reason === null) {
      forwarded.push(item);
    } else {
      refusals.set(index, reason);
    }
  });
  const expectsUpstreamAnswer = forwarded.some((item) => item.hasId);
  if (refusals.size === 0) {
    return { data: original, refusals, verbatim: true, expectsUpstreamAnswer };
  }
  const data = forwarded.length === 0 ? null : `[${forwarded.map((item) => item.raw).join(",")}]`;
  return { data, refusals, verbatim: false, expectsUpstreamAnswer };
}

function idKey(raw: string): string | null {
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value === "object" && value !== null && "id" in value) {
      // A large number id is matched by its text, as the request's id is (json-rpc.ts).
      if (typeof value.id === "number" && !Number.isSafeInteger(value.id)) {
        return inspectRequestSource(raw).idText;
      }
      return JSON.stringify(value.id);
    }
  } catch {
    // An element we cannot read is still returned, just not matched to a request.
  }
  return null;
}

/**
 * Merges the upstream answers of the forwarded items with the portal's answers to the refused
 * ones, in the order of the dApp's batch; each upstream element keeps its exact text. Null when
 * nothing is to be answered (only notifications).
 */
export function mergeBatchAnswer(
  body: RpcBody,
  plan: ForwardPlan,
  upstream: string | null,
  requestId: string,
): string | null {
  const trimmed = upstream?.trim() ?? "";
  const elements = trimmed === "" ? [] : (splitJsonArray(trimmed) ?? [trimmed]);
  const byId = new Map<string, string[]>();
  const unmatched: string[] = [];
  for (const element of elements) {
    const key = idKey(element);
    if (key === null) {
      unmatched.push(element);
    } else {
      byId.set(key, [...(byId.get(key) ?? []), element]);
    }
  }
  const parts: string[] = [];
  body.items.forEach((item, index) => {
    const refusal = plan.refusals.get(index);
    if (refusal !== undefined) {
      if (expectsAnswer(item)) {
        parts.push(JSON.stringify(rpcError(item.id, refusal, requestId)));
      }
      return;
    }
    const answer = item.hasId ? byId.get(JSON.stringify(item.id))?.shift() : undefined;
    if (answer !== undefined) {
      parts.push(answer);
    }
  });
  parts.push(...unmatched, ...[...byId.values()].flat());
  return parts.length === 0 ? null : `[${parts.join(",")}]`;
}

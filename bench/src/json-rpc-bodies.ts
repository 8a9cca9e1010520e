/**
 * The JSON-RPC traffic of the bench: what the load sends, what the fixed upstream answers, and
 * how a sampled answer is judged. Kept in one place so the upstream and the checker agree.
 */

/** What the fixed upstream answers to every call, whatever the method. */
export const FIXED_RESULT = "0x10d4f";

const METHOD = "eth_blockNumber";

/** A request body with `batchSize` calls: a plain object for 1, a JSON array otherwise. */
export function requestBody(batchSize: number): string {
  if (batchSize === 1) {
    return JSON.stringify({ jsonrpc: "2.0", id: 1, method: METHOD, params: [] });
  }
  const calls = Array.from({ length: batchSize }, (_, index) => ({
    jsonrpc: "2.0",
    id: index + 1,
    method: METHOD,
    params: [],
  }));
  return JSON.stringify(calls);
}

type Id = string | number | null;

function idOf(call: unknown): Id {
  if (typeof call === "object" && call !== null && "id" in call) {
    const { id } = call;
    return typeof id === "string" || typeof id === "number" ? id : null;
  }
  return null;
}

/**
 * The fixed upstream's answer to a body: one result per call, echoing each id. A body that is not
 * JSON gets a JSON-RPC parse error, as a real node would answer.
 */
export function fixedAnswer(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return JSON.stringify({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32700, message: "Parse error" },
    });
  }
  const answer = (call: unknown) => ({ jsonrpc: "2.0", id: idOf(call), result: FIXED_RESULT });
  return JSON.stringify(Array.isArray(parsed) ? parsed.map(answer) : answer(parsed));
}

function isGoodCall(call: unknown, expectedId: number): boolean {
  if (typeof call !== "object" || call === null) {
    return false;
  }
  const record = call as Record<string, unknown>;
  return (
    record.jsonrpc === "2.0" &&
    record.id === expectedId &&
    record.result === FIXED_RESULT &&
    !("error" in record)
  );
}

/**
 * Why an answer to `requestBody(batchSize)` is wrong, or null when it is the fixed result for
 * every call with the right ids. A JSON-RPC error answer counts as wrong: the upstream never
 * sends one, so it came from whatever stands between.
 */
export function answerProblem(status: number, text: string, batchSize: number): string | null {
  if (status < 200 || status > 299) {
    return `HTTP ${status}: ${text.slice(0, 200)}`;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `not JSON: ${text.slice(0, 200)}`;
  }
  if (batchSize === 1) {
    return isGoodCall(parsed, 1) ? null : `unexpected answer: ${text.slice(0, 200)}`;
  }
  if (!Array.isArray(parsed) || parsed.length !== batchSize) {
    return `expected an array of ${batchSize} answers: ${text.slice(0, 200)}`;
  }
  // A batch's answers may come in any order (JSON-RPC 2.0); match them by id.
  const byId = new Map(parsed.map((call) => [idOf(call), call]));
  for (let id = 1; id <= batchSize; id++) {
    if (!isGoodCall(byId.get(id), id)) {
      return `bad answer for id ${id}: ${text.slice(0, 200)}`;
    }
  }
  return null;
}

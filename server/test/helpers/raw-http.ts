import type { WireError } from "../../src/trpc.ts";

/** What a client without the tRPC library sees: status, headers and the parsed body. */
export interface RawAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** Sends one request and parses the body as JSON (null when it is empty or not JSON). */
export async function rawRequest(url: string, init: RequestInit = {}): Promise<RawAnswer> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  return { status: response.status, headers: response.headers, body };
}

/** POSTs JSON to a procedure (or a comma-separated batch with `?batch=1` in `path`). */
export function postProcedure(
  serverUrl: string,
  path: string,
  input: unknown,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  return rawRequest(`${serverUrl}/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(input),
  });
}

/** The error of a single call's answer; throws when the answer is not one. */
export function wireErrorOf(answer: RawAnswer): WireError {
  const error = (answer.body as { error?: WireError } | null)?.error;
  if (!error) {
    throw new Error(`expected an error body, got ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return error;
}

/** The appCode of each call in a batch answer, "OK" for results. */
export function batchAppCodes(answer: RawAnswer): string[] {
  if (!Array.isArray(answer.body)) {
    throw new Error(`expected a batch body, got ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return answer.body.map((entry: { error?: WireError }) => entry.error?.data.appCode ?? "OK");
}

/** How many times each value occurs. */
export function tally(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) {
    counts[value] = (counts[value] ?? 0) + 1;
  }
  return counts;
}

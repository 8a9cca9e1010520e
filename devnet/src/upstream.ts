import type { RelayPayload } from "@viper/shared/protocol";

/** The chain behind a servicer failed; the message says how. */
export class UpstreamError extends Error {
  override name = "UpstreamError";
}

/** Joins the chain's URL and the relay's REST path without doubling or dropping a slash. */
export function upstreamTarget(upstreamUrl: string, path: string): string {
  if (path === "") {
    return upstreamUrl;
  }
  const base = upstreamUrl.endsWith("/") ? upstreamUrl.slice(0, -1) : upstreamUrl;
  return path.startsWith("/") ? `${base}${path}` : `${base}/${path}`;
}

/**
 * Sends the dApp's request to the chain exactly as given and returns the chain's body unchanged,
 * whatever its status: a servicer relays answers, it does not judge them.
 */
export async function forwardToUpstream(
  upstreamUrl: string,
  payload: RelayPayload,
  signal?: AbortSignal,
): Promise<string> {
  const method = payload.method === "" ? "POST" : payload.method.toUpperCase();
  const headers = new Headers(payload.headers ?? {});
  headers.set("content-type", "application/json");
  const hasBody = method !== "GET" && method !== "HEAD";
  try {
    const response = await fetch(upstreamTarget(upstreamUrl, payload.path), {
      method,
      headers,
      body: hasBody ? payload.data : undefined,
      signal,
    });
    return await response.text();
  } catch (cause) {
    throw new UpstreamError(`chain at ${upstreamUrl} did not answer`, { cause });
  }
}

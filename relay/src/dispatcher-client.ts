import type { DispatchResponse, SessionHeader } from "@viper/shared/protocol";
import { dispatchResponseSchema } from "@viper/shared/protocol";
import { z } from "zod";

/** No dispatcher gave a usable answer; `cause` holds the last failure. */
export class DispatcherError extends Error {
  override name = "DispatcherError";
}

const heightSchema = z.object({ height: z.number().int().nonnegative() });

export interface DispatcherClientOptions {
  /** Base URLs of Viper nodes that answer dispatch and height queries. */
  urls: readonly string[];
  timeoutMs: number;
}

/**
 * Talks to the Viper nodes the portal uses as dispatchers. Each call tries the nodes in turn,
 * starting after the last one that failed, so a dead node costs one timeout, not one per call.
 */
export class DispatcherClient {
  readonly #urls: readonly string[];
  readonly #timeoutMs: number;
  #preferred = 0;

  constructor(options: DispatcherClientOptions) {
    if (options.urls.length === 0) {
      throw new DispatcherError("at least one dispatch URL is needed");
    }
    this.#urls = options.urls;
    this.#timeoutMs = options.timeoutMs;
  }

  /** The current session for a requestor, chain and zone. */
  dispatch(header: SessionHeader): Promise<DispatchResponse> {
    return this.#call("/v1/client/dispatch", header, (body) => dispatchResponseSchema.parse(body));
  }

  /** The Viper chain height. */
  async height(): Promise<number> {
    return this.#call("/v1/query/height", {}, (body) => heightSchema.parse(body).height);
  }

  async #call<T>(path: string, body: unknown, read: (body: unknown) => T): Promise<T> {
    let lastError: unknown = null;
    for (let attempt = 0; attempt < this.#urls.length; attempt += 1) {
      const index = (this.#preferred + attempt) % this.#urls.length;
      try {
        const result = read(await this.#post(`${this.#urls[index]}${path}`, body));
        this.#preferred = index;
        return result;
      } catch (error) {
        lastError = error;
      }
    }
    throw new DispatcherError(`no dispatcher answered ${path}`, { cause: lastError });
  }

  async #post(url: string, body: unknown): Promise<unknown> {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    if (!response.ok) {
      throw new DispatcherError(`dispatcher answered HTTP ${response.status}`);
    }
    return response.json();
  }
}

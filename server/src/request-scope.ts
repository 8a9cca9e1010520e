import { AsyncLocalStorage } from "node:async_hooks";

interface RequestScope {
  requestId: string;
}

const scope = new AsyncLocalStorage<RequestScope>();

/**
 * Runs the handling of one request with its id at hand, so errors tRPC raises before a context
 * exists (a malformed batch, say) still carry the request id the response header names.
 */
export function runInRequestScope<T>(requestId: string, handle: () => T): T {
  return scope.run({ requestId }, handle);
}

/** The id of the request being handled, or null outside runInRequestScope. */
export function currentRequestId(): string | null {
  return scope.getStore()?.requestId ?? null;
}

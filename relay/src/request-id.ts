// A caller's id is kept when it is short and plain, so it can go into logs and headers as is.
const saneRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

const assigned = new WeakMap<Request, string>();

/**
 * The id of a request: the caller's `x-request-id` when it is sane, a fresh UUID otherwise. The
 * same Request always gets the same id, whichever hook asks first.
 */
export function requestIdOf(request: Request): string {
  const known = assigned.get(request);
  if (known) {
    return known;
  }
  const id = mintRequestId(request);
  assigned.set(request, id);
  return id;
}

/**
 * requestIdOf for the one handler that asks first and puts the id on its answer itself, so no
 * later hook asks: the id is not remembered (a WeakMap entry per request costs more than the
 * rest of this). A handler whose answer may go out without the id calls rememberRequestId.
 */
export function mintRequestId(request: Request): string {
  const given = request.headers.get("x-request-id");
  return given !== null && saneRequestId.test(given) ? given : crypto.randomUUID();
}

/** Makes requestIdOf give `id` for this request from now on. */
export function rememberRequestId(request: Request, id: string): void {
  assigned.set(request, id);
}

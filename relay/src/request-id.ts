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
  const given = request.headers.get("x-request-id");
  const id = given !== null && saneRequestId.test(given) ? given : crypto.randomUUID();
  assigned.set(request, id);
  return id;
}

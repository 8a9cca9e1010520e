/**
 * Settles as `work` does, or rejects with `timedOut()` once `ms` have passed without an answer.
 * The timer is cleared either way; a late failure of `work` is dropped instead of surfacing as an
 * unhandled rejection (which would end a Bun process). The work itself is not cancelled.
 */
export function withTimeLimit<T>(work: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut()), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

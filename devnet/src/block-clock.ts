/**
 * The one block height every devnet node shares. It advances on a timer like a real chain, and
 * tests that need control pass a long block time and call `advance()` themselves.
 */
export class BlockClock {
  #height: number;
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(startHeight = 1) {
    this.#height = startHeight;
  }

  get height(): number {
    return this.#height;
  }

  /** Moves the chain forward by `blocks` (default 1). */
  advance(blocks = 1): void {
    if (!Number.isSafeInteger(blocks) || blocks < 0) {
      throw new RangeError(`blocks must be a non-negative integer, got ${blocks}`);
    }
    this.#height += blocks;
  }

  /** Starts producing one block every `blockTimeMs`; the timer never keeps the process alive. */
  start(blockTimeMs: number): void {
    this.stop();
    this.#timer = setInterval(() => this.advance(), blockTimeMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }
}

/** One request's deadline; `expire` is dropped once the work settled, so nothing holds on to it. */
interface Pending {
  readonly deadline: number;
  expire: (() => void) | null;
  /** Set for a deadline out of order, which has a timer of its own. */
  timer?: ReturnType<typeof setTimeout>;
}

function settle(entry: Pending): void {
  entry.expire = null;
  if (entry.timer !== undefined) {
    clearTimeout(entry.timer);
  }
}

/** A timer of the entry's own, for a deadline out of order; a timer early by a tick waits on. */
function timeAlone(entry: Pending): void {
  entry.timer = setTimeout(
    () => {
      if (Date.now() < entry.deadline) {
        timeAlone(entry);
      } else {
        entry.expire?.();
      }
    },
    Math.max(0, entry.deadline - Date.now()),
  );
}

// Dropped entries are cut off the front of the list in batches, not one shift at a time.
const COMPACT_AFTER = 1_024;

/**
 * Races work against deadlines with one timer for many requests. Every request of a relay gets
 * the same time limit, so deadlines arrive in order: the timer waits for the earliest pending
 * one, and work that settles only marks its entry, instead of setting and clearing a timer of
 * its own (with a Promise.race) on every request. A deadline earlier than one already queued
 * (another time limit, the clock set back) gets a timer of its own.
 */
export class DeadlineQueue {
  readonly #pending: Pending[] = [];
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Settles as `work` does, or rejects with `expired()` at `deadline` (epoch ms) if the work has
   * not settled by then; the late work's outcome is dropped.
   */
  race<T>(work: Promise<T>, deadline: number, expired: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { deadline, expire: () => reject(expired()) };
      work.then(
        (value) => {
          settle(entry);
          resolve(value);
        },
        (error: unknown) => {
          settle(entry);
          reject(error);
        },
      );
      this.#add(entry);
    });
  }

  /** Entries not yet dropped (for tests: settled work must not pile up). */
  get size(): number {
    return this.#pending.length - this.#head;
  }

  #add(entry: Pending): void {
    this.#dropSettled();
    const last = this.#pending[this.#pending.length - 1];
    if (last !== undefined && entry.deadline < last.deadline) {
      timeAlone(entry);
      return;
    }
    this.#pending.push(entry);
    if (this.#timer === undefined) {
      this.#arm();
    }
  }

  #arm(): void {
    const first = this.#pending[this.#head];
    if (first === undefined) {
      this.#timer = undefined;
      return;
    }
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, first.deadline - Date.now()));
    // A pending request keeps the server busy anyway; the timer alone must not keep a process.
    this.#timer.unref?.();
  }

  #fire(): void {
    const now = Date.now();
    for (;;) {
      const first = this.#pending[this.#head];
      if (first === undefined || (first.expire !== null && first.deadline > now)) {
        break;
      }
      this.#head += 1;
      const expire = first.expire;
      first.expire = null;
      expire?.();
    }
    this.#compact();
    this.#arm();
  }

  #dropSettled(): void {
    for (;;) {
      const first = this.#pending[this.#head];
      if (first === undefined || first.expire !== null) {
        break;
      }
      this.#head += 1;
    }
    this.#compact();
  }

  #compact(): void {
    if (this.#head === this.#pending.length) {
      this.#pending.length = 0;
      this.#head = 0;
    } else if (this.#head >= COMPACT_AFTER) {
      this.#pending.splice(0, this.#head);
      this.#head = 0;
    }
  }
}

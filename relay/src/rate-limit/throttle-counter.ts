/** How many calls of one method one key had refused since the last drain. */
export interface ThrottleCount {
  apiKeyId: string;
  method: string;
  count: number;
}

/** Where calls go once the counter is full: method names come from dApps and are unbounded. */
export const overflowMethod = "(other)";

/**
 * Counts refused calls per key and method in memory, for metrics and usage pages. The relay
 * drains it on a timer (or at shutdown) and writes or exports the counts; nothing is persisted
 * here, so counts since the last drain are lost if the process dies.
 */
export class ThrottleCounter {
  private counts = new Map<string, ThrottleCount>();
  private readonly maxEntries: number;

  /** maxEntries bounds memory: past it, new key/method pairs are counted under "(other)". */
  constructor(maxEntries = 10_000) {
    this.maxEntries = maxEntries;
  }

  /** Counts one refused request: one per call, so a refused batch of ten counts ten. */
  count(apiKeyId: string, methods: string[]): void {
    for (const method of methods) {
      this.add(apiKeyId, method);
    }
  }

  /** The counts since the last drain, without resetting them. */
  snapshot(): ThrottleCount[] {
    return [...this.counts.values()].map((entry) => ({ ...entry }));
  }

  /** The counts since the last drain; the counter starts again from zero. */
  drain(): ThrottleCount[] {
    const drained = [...this.counts.values()];
    this.counts = new Map();
    return drained;
  }

  private add(apiKeyId: string, method: string): void {
    let name = `${apiKeyId}\n${method}`;
    let entry = this.counts.get(name);
    if (!entry && this.counts.size >= this.maxEntries) {
      method = overflowMethod;
      name = `${apiKeyId}\n${method}`;
      entry = this.counts.get(name);
    }
    if (entry) {
      entry.count += 1;
      return;
    }
    this.counts.set(name, { apiKeyId, method, count: 1 });
  }
}

import { describe, expect, test } from "bun:test";
import { DeadlineQueue } from "../src/deadlines.ts";

class Expired extends Error {}

const expired = () => new Expired("deadline passed");
const never = new Promise<never>(() => undefined);

async function outcomeOf<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

describe("deadline queue", () => {
  test("work done in time gives its own result or error", async () => {
    const queue = new DeadlineQueue();
    const deadline = Date.now() + 60_000;

    const value = await queue.race(Promise.resolve(42), deadline, expired);
    const failed = await outcomeOf(
      queue.race(Promise.reject(new Error("boom")), deadline, expired),
    );

    expect(value).toBe(42);
    expect(failed.error).toBeInstanceOf(Error);
    expect((failed.error as Error).message).toBe("boom");
  });

  test("work still running at its deadline is refused then, not before", async () => {
    const queue = new DeadlineQueue();
    const deadline = Date.now() + 40;
    let finishLate: (value: string) => void = () => undefined;
    const late = new Promise<string>((resolve) => {
      finishLate = resolve;
    });

    const outcome = await outcomeOf(queue.race(late, deadline, expired));
    finishLate("too late");

    expect(outcome.error).toBeInstanceOf(Expired);
    expect(Date.now()).toBeGreaterThanOrEqual(deadline);
  });

  test("each of several pending requests expires at its own deadline, in or out of order", async () => {
    const queue = new DeadlineQueue();
    const start = Date.now();
    const deadlines = [start + 30, start + 60, start + 20, start + 90];

    const outcomes = await Promise.all(
      deadlines.map(async (deadline) => {
        const outcome = await outcomeOf(queue.race(never, deadline, expired));
        return { outcome, at: Date.now(), deadline };
      }),
    );

    for (const { outcome, at, deadline } of outcomes) {
      expect(outcome.error).toBeInstanceOf(Expired);
      expect(at).toBeGreaterThanOrEqual(deadline);
    }
    expect(queue.size).toBe(0);
  });

  test("finished requests do not pile up behind a far deadline", async () => {
    const queue = new DeadlineQueue();
    const deadline = Date.now() + 60_000;

    for (let index = 0; index < 3_000; index++) {
      await queue.race(Promise.resolve(index), deadline, expired);
    }

    expect(queue.size).toBeLessThanOrEqual(1);
  });

  test("a request stuck behind others still expires, and those after it are unaffected", async () => {
    const queue = new DeadlineQueue();
    const stuck = outcomeOf(queue.race(never, Date.now() + 30, expired));

    const quick = await queue.race(Promise.resolve("quick"), Date.now() + 60_000, expired);

    expect(quick).toBe("quick");
    expect((await stuck).error).toBeInstanceOf(Expired);
  });
});

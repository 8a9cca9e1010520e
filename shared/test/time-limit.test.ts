import { describe, expect, test } from "bun:test";
import { checkState } from "../src/readiness-check.ts";
import { withTimeLimit } from "../src/time-limit.ts";

describe("withTimeLimit", () => {
  test("gives the work's answer when it comes in time", async () => {
    const answer = await withTimeLimit(Promise.resolve(7), 1_000, () => new Error("late"));

    expect(answer).toBe(7);
  });

  test("refuses with the caller's error when the work is late, and drops its later failure", async () => {
    const work = Bun.sleep(50).then(() => Promise.reject(new Error("failed after the limit")));

    const outcome = await withTimeLimit(work, 5, () => new Error("late")).catch((e: Error) => e);
    await Bun.sleep(80);

    expect(outcome).toMatchObject({ message: "late" });
  });
});

describe("checkState", () => {
  test("is ok for an answer, unavailable for false, a failure or no answer in time", async () => {
    const states = await Promise.all([
      checkState(async () => "PONG", 100),
      checkState(async () => false, 100),
      checkState(() => Promise.reject(new Error("down")), 100),
      checkState(() => Bun.sleep(1_000), 20),
    ]);

    expect(states).toEqual(["ok", "unavailable", "unavailable", "unavailable"]);
  });
});

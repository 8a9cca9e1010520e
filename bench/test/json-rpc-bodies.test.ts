import { describe, expect, test } from "bun:test";
import { answerProblem, FIXED_RESULT, fixedAnswer, requestBody } from "../src/json-rpc-bodies.ts";

describe("the fixed upstream's answers", () => {
  test("pass the check for a single call and for batches", () => {
    for (const batch of [1, 10, 100]) {
      expect(answerProblem(200, fixedAnswer(requestBody(batch)), batch)).toBeNull();
    }
  });

  test("echo each call's id with the fixed result", () => {
    const answer = JSON.parse(fixedAnswer('[{"jsonrpc":"2.0","id":"a","method":"x"}]'));

    expect(answer).toEqual([{ jsonrpc: "2.0", id: "a", result: FIXED_RESULT }]);
  });

  test("are a JSON-RPC parse error for a body that is not JSON", () => {
    expect(JSON.parse(fixedAnswer("{nope")).error.code).toBe(-32700);
  });
});

describe("the answer check", () => {
  test("accepts a batch answered in another order", () => {
    const reversed = JSON.stringify(JSON.parse(fixedAnswer(requestBody(10))).reverse());

    expect(answerProblem(200, reversed, 10)).toBeNull();
  });

  test("flags a JSON-RPC error answer even with HTTP 200", () => {
    const error = JSON.stringify({ jsonrpc: "2.0", id: 1, error: { code: -32020, message: "x" } });

    expect(answerProblem(200, error, 1)).toContain("unexpected answer");
  });

  test("flags a bad status, a non-JSON body, a short batch and a wrong id", () => {
    const batch = JSON.parse(fixedAnswer(requestBody(10)));

    expect(answerProblem(502, fixedAnswer(requestBody(1)), 1)).toContain("HTTP 502");
    expect(answerProblem(200, "<html>", 1)).toContain("not JSON");
    expect(answerProblem(200, JSON.stringify(batch.slice(1)), 10)).toContain("array of 10");
    batch[3].id = 99;
    expect(answerProblem(200, JSON.stringify(batch), 10)).toContain("id 4");
  });
});

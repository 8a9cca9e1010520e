import { describe, expect, test } from "bun:test";
import { MAX_REQUEST_DEPTH } from "../src/json-rpc.ts";
import { CHAIN_SLUG, post, useHarness } from "./harness.ts";

const unknownKeyPath = `/v1/${CHAIN_SLUG}/vpr_live_x`;
const harness = useHarness({}, 60_000);

/** A request whose id is written as the given JSON text, which JSON.stringify could not keep. */
function requestWithId(idText: string, method = "eth_chainId"): string {
  return `{"jsonrpc":"2.0","id":${idText},"method":"${method}","params":[]}`;
}

/** `levels` arrays nested inside one another: `[[[]]]` for 3. */
function nested(levels: number): string {
  return `${"[".repeat(levels)}${"]".repeat(levels)}`;
}

describe("large integer ids in the portal's own errors", () => {
  for (const idText of ["9007199254740993", "12345678901234567890", "-9007199254740993"]) {
    test(`id ${idText} is echoed digit for digit in an error`, async () => {
      const answer = await post(harness.app, unknownKeyPath, requestWithId(idText));

      expect(answer.status).toBe(401);
      expect(answer.text).toContain(`"id":${idText},`);
      expect(answer.text).toContain('"code":-32001');
    });
  }

  test("each request of a refused batch keeps its exact id", async () => {
    const body = `[${requestWithId("9007199254740993")},${requestWithId("9007199254740992")}]`;

    const answer = await post(harness.app, unknownKeyPath, body);

    const ids = [...answer.text.matchAll(/"id":(-?\d+)/g)].map((match) => match[1]);
    expect(ids).toEqual(["9007199254740993", "9007199254740992"]);
  });

  test("a batch merged with the portal's refusals keeps each answer in its place", async () => {
    const body = `[${requestWithId("9007199254740993")},{"id":7},${requestWithId("9007199254740992", "eth_blockNumber")}]`;

    const answer = await post(harness.app, harness.rpcPath, body);
    const ids = [...answer.text.matchAll(/"id":(-?\d+)/g)].map((match) => match[1]);

    expect(answer.status).toBe(200);
    expect(ids).toEqual(["9007199254740993", "7", "9007199254740992"]);
    const parsed = JSON.parse(answer.text) as { result?: string; error?: { code: number } }[];
    expect(parsed.map((item) => item.result !== undefined)).toEqual([true, false, true]);
    expect(parsed[1]?.error?.code).toBe(-32600);
  });
});

describe("requests a node refuses are refused by the portal, before relaying", () => {
  const refused: [name: string, body: string, idText: string][] = [
    ["a fractional id", requestWithId("1.5"), "1.5"],
    ["an id past the largest double", requestWithId("1e400"), "1e400"],
    ["an id with an exponent", requestWithId("1e2"), "1e2"],
    ["a string id with a lone surrogate", requestWithId('"\\ud800"'), '"\\ud800"'],
    [
      "an id given twice",
      '{"jsonrpc":"2.0","id":1,"id":2,"method":"eth_chainId","params":[]}',
      "null",
    ],
    [
      "a method given twice",
      '{"jsonrpc":"2.0","id":4,"method":"eth_chainId","method":"eth_blockNumber"}',
      "4",
    ],
    [
      "params nested 5,000 deep",
      `{"jsonrpc":"2.0","id":5,"method":"eth_chainId","params":${nested(5_000)}}`,
      "5",
    ],
  ];
  for (const [name, body, idText] of refused) {
    test(`${name}: -32600 with the id as sent`, async () => {
      const answer = await post(harness.app, harness.rpcPath, body, {
        "x-request-id": "refused-id",
      });

      expect(answer.status).toBe(400);
      expect(answer.text).toContain(`"id":${idText},`);
      expect(JSON.parse(answer.text)).toMatchObject({
        error: { code: -32600, data: { requestId: "refused-id" } },
      });
    });
  }

  test("nesting up to the limit goes to the chain, which answers for itself", async () => {
    // The request object is one level, so params may add MAX_REQUEST_DEPTH - 1 more.
    const body = `{"jsonrpc":"2.0","id":6,"method":"eth_chainId","params":${nested(MAX_REQUEST_DEPTH - 1)}}`;

    const answer = await post(harness.app, harness.rpcPath, body);

    expect(answer.status).toBe(200);
    expect(answer.text).not.toContain("requestId");
  });

  test("in a batch only the bad item is refused; the others are relayed", async () => {
    const body = `[${requestWithId("1")},${requestWithId("2.5")},${requestWithId('"three"')}]`;

    const answer = await post(harness.app, harness.rpcPath, body);
    const parsed = JSON.parse(answer.text) as { id: unknown; result?: string; error?: object }[];

    expect(answer.status).toBe(200);
    expect(parsed.map((item) => item.id)).toEqual([1, 2.5, "three"]);
    expect(parsed.map((item) => item.result)).toEqual([
      `0x${harness.anvil.chainId.toString(16)}`,
      undefined,
      `0x${harness.anvil.chainId.toString(16)}`,
    ]);
    expect(parsed[1]?.error).toMatchObject({ code: -32600 });
  });

  test("integer ids, strings, null and escaped member names are still relayed", async () => {
    const bodies = [
      requestWithId("-42"),
      requestWithId('"an id"'),
      requestWithId("null"),
      '{"jsonrpc":"2.0","\\u0069d":8,"method":"eth_chainId"}',
    ];

    const answers = await Promise.all(
      bodies.map((body) => post(harness.app, harness.rpcPath, body)),
    );

    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    for (const answer of answers) {
      expect(JSON.parse(answer.text)).toHaveProperty("result");
    }
  });
});

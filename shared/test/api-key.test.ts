import { describe, expect, test } from "bun:test";
import { generateApiKey, hashApiKey, isWellFormedApiKey, sameKeyHash } from "../src/api-key.ts";

describe("API keys", () => {
  test("a new key carries its prefix, is well formed and hashes to what is stored", () => {
    const generated = generateApiKey();

    expect(generated.key.startsWith("vpr_live_")).toBe(true);
    expect(isWellFormedApiKey(generated.key)).toBe(true);
    expect(generated.hash).toBe(hashApiKey(generated.key));
    expect(generated.lastFour).toBe(generated.key.slice(-4));
  });

  test("two keys never repeat", () => {
    const keys = new Set(Array.from({ length: 1000 }, () => generateApiKey().key));

    expect(keys.size).toBe(1000);
  });

  test("a key with one character changed fails its checksum", () => {
    const { key } = generateApiKey();
    const position = 20;
    const swapped = key[position] === "a" ? "b" : "a";
    const typo = key.slice(0, position) + swapped + key.slice(position + 1);

    expect(isWellFormedApiKey(typo)).toBe(false);
    expect(isWellFormedApiKey("vpr_live_short")).toBe(false);
    expect(isWellFormedApiKey("")).toBe(false);
  });

  test("hash comparison matches equal hashes only", () => {
    const a = generateApiKey();
    const b = generateApiKey();

    expect(sameKeyHash(a.hash, hashApiKey(a.key))).toBe(true);
    expect(sameKeyHash(a.hash, b.hash)).toBe(false);
  });
});

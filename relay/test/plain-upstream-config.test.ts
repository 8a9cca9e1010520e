import { describe, expect, test } from "bun:test";
import { ConfigError } from "@viper/shared/config";
import { generateKeyPair } from "@viper/shared/protocol";
import { loadRelayConfig, plainUpstreamsOf } from "../src/config.ts";

const base = {
  VIPER_DISPATCH_URLS: "http://127.0.0.1:8081",
  VIPER_REQUESTOR_PRIVATE_KEY: generateKeyPair().privateKeyHex,
};

function problemsOf(value: string): string[] {
  try {
    loadRelayConfig({ ...base, RELAY_PLAIN_UPSTREAMS: value });
  } catch (error) {
    if (error instanceof ConfigError) {
      return error.problems;
    }
    throw error;
  }
  throw new Error("the configuration was accepted");
}

describe("RELAY_PLAIN_UPSTREAMS", () => {
  test("absent, there are no plain upstreams", () => {
    expect(plainUpstreamsOf(loadRelayConfig(base))).toEqual({});
  });

  test("a JSON object maps chain ids to their endpoints, in the order given", () => {
    const config = loadRelayConfig({
      ...base,
      RELAY_PLAIN_UPSTREAMS: '{"0b01":["http://127.0.0.1:8081","https://rpc.example/v3/abc"]}',
    });

    expect(plainUpstreamsOf(config)).toEqual({
      "0b01": ["http://127.0.0.1:8081", "https://rpc.example/v3/abc"],
    });
  });

  test("text that is not JSON is refused by name", () => {
    expect(problemsOf("0b01=http://a").join("\n")).toContain("RELAY_PLAIN_UPSTREAMS");
  });

  test("a chain id that is not short hex, an empty list or a non-http URL is refused", () => {
    expect(problemsOf('{"eth":["http://a.example"]}').length).toBeGreaterThan(0);
    expect(problemsOf('{"0b01":[]}').length).toBeGreaterThan(0);
    expect(problemsOf('{"0b01":["ftp://a.example"]}').length).toBeGreaterThan(0);
  });

  test("the refusal of a bad URL does not repeat it, since URLs may hold a provider's key", () => {
    const problems = problemsOf('{"0b01":["not a url with secret-token-123"]}');

    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join("\n")).not.toContain("secret-token-123");
  });
});

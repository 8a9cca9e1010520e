import { describe, expect, test } from "bun:test";
import { ConfigError } from "@viper/shared/config";
import { generateKeyPair } from "@viper/shared/protocol";
import { loadRelayConfig } from "../src/config.ts";

const requestorKey = generateKeyPair().privateKeyHex;

describe("relay configuration", () => {
  test("defaults apply when only the Viper settings are given", () => {
    const config = loadRelayConfig({
      VIPER_DISPATCH_URLS: "http://127.0.0.1:8081",
      VIPER_REQUESTOR_PRIVATE_KEY: requestorKey,
    });

    expect(config).toMatchObject({
      RELAY_HOST: "127.0.0.1",
      RELAY_PORT: 8545,
      RELAY_MAX_BODY_BYTES: 1024 * 1024,
      RELAY_DEADLINE_MS: 10_000,
      SERVICER_TIMEOUT_MS: 2_500,
      VIPER_NUM_SERVICERS: 5,
      VIPER_BLOCKS_PER_SESSION: 4,
      VIPER_DEFAULT_ZONE: "0001",
    });
    expect(config.VIPER_CLIENT_PRIVATE_KEY).toBeUndefined();
  });

  test("dispatch URLs are a comma-separated list, trimmed and without trailing slashes", () => {
    const config = loadRelayConfig({
      VIPER_DISPATCH_URLS: " http://a.example:1/ , http://b.example:2 ,",
      VIPER_REQUESTOR_PRIVATE_KEY: requestorKey,
      VIPER_CLIENT_PRIVATE_KEY: "",
    });

    expect(config.VIPER_DISPATCH_URLS).toEqual(["http://a.example:1", "http://b.example:2"]);
    expect(config.VIPER_CLIENT_PRIVATE_KEY).toBeUndefined();
  });

  test("missing or malformed Viper settings are all named in one error", () => {
    const load = () =>
      loadRelayConfig({
        VIPER_DISPATCH_URLS: "ftp://nope",
        VIPER_REQUESTOR_PRIVATE_KEY: "xyz",
        VIPER_DEFAULT_ZONE: "zone-1",
      });

    expect(load).toThrow(ConfigError);
    try {
      load();
    } catch (error) {
      const message = (error as ConfigError).message;
      expect(message).toContain("VIPER_DISPATCH_URLS");
      expect(message).toContain("VIPER_REQUESTOR_PRIVATE_KEY");
      expect(message).toContain("VIPER_DEFAULT_ZONE");
    }
  });

  test("a malformed private key is named without printing it", () => {
    const secretLooking = `${requestorKey.slice(0, 60)}zz`;

    let message = "";
    try {
      loadRelayConfig({
        VIPER_DISPATCH_URLS: "http://127.0.0.1:8081",
        VIPER_REQUESTOR_PRIVATE_KEY: secretLooking,
      });
    } catch (error) {
      message = (error as Error).message;
    }

    expect(message).toContain("VIPER_REQUESTOR_PRIVATE_KEY");
    expect(message).not.toContain(secretLooking);
  });
});

import { describe, expect, test } from "bun:test";
import { ConfigError } from "@viper/shared/config";
import { generateKeyPair } from "@viper/shared/protocol";
import { loadRelayConfig, rateLimitConfigOf } from "../src/config.ts";

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

  test("rate limits come from RATE_LIMITS, with the Redis switch on top", () => {
    const viper = {
      VIPER_DISPATCH_URLS: "http://127.0.0.1:8081",
      VIPER_REQUESTOR_PRIVATE_KEY: requestorKey,
    };
    const tiers = { pro: { project: { perSecond: 300 }, key: { perSecond: 100, burst: 150 } } };

    const defaults = rateLimitConfigOf(loadRelayConfig(viper));
    const configured = rateLimitConfigOf(
      loadRelayConfig({
        ...viper,
        RATE_LIMITS: JSON.stringify({ defaultTier: "pro", tiers, onRedisDown: "degrade" }),
        RATE_LIMIT_ON_REDIS_DOWN: "refuse",
      }),
    );

    expect(defaults).toMatchObject({ defaultTier: "free", onRedisDown: "degrade" });
    expect(Object.keys(defaults.tiers)).toEqual(["free", "growth", "scale"]);
    expect(configured).toMatchObject({
      defaultTier: "pro",
      tiers: { pro: { key: { perSecond: 100, burst: 150 }, methods: {} } },
      burstSeconds: 2,
      onRedisDown: "refuse",
    });
  });

  test("a RATE_LIMITS that is not JSON, or names no such default tier, is refused at start", () => {
    const viper = {
      VIPER_DISPATCH_URLS: "http://127.0.0.1:8081",
      VIPER_REQUESTOR_PRIVATE_KEY: requestorKey,
    };
    const messageOf = (env: Record<string, string>) => {
      try {
        loadRelayConfig({ ...viper, ...env });
        return "";
      } catch (error) {
        return (error as ConfigError).message;
      }
    };

    const notJson = messageOf({ RATE_LIMITS: "{tiers:" });
    const noTier = messageOf({ RATE_LIMITS: JSON.stringify({ defaultTier: "gold" }) });
    const badSwitch = messageOf({ RATE_LIMIT_ON_REDIS_DOWN: "ignore" });

    expect(notJson).toContain("RATE_LIMITS: must be a JSON object");
    expect(noTier).toContain(
      "RATE_LIMITS: defaultTier: defaultTier must name one of the configured tiers",
    );
    expect(badSwitch).toContain("RATE_LIMIT_ON_REDIS_DOWN");
  });
});

import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { baseConfigShape, ConfigError, loadConfig, port } from "../src/config.ts";

const schema = z.object({ ...baseConfigShape, RELAY_PORT: port(8545) });

describe("configuration", () => {
  test("defaults apply when nothing is set", () => {
    const config = loadConfig(schema, {});

    expect(config.RELAY_PORT).toBe(8545);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
  });

  test("every bad field is named in one error", () => {
    const load = () =>
      loadConfig(schema, { RELAY_PORT: "eighty", DATABASE_URL: "mysql://x", LOG_LEVEL: "loud" });

    expect(load).toThrow(ConfigError);
    try {
      load();
    } catch (error) {
      const message = (error as ConfigError).message;
      expect(message).toContain("RELAY_PORT");
      expect(message).toContain("DATABASE_URL");
      expect(message).toContain("LOG_LEVEL");
      expect((error as ConfigError).problems).toHaveLength(3);
    }
  });

  test("an empty env var counts as unset", () => {
    expect(loadConfig(schema, { REDIS_URL: "" }).REDIS_URL).toBeUndefined();
  });
});

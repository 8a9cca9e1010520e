import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createProjectWithKey, upsertChains } from "@viper/db/seed";
import { createTestDatabase, type TestDatabase } from "@viper/db/testing";
import { loadKeyRecord } from "@viper/relay/key-record";
import { hashApiKey, isWellFormedApiKey } from "@viper/shared/api-key";
import { benchChains, benchKeyRules } from "../src/bench-database.ts";
import { benchKey, insertBenchKeys, loadKeyIndexes } from "../src/bench-keys.ts";

let database: TestDatabase;
let projectId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  await upsertChains(database.db, [benchChains.viper, benchChains.plain]);
  const seeded = await createProjectWithKey(database.db, {
    email: "bench-keys@example.com",
    projectName: "bench keys",
    chainIds: [benchChains.viper.id],
    rules: benchKeyRules,
  });
  projectId = seeded.projectId;
  await database.db.execute(insertBenchKeys(projectId, benchKeyRules, 1, 200));
});

afterAll(async () => {
  await database.close();
});

describe("bulk bench keys", () => {
  test("every key the bench rebuilds has the real key format and a valid checksum", () => {
    for (const index of [1, 2, 137, 999_999]) {
      expect(isWellFormedApiKey(benchKey(index))).toBe(true);
    }
  });

  test("the relay finds a key inserted in bulk by the key the bench rebuilds", async () => {
    for (const index of [1, 77, 200]) {
      const record = await loadKeyRecord(database.db, hashApiKey(benchKey(index)));

      expect(record?.projectId).toBe(projectId);
      expect(record?.lastFour).toBe(benchKey(index).slice(-4));
      expect(record?.rules).toEqual(benchKeyRules);
    }
  });

  test("a key past the inserted range is unknown", async () => {
    expect(await loadKeyRecord(database.db, hashApiKey(benchKey(201)))).toBeNull();
  });
});

describe("the keys the load uses", () => {
  test("are spread over the whole range without repeats", () => {
    const indexes = loadKeyIndexes(999_999, 1_000);

    expect(indexes).toHaveLength(1_000);
    expect(new Set(indexes).size).toBe(1_000);
    expect(indexes[0]).toBe(1);
    expect(Math.max(...indexes)).toBeGreaterThan(998_000);
    expect(Math.max(...indexes)).toBeLessThanOrEqual(999_999);
  });

  test("are all the keys there are when there are fewer than wanted", () => {
    expect(loadKeyIndexes(5, 1_000)).toEqual([1, 2, 3, 4, 5]);
  });
});

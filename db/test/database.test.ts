import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { schema } from "../src/client.ts";
import { createTestDatabase, type TestDatabase, testDriver } from "../src/testing.ts";

describe(`database on ${testDriver}`, () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database.close();
  });

  test("migrations create a schema that stores a user with a project and a key", async () => {
    const [user] = await database.db
      .insert(schema.users)
      .values({ email: "dev@example.com" })
      .returning();
    expect(user?.role).toBe("user");
    const ownerId = user?.id ?? "";

    const [project] = await database.db
      .insert(schema.projects)
      .values({ name: "demo", ownerId })
      .returning();
    await database.db.insert(schema.apiKeys).values({
      projectId: project?.id ?? "",
      name: "default",
      keyHash: "ab".repeat(32),
      displayPrefix: "vpr_live_",
      lastFour: "abcd",
      rules: { allowedMethods: ["eth_blockNumber"] },
    });

    const keys = await database.db
      .select()
      .from(schema.apiKeys)
      .where(eq(schema.apiKeys.keyHash, "ab".repeat(32)));
    expect(keys).toHaveLength(1);
    expect(keys[0]?.rules).toEqual({ allowedMethods: ["eth_blockNumber"] });
  });

  test("one account per email is enforced by the database", async () => {
    await database.db.insert(schema.users).values({ email: "twice@example.com" });

    const again = database.db
      .insert(schema.users)
      .values({ email: "twice@example.com" })
      .then(() => "inserted");

    await expect(again).rejects.toThrow();
  });

  test("ping reports a reachable database", async () => {
    expect(await database.ping()).toBe(true);
  });
});

import { describe, expect, test } from "bun:test";
import { createTestDatabase } from "@viper/db/testing";
import { RedisStore } from "@viper/shared/store";
import { startTestServer, testDriver, testStoreKind } from "./helpers/harness.ts";
import { rawRequest } from "./helpers/raw-http.ts";

/** A port nothing listens on: bound for a moment by the OS, then let go. */
function closedPort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

describe(`the server's /ready on ${testDriver} + ${testStoreKind}`, () => {
  test("/ready is 200 while the database and the store answer", async () => {
    const server = await startTestServer();
    try {
      const answer = await rawRequest(`${server.url}/ready`);

      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ status: "ready", checks: { database: "ok", store: "ok" } });
    } finally {
      await server.stop();
    }
  }, 60_000);

  test("/ready is 503 not_ready when the database no longer answers", async () => {
    const database = await createTestDatabase();
    const server = await startTestServer({}, { db: database.db });
    try {
      await database.close();

      const answer = await rawRequest(`${server.url}/ready`);

      expect(answer.status).toBe(503);
      expect(answer.body).toEqual({
        status: "not_ready",
        checks: { database: "unavailable", store: "ok" },
      });
    } finally {
      await server.stop();
    }
  }, 60_000);

  test("/ready is 200 degraded when only the store is out of reach", async () => {
    const store = new RedisStore({ url: `redis://127.0.0.1:${closedPort()}` });
    const server = await startTestServer({}, { store });
    try {
      const answer = await rawRequest(`${server.url}/ready`);

      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({
        status: "degraded",
        checks: { database: "ok", store: "unavailable" },
      });
    } finally {
      await server.stop();
      await store.close();
    }
  }, 60_000);
});

import { describe, expect, test } from "bun:test";
import { freePortUrl, secondRelayApp, storeDriver, useHarness } from "./harness.ts";

// The rate limiter shares buckets through Redis, or counts in this process on the memory store.
const limiterMode = storeDriver === "redis" ? "redis" : "memory";

const harness = useHarness();

async function get(app: { handle(request: Request): Promise<Response> }, path: string) {
  const response = await app.handle(new Request(`http://relay.test${path}`));
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("health and readiness", () => {
  test("/health answers while the process is up", async () => {
    const answer = await get(harness.app, "/health");

    expect(answer).toEqual({ status: 200, body: { status: "ok" } });
  });

  test("/ready is 200 when database, store and dispatcher are reachable", async () => {
    const answer = await get(harness.app, "/ready");

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      status: "ready",
      checks: { database: "ok", store: "ok", dispatcher: "ok", rateLimiter: limiterMode },
    });
  });

  test("/ready is 503 and names the dispatcher when no dispatcher answers", async () => {
    const app = secondRelayApp(harness, { dispatchUrls: [await freePortUrl()] });

    try {
      const answer = await get(app, "/ready");

      expect(answer.status).toBe(503);
      expect(answer.body).toEqual({
        status: "not_ready",
        checks: {
          database: "ok",
          store: "ok",
          dispatcher: "unavailable",
          rateLimiter: limiterMode,
        },
      });
    } finally {
      await app.decorator.relay.close();
    }
  });
});

describe("OpenAPI document", () => {
  test("/docs/json describes the RPC endpoint, /health and /ready with schemas", async () => {
    const { status, body } = await get(harness.app, "/docs/json");

    expect(status).toBe(200);
    expect(body.openapi).toBe("3.1.0");
    const paths = body.paths as Record<string, Record<string, Record<string, unknown>>>;
    const rpcOperation = paths["/v1/{chain}/{apiKey}"]?.post;
    expect(rpcOperation?.operationId).toBe("relayJsonRpc");
    expect(Object.keys(rpcOperation?.responses ?? {})).toEqual(
      expect.arrayContaining([
        "200",
        "204",
        "400",
        "401",
        "403",
        "404",
        "413",
        "415",
        "502",
        "504",
      ]),
    );
    expect(JSON.stringify(rpcOperation?.requestBody)).toContain(
      "#/components/schemas/JsonRpcRequest",
    );
    expect(paths["/health"]?.get).toBeDefined();
    expect(paths["/ready"]?.get).toBeDefined();
    const schemas = (body.components as { schemas: Record<string, unknown> }).schemas;
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining(["JsonRpcRequest", "JsonRpcResponse", "PortalError", "Readiness"]),
    );
  });
});

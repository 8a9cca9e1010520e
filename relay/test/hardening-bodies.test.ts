import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { relayLogs } from "@viper/db/schema/relay-logs";
import { generateKeyPair } from "@viper/shared/protocol";
import { eq } from "drizzle-orm";
import { loadRelayConfig } from "../src/config.ts";
import { type RunningRelay, startRelay } from "../src/main.ts";
import { CHAIN_SLUG, captureLogger, type Harness, startHarness } from "./harness.ts";

const MAX_BODY_BYTES = 64 * 1024;

let harness: Harness;
let relay: RunningRelay;
let relayLines: string[];
let rpcPath: string;

beforeAll(async () => {
  harness = await startHarness();
  const config = loadRelayConfig({
    RELAY_PORT: "0",
    RELAY_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    VIPER_DISPATCH_URLS: harness.devnet.dispatcherUrl,
    VIPER_REQUESTOR_PRIVATE_KEY: generateKeyPair().privateKeyHex,
  });
  const captured = captureLogger();
  relayLines = captured.lines;
  relay = await startRelay(config, {
    db: harness.testDb.db,
    store: harness.store,
    logger: captured.logger,
    heightPollMs: 100,
  });
  rpcPath = `/v1/${CHAIN_SLUG}/${harness.apiKey}`;
}, 60_000);

afterAll(async () => {
  await relay?.stop();
  await harness.close();
});

const chainIdCall = '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}';

/**
 * Writes raw bytes to the relay's port and collects what comes back until the relay closes the
 * connection, or until `settleMs` passes without news. `hangUp` closes our side right after
 * writing, as a client that gives up mid-upload does.
 */
function rawExchange(text: string, options: { hangUp?: boolean; settleMs?: number } = {}) {
  return new Promise<{ received: string; closedByServer: boolean }>((resolve, reject) => {
    const socket = connect(relay.port, "127.0.0.1");
    let received = "";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (closedByServer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ received, closedByServer });
    };
    const wait = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), options.settleMs ?? 1_000);
    };
    socket.on("error", reject);
    socket.on("data", (chunk) => {
      received += chunk.toString("latin1");
      wait();
    });
    socket.on("end", () => finish(true));
    socket.on("connect", () => {
      socket.write(text, "latin1");
      if (options.hangUp) {
        socket.destroy();
        resolve({ received, closedByServer: false });
        return;
      }
      wait();
    });
  });
}

async function postBytes(bytes: Uint8Array<ArrayBuffer>) {
  const response = await harness.app.handle(
    new Request(`http://relay.test/v1/${CHAIN_SLUG}/${harness.apiKey}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: bytes,
    }),
  );
  return { status: response.status, text: await response.text() };
}

describe("bodies over the limit get a JSON answer", () => {
  test("a 5 MiB body with its length declared gets -32010, not a bare 413", async () => {
    const body = `[${Array.from({ length: 5 * 1024 }, () => " ".repeat(1023)).join(",")}]`;

    const response = await fetch(`${relay.url}${rpcPath}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });

    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ id: null, error: { code: -32010 } });
  });

  test("a chunked upload past the limit gets -32010", async () => {
    const chunk = new TextEncoder().encode(" ".repeat(16 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 1;
        if (sent > 64) {
          controller.close();
          return;
        }
        controller.enqueue(chunk);
      },
    });

    const response = await fetch(`${relay.url}${rpcPath}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });

    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: -32010 } });
  });

  test("a declared length past the server's hard cap is Bun's bare 413 (documented limit)", async () => {
    const head = `POST ${rpcPath} HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: ${2 * 1024 ** 3}\r\n\r\n`;

    const { received } = await rawExchange(head);

    expect(received).toStartWith("HTTP/1.1 413");
    expect(received).not.toContain("-32010");
  });
});

describe("what Bun answers before the relay sees the request (documented limits)", () => {
  test("a 100 kB URL gets a bare 431", async () => {
    const response = await fetch(`${relay.url}${rpcPath}?pad=${"a".repeat(100_000)}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: chainIdCall,
    });

    expect(response.status).toBe(431);
    expect(await response.text()).toBe("");
  });

  test("an unknown HTTP method gets no answer, a known one gets route_not_found", async () => {
    const unknown = await rawExchange(`FOO ${rpcPath} HTTP/1.1\r\nHost: relay\r\n\r\n`);
    const patch = await fetch(`${relay.url}${rpcPath}`, { method: "PATCH" });

    expect(unknown).toEqual({ received: "", closedByServer: true });
    expect(patch.status).toBe(404);
    expect(await patch.json()).toMatchObject({ error: { code: -32012 } });
  });
});

describe("a client that hangs up mid-body", () => {
  test("is logged as client_closed with 499, not as a failure of the portal", async () => {
    const requestId = `hang-up-${crypto.randomUUID()}`;
    const head = `POST ${rpcPath} HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nX-Request-Id: ${requestId}\r\nContent-Length: 1000\r\n\r\n{"jsonrpc":`;
    const logs = relay.app.decorator.relay.relayLogs;
    const rowsOf = () =>
      harness.testDb.db.select().from(relayLogs).where(eq(relayLogs.requestId, requestId));

    await rawExchange(head, { hangUp: true });
    let rows = await rowsOf();
    for (let attempt = 0; rows.length === 0 && attempt < 50; attempt++) {
      await Bun.sleep(100);
      await logs.flush();
      rows = await rowsOf();
    }

    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: "client_closed", httpStatus: 499, errorCode: null });
    const lines = relayLines
      .map((line) => JSON.parse(line) as { level: number; msg: string; requestId?: string })
      .filter((line) => line.requestId === requestId);
    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      [30, "client closed the request"],
    ]);
  });
});

describe("body text must be UTF-8", () => {
  test("bytes that are not UTF-8 get -32700 instead of being replaced", async () => {
    const bytes = new TextEncoder().encode(
      '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":["XX"]}',
    );
    const at = bytes.indexOf("X".charCodeAt(0));
    bytes[at] = 0xff;
    bytes[at + 1] = 0xfe;

    const answer = await postBytes(bytes);

    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toMatchObject({ id: null, error: { code: -32700 } });
  });

  test("a leading byte order mark is accepted and dropped", async () => {
    const call = new TextEncoder().encode(chainIdCall);
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...call]);

    const answer = await postBytes(bytes);

    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({
      jsonrpc: "2.0",
      id: 1,
      result: `0x${harness.anvil.chainId.toString(16)}`,
    });
  });
});

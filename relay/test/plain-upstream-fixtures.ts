/**
 * A plain JSON-RPC endpoint for the plain upstream tests: a Bun.serve "node" on a free port that
 * answers with text of the test's choosing, written oddly (spaces, a number no float holds) so a
 * relay that re-encoded it would be caught, and that remembers every body it was sent.
 */
import { relayLogs } from "@viper/db/schema/relay-logs";
import { eq } from "drizzle-orm";
import type { Harness } from "./harness.ts";

export interface PlainNode {
  url: string;
  /** The bodies it received, in order. */
  bodies: string[];
  /** What it answers from now on: a status and a body text. */
  answerWith(status: number, text: string): void;
  stop(): Promise<void>;
}

/** The odd but valid JSON a plain node answers with by default. */
export function oddAnswer(tag: string): string {
  return `{ "jsonrpc":"2.0",  "id":1, "result" : "${tag}", "big": 123456789012345678901234567890 }`;
}

/** Starts a plain JSON-RPC node that answers `oddAnswer(tag)` with HTTP 200. */
export function startPlainNode(tag: string): PlainNode {
  const bodies: string[] = [];
  let status = 200;
  let text = oddAnswer(tag);
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      bodies.push(await request.text());
      return new Response(text, { status, headers: { "content-type": "application/json" } });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/rpc/secret-path-token`,
    bodies,
    answerWith(nextStatus, nextText) {
      status = nextStatus;
      text = nextText;
    },
    async stop() {
      await server.stop(true);
    },
  };
}

/** The `servicer` column of the relay log row of one request, after a flush. */
export async function servicerLogged(harness: Harness, requestId: string): Promise<string | null> {
  // A flush already under way may have started before this request's row was added.
  await harness.app.decorator.relay.relayLogs.flush();
  await harness.app.decorator.relay.relayLogs.flush();
  const rows = await harness.testDb.db
    .select({ servicer: relayLogs.servicer, status: relayLogs.status })
    .from(relayLogs)
    .where(eq(relayLogs.requestId, requestId));
  if (rows.length !== 1) {
    throw new Error(`expected one relay log row for ${requestId}, found ${rows.length}`);
  }
  return rows[0]?.servicer ?? null;
}

import type { Aat, DispatchResponse, KeyPair, ViperNode } from "@viper/shared/protocol";
import {
  encodeSignedRelay,
  relayErrorSchema,
  relayResponseSchema,
  signRelay,
  verifyResponse,
} from "@viper/shared/protocol";

/** How one attempt on one servicer ended. */
export type AttemptResult =
  | { kind: "ok"; response: string }
  | { kind: "new_session"; dispatch: DispatchResponse }
  | { kind: "failed"; reason: AttemptFailure; refusalCode?: number };

/** Why an attempt failed; logged, and every one of them sends the relay to another servicer. */
export type AttemptFailure =
  | "timeout"
  | "unreachable"
  | "http_error"
  | "refused"
  | "bad_answer"
  | "bad_signature";

/** What a relay to one servicer needs besides the servicer itself. */
export interface AttemptInput {
  data: string;
  chain: string;
  zone: string;
  dispatch: DispatchResponse;
  blockHeight: number;
  aat: Aat;
  client: KeyPair;
  timeoutMs: number;
}

function relayUrl(servicer: ViperNode): string {
  return `${servicer.service_url.replace(/\/+$/, "")}/v1/client/relay`;
}

/**
 * Sends one signed relay to one servicer and judges the answer: a success only when the
 * servicer signed exactly this answer to exactly this proof.
 */
export async function callServicer(
  servicer: ViperNode,
  input: AttemptInput,
): Promise<AttemptResult> {
  const header = input.dispatch.session.header;
  const signed = signRelay({
    payload: { data: input.data, method: "POST", path: "" },
    blockHeight: input.blockHeight,
    sessionBlockHeight: header.session_height,
    servicerPublicKeyHex: servicer.public_key,
    chain: input.chain,
    zone: input.zone,
    numServicers: header.num_servicers,
    aat: input.aat,
    client: input.client,
  });
  let status: number;
  let text: string;
  try {
    const response = await fetch(relayUrl(servicer), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: encodeSignedRelay(signed),
      signal: AbortSignal.timeout(input.timeoutMs),
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    return { kind: "failed", reason: timedOut ? "timeout" : "unreachable" };
  }
  if (status === 200) {
    return judgeAnswer(text, signed.proofHash, servicer);
  }
  if (status === 400) {
    return judgeRefusal(text);
  }
  return { kind: "failed", reason: "http_error" };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function judgeAnswer(text: string, proofHashHex: string, servicer: ViperNode): AttemptResult {
  const parsed = relayResponseSchema.safeParse(parseJson(text));
  if (!parsed.success) {
    return { kind: "failed", reason: "bad_answer" };
  }
  const { response, signature } = parsed.data;
  if (!verifyResponse(response, proofHashHex, signature, servicer.public_key)) {
    return { kind: "failed", reason: "bad_signature" };
  }
  return { kind: "ok", response };
}

function judgeRefusal(text: string): AttemptResult {
  const parsed = relayErrorSchema.safeParse(parseJson(text));
  if (!parsed.success) {
    return { kind: "failed", reason: "bad_answer" };
  }
  if (parsed.data.dispatch !== null) {
    return { kind: "new_session", dispatch: parsed.data.dispatch };
  }
  return { kind: "failed", reason: "refused", refusalCode: parsed.data.error.code };
}

import type { Logger } from "@viper/shared/logger";
import { assertScopeAllowed, assertUsableKey, methodAllowed } from "./access.ts";
import { ApiKeyHashes } from "./api-key-hashes.ts";
import { type ForwardPlan, mergeBatchAnswer, planForward } from "./batch-plan.ts";
import type { ChainInfo } from "./chain-directory.ts";
import { DeadlineQueue } from "./deadlines.ts";
import { type PortalErrorName, portalErrors, RelayError } from "./errors.ts";
import { type Exchange, finishExchange } from "./exchange.ts";
import { parseRpcBody, type RpcBody, rpcError, wholeRequestError } from "./json-rpc.ts";
import type { KeyRecord } from "./key-record.ts";
import { checkRateLimit } from "./rate-limiting.ts";
import { isJsonContentType, readLimitedBody } from "./request-body.ts";
import { mintRequestId, rememberRequestId } from "./request-id.ts";
import { noContentResponse, rawJsonResponse } from "./responses.ts";
import type { RelayRuntime } from "./runtime.ts";

/** The path parameters of `POST /v1/:chain/:apiKey`, and the caller's address. */
export interface RpcParams {
  chain: string;
  apiKey: string;
  /** The socket's peer address; null when unknown (requests handed to app.handle). */
  clientIp: string | null;
}

/** How a request is answered; `text` null means 204 with no body. */
interface Answer {
  status: number;
  text: string | null;
  errorName: PortalErrorName | null;
  /** The client hung up (mid-body, say): nothing is sent, and the row says 499. */
  clientClosed?: boolean;
}

const clientClosedAnswer: Answer = { status: 499, text: null, errorName: null, clientClosed: true };

const shortHexId = /^(?:[0-9a-f]{2}){1,4}$/;

// One timer for the deadlines of every request in the process (see DeadlineQueue).
const deadlines = new DeadlineQueue();

// A pure function's memo, so one per process serves every app in it.
const apiKeyHashes = new ApiKeyHashes();

/** Refusals that count towards "many bad keys from one IP" (a key being guessed or replayed). */
const refusedKeyErrors = new Set<PortalErrorName>(["unknown_key", "key_revoked", "key_expired"]);

/**
 * Serves one dApp request end to end: read and parse the body, check key and chain, relay to a
 * servicer, answer, and record a usage row. Never throws: every failure becomes a JSON-RPC error
 * answer with the portal's code and status.
 */
export async function handleRpc(
  runtime: RelayRuntime,
  request: Request,
  params: RpcParams,
): Promise<Response> {
  // Nothing asks for the id before this handler, and its answers carry it (but see below).
  const requestId = mintRequestId(request);
  const startedAt = Date.now();
  const rootLogger = runtime.deps.logger;
  // A pino child serialises and redacts its bindings when made: a few microseconds that most
  // requests, which log nothing, need not spend.
  let logger: Logger | undefined;
  const exchange: Exchange = {
    requestId,
    startedAt,
    deadline: startedAt + runtime.deps.limits.deadlineMs,
    get logger() {
      logger ??= rootLogger.child({ requestId });
      return logger;
    },
    logsServed: rootLogger.isLevelEnabled("debug"),
    origin: request.headers.get("origin"),
    bytesIn: 0,
    body: null,
    key: null,
    chainId: null,
    zone: null,
    servicer: null,
    rateLimitHeaders: {},
  };
  let answer: Answer;
  try {
    answer = await withDeadline(serve(runtime, exchange, request, params), exchange.deadline);
  } catch (error) {
    answer = request.signal.aborted ? clientClosedAnswer : errorAnswer(error, exchange);
  }
  const bytesOut = answer.text === null ? 0 : Buffer.byteLength(answer.text);
  finishExchange(
    exchange,
    {
      httpStatus: answer.status,
      errorName: answer.errorName,
      bytesOut,
      clientClosed: answer.clientClosed,
    },
    runtime.relayLogs,
    runtime.metrics,
  );
  if (answer.clientClosed) {
    // Bun aborts the request's signal when the connection drops; no one reads this answer. It
    // has no x-request-id, so the response hook asks requestIdOf, which must give the same.
    rememberRequestId(request, requestId);
    return new Response(null, { status: answer.status });
  }
  if (answer.errorName !== null && refusedKeyErrors.has(answer.errorName)) {
    void runtime.refusedKeys.noteRefusal(params.clientIp, answer.errorName);
  }
  return answer.text === null
    ? noContentResponse(requestId, exchange.rateLimitHeaders)
    : rawJsonResponse(answer.text, answer.status, requestId, exchange.rateLimitHeaders);
}

async function serve(
  runtime: RelayRuntime,
  exchange: Exchange,
  request: Request,
  params: RpcParams,
): Promise<Answer> {
  if (!isJsonContentType(request.headers.get("content-type"))) {
    throw new RelayError("unsupported_media_type");
  }
  const { text, bytes } = await readLimitedBody(request, runtime.deps.limits.maxBodyBytes);
  exchange.bytesIn = bytes;
  const body = parseRpcBody(text);
  exchange.body = body;
  if (body.items.every((item) => !item.valid)) {
    return answerRefusals(
      body,
      planForward(body, text, () => null),
      exchange.requestId,
    );
  }

  const key = await authorize(runtime, exchange, params);
  const chain = await resolveChain(runtime, params.chain);
  exchange.chainId = chain.id;
  assertScopeAllowed(key, {
    chainId: chain.id,
    origin: exchange.origin,
    clientIp: params.clientIp,
  });

  const plan = planForward(body, text, (item) =>
    methodAllowed(key, item.method) ? null : "method_not_allowed",
  );
  const methods = forwardedMethods(body, plan);
  exchange.computeUnits = runtime.rateLimit.policy.costs.costOf(methods);
  const rateLimited = await limitRate(runtime, exchange, key, methods);
  if (plan.data === null) {
    return answerRefusals(body, plan, exchange.requestId);
  }
  if (rateLimited !== null) {
    return rateLimited;
  }
  const zone = shortHexId.test(key.defaultZone) ? key.defaultZone : runtime.deps.viper.defaultZone;
  exchange.zone = zone;
  const outcome = await runtime.relayer.send({
    chain: chain.id,
    zone,
    data: plan.data,
    deadline: exchange.deadline,
    get logger() {
      return exchange.logger;
    },
  });
  exchange.servicer = outcome.servicerAddress;
  return answerUpstream(body, plan, outcome.response, exchange.requestId);
}

async function authorize(
  runtime: RelayRuntime,
  exchange: Exchange,
  params: RpcParams,
): Promise<KeyRecord> {
  // A mistyped or made-up key fails its checksum and never reaches the cache or the database.
  const keyHash = apiKeyHashes.hashOf(params.apiKey);
  if (keyHash === null) {
    throw new RelayError("unknown_key");
  }
  const record = await runtime.keys.lookup(keyHash);
  exchange.key = record;
  return assertUsableKey(record);
}

async function resolveChain(runtime: RelayRuntime, name: string): Promise<ChainInfo> {
  const chain = await runtime.chains.resolve(name);
  if (chain === null || !chain.enabled) {
    throw new RelayError("unknown_chain");
  }
  return chain;
}

/**
 * Charges the request to its key, project and methods. Its headers go on whatever the request
 * is answered with; the refusal's answer is returned when the limiter says no.
 */
async function limitRate(
  runtime: RelayRuntime,
  exchange: Exchange,
  key: KeyRecord,
  methods: string[],
): Promise<Answer | null> {
  const verdict = await checkRateLimit(runtime.rateLimit, key, methods);
  runtime.metrics.countLimiterDecision(
    verdict === null ? "bypassed" : (verdict.refusal?.errorName ?? "allowed"),
  );
  if (verdict === null) {
    return null;
  }
  exchange.rateLimitHeaders = verdict.headers;
  const { refusal } = verdict;
  if (refusal === null) {
    return null;
  }
  const detail = { message: refusal.message, data: refusal.data };
  const body = wholeRequestError(exchange.body, refusal.errorName, exchange.requestId, detail);
  return { status: refusal.status, text: JSON.stringify(body), errorName: refusal.errorName };
}

/** One method per call that goes upstream: what the limiter charges (a batch, the sum). */
function forwardedMethods(body: RpcBody, plan: ForwardPlan): string[] {
  return body.items.flatMap((item, index) =>
    plan.refusals.has(index) || item.method === null ? [] : [item.method],
  );
}

/** The answer when nothing is forwarded: the portal's errors for the refused items. */
function answerRefusals(body: RpcBody, plan: ForwardPlan, requestId: string): Answer {
  const first = plan.refusals.get(0) ?? [...plan.refusals.values()][0] ?? "invalid_request";
  const status = portalErrors[first].status;
  if (!body.batch) {
    const item = body.items[0];
    if (item?.valid && !item.hasId) {
      return { status: 204, text: null, errorName: first };
    }
    const text = JSON.stringify(rpcError(item?.id ?? null, first, requestId));
    return { status, text, errorName: first };
  }
  const merged = mergeBatchAnswer(body, plan, null, requestId);
  return { status: merged === null ? 204 : status, text: merged, errorName: first };
}

/** The answer after a relay: the upstream text as is, merged with refusals when there were any. */
function answerUpstream(
  body: RpcBody,
  plan: ForwardPlan,
  upstream: string,
  requestId: string,
): Answer {
  if (plan.verbatim) {
    const text = plan.expectsUpstreamAnswer ? upstream : null;
    return { status: text === null ? 204 : 200, text, errorName: null };
  }
  const merged = mergeBatchAnswer(body, plan, upstream, requestId);
  return { status: merged === null ? 204 : 200, text: merged, errorName: null };
}

/** The portal's JSON-RPC error answer for whatever stopped the request. */
function errorAnswer(error: unknown, exchange: Exchange): Answer {
  const relayError = asRelayError(error, exchange);
  const body = wholeRequestError(exchange.body, relayError.errorName, exchange.requestId);
  return { status: relayError.status, text: JSON.stringify(body), errorName: relayError.errorName };
}

function asRelayError(error: unknown, exchange: Exchange): RelayError {
  if (error instanceof RelayError) {
    return error;
  }
  exchange.logger.error({ err: error }, "relay handler failed unexpectedly");
  return new RelayError("internal_error", { cause: error });
}

/** Races the work against the request's deadline; the late work's result is dropped. */
function withDeadline<T>(work: Promise<T>, deadline: number): Promise<T> {
  return deadlines.race(work, deadline, () => new RelayError("deadline_exceeded"));
}

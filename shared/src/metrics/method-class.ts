/**
 * JSON-RPC methods grouped into a few classes for metric labels: a method name comes from the
 * dApp, so using it as a label would let anyone grow the series without bound.
 */
export type MethodClass =
  | "read"
  | "call"
  | "logs"
  | "filter"
  | "send"
  | "trace"
  | "batch"
  | "other"
  | "none";

const calls = new Set(["eth_call", "eth_estimateGas", "eth_createAccessList", "eth_simulateV1"]);
const logs = new Set(["eth_getLogs", "eth_getFilterLogs"]);
const sends = new Set(["eth_sendRawTransaction", "eth_sendTransaction"]);
const readPrefixes = ["eth_get", "net_", "web3_"];
const reads = new Set([
  "eth_blockNumber",
  "eth_chainId",
  "eth_gasPrice",
  "eth_maxPriorityFeePerGas",
  "eth_blobBaseFee",
  "eth_feeHistory",
  "eth_syncing",
  "eth_protocolVersion",
  "eth_accounts",
]);

// Every request asks for its method's class; the answer is remembered per name (a dApp's names
// are few). Past the cap, further names are classed as they come, so made-up names cannot grow it.
const knownClasses = new Map<string, MethodClass>();
const KNOWN_CLASSES_CAP = 1_000;

/** The class of a method as the relay logs it ("batch" for batches, null when unknown). */
export function methodClassOf(method: string | null | undefined): MethodClass {
  if (!method) {
    return "none";
  }
  let methodClass = knownClasses.get(method);
  if (methodClass === undefined) {
    methodClass = classify(method);
    if (knownClasses.size < KNOWN_CLASSES_CAP) {
      knownClasses.set(method, methodClass);
    }
  }
  return methodClass;
}

function classify(method: string): MethodClass {
  if (method === "batch") {
    return "batch";
  }
  if (calls.has(method)) {
    return "call";
  }
  if (logs.has(method)) {
    return "logs";
  }
  if (sends.has(method)) {
    return "send";
  }
  if (method.startsWith("debug_") || method.startsWith("trace_")) {
    return "trace";
  }
  if (method.includes("Filter") || method === "eth_subscribe" || method === "eth_unsubscribe") {
    return "filter";
  }
  if (reads.has(method) || readPrefixes.some((prefix) => method.startsWith(prefix))) {
    return "read";
  }
  return "other";
}

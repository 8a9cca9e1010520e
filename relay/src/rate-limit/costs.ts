import { z } from "zod";

/** A cost in compute units: what one JSON-RPC call takes from a bucket. */
const computeUnits = z.number().min(0);

/**
 * Overrides for the cost table, as an operator writes them in the config JSON. Exact method
 * names win over prefixes; the longest matching prefix wins among prefixes.
 */
export const costConfigSchema = z.object({
  default: computeUnits.optional(),
  methods: z.record(z.string().min(1), computeUnits).optional(),
  prefixes: z.record(z.string().min(1), computeUnits).optional(),
});

export type CostConfig = z.infer<typeof costConfigSchema>;

/** What a method nobody listed costs: dearer than a plain read, since its load is unknown. */
export const defaultUnknownCost = 5;

/** Cheap reads cost 1; calls that make the node scan or execute cost more. */
export const defaultMethodCosts: Readonly<Record<string, number>> = {
  eth_blockNumber: 1,
  eth_chainId: 1,
  net_version: 1,
  net_listening: 1,
  net_peerCount: 1,
  web3_clientVersion: 1,
  web3_sha3: 1,
  eth_syncing: 1,
  eth_gasPrice: 1,
  eth_maxPriorityFeePerGas: 1,
  eth_blobBaseFee: 1,
  eth_protocolVersion: 1,
  eth_accounts: 1,
  eth_getBalance: 1,
  eth_getTransactionCount: 1,
  eth_getCode: 1,
  eth_getStorageAt: 1,
  eth_getBlockByNumber: 1,
  eth_getBlockByHash: 1,
  eth_getBlockTransactionCountByNumber: 1,
  eth_getBlockTransactionCountByHash: 1,
  eth_getTransactionByHash: 1,
  eth_getTransactionByBlockNumberAndIndex: 1,
  eth_getTransactionByBlockHashAndIndex: 1,
  eth_getTransactionReceipt: 1,
  eth_getUncleCountByBlockNumber: 1,
  eth_getUncleCountByBlockHash: 1,
  eth_sendRawTransaction: 1,
  eth_call: 2,
  eth_estimateGas: 2,
  eth_feeHistory: 2,
  eth_createAccessList: 2,
  eth_getFilterChanges: 2,
  eth_newBlockFilter: 2,
  eth_newPendingTransactionFilter: 2,
  eth_uninstallFilter: 1,
  eth_getProof: 5,
  eth_getBlockReceipts: 5,
  eth_newFilter: 5,
  eth_getLogs: 10,
  eth_getFilterLogs: 10,
};

/** Method families priced as a group: tracing and debugging replay whole transactions or blocks. */
export const defaultPrefixCosts: Readonly<Record<string, number>> = {
  debug_: 20,
  trace_: 20,
};

/** Prices JSON-RPC methods in compute units; built once from the config. */
export class CostTable {
  private readonly methods: Map<string, number>;
  /** Longest prefix first, so "debug_trace" could be priced apart from "debug_". */
  private readonly prefixes: [string, number][];
  readonly unknownCost: number;

  constructor(config: CostConfig = {}) {
    this.methods = new Map(Object.entries({ ...defaultMethodCosts, ...config.methods }));
    this.prefixes = Object.entries({ ...defaultPrefixCosts, ...config.prefixes }).sort(
      ([a], [b]) => b.length - a.length,
    );
    this.unknownCost = config.default ?? defaultUnknownCost;
  }

  /** The cost of one call of this method. */
  costOfMethod(method: string): number {
    const exact = this.methods.get(method);
    if (exact !== undefined) {
      return exact;
    }
    for (const [prefix, cost] of this.prefixes) {
      if (method.startsWith(prefix)) {
        return cost;
      }
    }
    return this.unknownCost;
  }

  /** The cost of a request: one method for a single call, one per item for a batch. */
  costOf(methods: string[]): number {
    let total = 0;
    for (const method of methods) {
      total += this.costOfMethod(method);
    }
    return total;
  }
}

/**
 * A cost table from the operator's JSON (a string or an already-parsed value); absent means the
 * defaults. Throws a zod error naming the bad field.
 */
export function createCostTable(config?: unknown): CostTable {
  if (config === undefined || config === null || config === "") {
    return new CostTable();
  }
  const parsed = typeof config === "string" ? JSON.parse(config) : config;
  return new CostTable(costConfigSchema.parse(parsed));
}

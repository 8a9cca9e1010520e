import { randomUUID } from "node:crypto";
import type { Database } from "@viper/db/client";
import { sql } from "drizzle-orm";

/**
 * Synthetic relay rows for the analytics benchmark, made inside Postgres with generate_series
 * (sending ten million rows through the writer would measure the network, not the queries).
 * One busy project gets most of the rows; other projects share the same days, so every query
 * has to find its project among others.
 */

export interface AnalyticsDataPlan {
  /** Rows of the measured project. */
  projectRows: number;
  /** Rows of the other projects, spread over the same days. */
  otherRows: number;
  /** Days of history, ending now. */
  days: number;
  otherProjects: number;
}

export interface AnalyticsDataset {
  projectId: string;
  keyIds: string[];
  chains: string[];
  methods: string[];
}

const chains = ["0021", "0022", "0023", "0040"];
const methods = [
  "eth_blockNumber",
  "eth_call",
  "eth_getBalance",
  "eth_getLogs",
  "eth_getTransactionReceipt",
  "eth_chainId",
  "eth_estimateGas",
  "batch",
];

function textArray(values: string[]): string {
  return `array[${values.map((value) => `'${value}'`).join(", ")}]`;
}

/**
 * Inserts one UTC day of rows for one project (or for a set of projects chosen at random per
 * row): 95% served, 3% rate limited, 2% failed upstream; latency skewed towards fast answers.
 */
function dayInsert(
  dayStart: Date,
  rows: number,
  projectIds: string[],
  keyIds: string[],
): ReturnType<typeof sql.raw> {
  return sql.raw(`insert into relay_logs (id, created_at, request_id, project_id, api_key_id,
      chain_id, zone, method, batch_size, status, http_status, error_code, latency_ms,
      bytes_in, bytes_out, compute_units)
    select gen_random_uuid(),
      '${dayStart.toISOString()}'::timestamptz + r_time * interval '86399.999 seconds',
      'bench', (${textArray(projectIds)}::uuid[])[1 + floor(r_project * ${projectIds.length})::int],
      (${textArray(keyIds)}::uuid[])[1 + floor(r_key * ${keyIds.length})::int],
      (${textArray(chains)})[1 + floor(r_chain * ${chains.length})::int], '0001',
      (${textArray(methods)})[1 + floor(r_method * ${methods.length})::int],
      1,
      case when r_status < 0.95 then 'ok' when r_status < 0.98 then 'rate_limited'
        else 'servicers_failed' end,
      case when r_status < 0.95 then 200 when r_status < 0.98 then 429 else 502 end,
      case when r_status < 0.95 then null when r_status < 0.98 then -32005 else -32020 end,
      (power(r_latency, 3) * 2500)::int,
      80 + (r_key * 300)::int, 100 + (r_latency * 4000)::int, 1 + (r_method * 9)::int
    from (select random() as r_time, random() as r_project, random() as r_key,
            random() as r_chain, random() as r_method, random() as r_status, random() as r_latency
          from generate_series(1, ${rows})) as draws`);
}

/**
 * Fills relay_logs with `plan` over the last `plan.days` days, one statement per day and kind so
 * progress shows; `onDay` hears about each. Returns what the measured project is made of.
 */
export async function generateAnalyticsData(
  db: Database,
  plan: AnalyticsDataPlan,
  onDay: (day: Date, rowsSoFar: number) => void,
): Promise<AnalyticsDataset> {
  const projectId = randomUUID();
  const keyIds = Array.from({ length: 5 }, () => randomUUID());
  const others = Array.from({ length: plan.otherProjects }, () => randomUUID());
  const otherKeys = others.map(() => randomUUID());
  const today = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000);
  let written = 0;
  for (let offset = plan.days; offset >= 1; offset -= 1) {
    const day = new Date(today.getTime() - offset * 86_400_000);
    const projectRows = Math.round(plan.projectRows / plan.days);
    const otherRows = Math.round(plan.otherRows / plan.days);
    await db.execute(dayInsert(day, projectRows, [projectId], keyIds));
    if (otherRows > 0 && others.length > 0) {
      await db.execute(dayInsert(day, otherRows, others, otherKeys));
    }
    written += projectRows + otherRows;
    onDay(day, written);
  }
  return { projectId, keyIds, chains, methods };
}

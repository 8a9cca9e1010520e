import {
  billableUsage,
  type UsagePoint,
  type UsageShare,
  type UsageTotals,
  usageBreakdown,
  usageSeries,
  usageSummary,
} from "@viper/db/analytics/usage-report";
import type { Database } from "@viper/db/client";
import { apiKeys } from "@viper/db/schema/api-keys";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { projectProcedure } from "../project-access.ts";
import { router } from "../trpc.ts";
import {
  alignToMinute,
  alignToStep,
  seriesRangeSchema,
  totalRangeSchema,
  usageFilterShape,
} from "../usage-range.ts";

/**
 * A project's usage for the dashboard. Any member may read it, viewers included. Whole buckets
 * come from the rollups and only the minutes the rollup job has not folded yet from raw relay
 * rows (docs/analytics.md). Times are ISO 8601 in UTC; days are UTC days.
 */

const filterInput = z.object(usageFilterShape);

function filterOf(projectId: string, input: z.infer<typeof filterInput>) {
  return { projectId, apiKeyId: input.apiKeyId ?? null, chainId: input.chainId ?? null };
}

/** Totals as the API sends them. */
function totalsView(totals: UsageTotals) {
  return {
    requests: totals.requests,
    errors: totals.errors,
    serverErrors: totals.serverErrors,
    errorRate: totals.errorRate,
    calls: totals.calls,
    computeUnits: totals.computeUnits,
    bytesIn: totals.bytesIn,
    bytesOut: totals.bytesOut,
    latencyMs: totals.latencyMs,
  };
}

function pointView(point: UsagePoint) {
  return { at: point.at.toISOString(), ...totalsView(point) };
}

/** Names of the project's keys, so a breakdown can say "CI key …a1b2" instead of a uuid. */
async function keyLabels(db: Database, projectId: string) {
  const keys = await db
    .select({ id: apiKeys.id, name: apiKeys.name, lastFour: apiKeys.lastFour })
    .from(apiKeys)
    .where(eq(apiKeys.projectId, projectId));
  return new Map(keys.map((key) => [key.id, { name: key.name, lastFour: key.lastFour }]));
}

function shareView(share: UsageShare) {
  return { value: share.value, ...totalsView(share) };
}

const monthPattern = /^(\d{4})-(0[1-9]|1[0-2])$/;

/**
 * The years a bill may be asked for. Date.UTC reads years below 100 as 19xx, and the end of
 * 9999-12 is in year 10000, which ISO 8601 writes as "+010000-01-01"; every month in between is
 * plain four-digit text on the way in and out.
 */
const billableYears = { first: 2000, last: 9998 };

/** A calendar month as `YYYY-MM`, read into numbers. */
const billingMonthSchema = z.string().transform((text, ctx) => {
  const match = monthPattern.exec(text);
  if (!match) {
    ctx.addIssue({ code: "custom", message: "Use YYYY-MM." });
    return z.NEVER;
  }
  const year = Number(match[1]);
  if (year < billableYears.first || year > billableYears.last) {
    ctx.addIssue({
      code: "custom",
      message: `Pick a month from ${billableYears.first}-01 to ${billableYears.last}-12.`,
    });
    return z.NEVER;
  }
  return { year, month: Number(match[2]) };
});

export const usageRouter = router({
  /** One point per minute, hour or day over the range, empty buckets included. */
  series: projectProcedure("viewer")
    .input(seriesRangeSchema)
    .input(filterInput)
    .query(async ({ ctx, input }) => {
      const range = alignToStep(input.from, input.to, input.step);
      const points = await usageSeries(ctx.db, {
        filter: filterOf(ctx.project.id, input),
        ...range,
        step: input.step,
      });
      return {
        from: range.from.toISOString(),
        to: range.to.toISOString(),
        step: input.step,
        points: points.map(pointView),
      };
    }),

  /** Totals over the range: requests, error rate, latency p50/p95/p99, compute units, bytes. */
  summary: projectProcedure("viewer")
    .input(totalRangeSchema)
    .input(filterInput)
    .query(async ({ ctx, input }) => {
      const range = alignToMinute(input.from, input.to);
      const totals = await usageSummary(ctx.db, {
        filter: filterOf(ctx.project.id, input),
        ...range,
      });
      return { from: range.from.toISOString(), to: range.to.toISOString(), ...totalsView(totals) };
    }),

  /** The busiest methods of the range, with their errors and latency. */
  topMethods: projectProcedure("viewer")
    .input(totalRangeSchema)
    .input(filterInput.extend({ limit: z.number().int().min(1).max(100).default(10) }))
    .query(async ({ ctx, input }) => {
      const range = alignToMinute(input.from, input.to);
      const shares = await usageBreakdown(ctx.db, {
        filter: filterOf(ctx.project.id, input),
        ...range,
        by: "method",
        limit: input.limit,
      });
      return shares.map((share) => ({ method: share.value, ...totalsView(share) }));
    }),

  /** Usage per key or per chain over the range, busiest first. */
  breakdown: projectProcedure("viewer")
    .input(totalRangeSchema)
    .input(filterInput.extend({ by: z.enum(["key", "chain"]) }))
    .query(async ({ ctx, input }) => {
      const range = alignToMinute(input.from, input.to);
      const shares = await usageBreakdown(ctx.db, {
        filter: filterOf(ctx.project.id, input),
        ...range,
        by: input.by === "key" ? "apiKeyId" : "chainId",
      });
      if (input.by === "chain") {
        return shares.map((share) => ({ ...shareView(share), key: null }));
      }
      const labels = await keyLabels(ctx.db, ctx.project.id);
      return shares.map((share) => ({ ...shareView(share), key: labels.get(share.value) ?? null }));
    }),

  /**
   * Billable usage of a calendar month (UTC; this month when omitted): served requests and
   * their compute units. The current month counts up to now.
   */
  billing: projectProcedure("viewer")
    .input(z.object({ month: billingMonthSchema.optional() }))
    .query(async ({ ctx, input }) => {
      const now = new Date();
      const month = input.month ?? { year: now.getUTCFullYear(), month: now.getUTCMonth() + 1 };
      const bill = await billableUsage(ctx.db, ctx.project.id, month, now);
      return {
        month: bill.month,
        from: bill.from.toISOString(),
        to: bill.to.toISOString(),
        relays: bill.relays,
        computeUnits: bill.computeUnits,
        rolledThrough: bill.rolledThrough?.toISOString() ?? null,
      };
    }),
});

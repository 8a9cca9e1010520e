import type { Logger } from "@viper/shared/logger";
import type { Database } from "../client.ts";
import { ensureRelayLogPartitions } from "./partitions.ts";
import {
  checkRetention,
  defaultRetention,
  pruneUsageData,
  type RetentionSettings,
} from "./retention.ts";
import { runUsageRollup } from "./rollup-job.ts";

export interface AnalyticsJobsOptions {
  db: Database;
  logger: Logger;
  /** How often closed minutes are folded; 30 s when omitted. */
  rollupIntervalMs?: number;
  /** How often partitions are made ahead and old data pruned; hourly when omitted. */
  maintenanceIntervalMs?: number;
  retention?: RetentionSettings;
}

export interface AnalyticsJobs {
  /** Runs the rollup now (tests, and the first pass at start). */
  rollupNow(): Promise<void>;
  /** Runs partition upkeep and retention now. */
  maintainNow(): Promise<void>;
  /** Stops the timers and waits for a run in progress. */
  stop(): Promise<void>;
}

/**
 * Starts the background jobs that keep usage data: the rollup (every 30 s) and partition upkeep
 * with retention (hourly). Several servers may run them; the jobs take database locks so only
 * one works at a time. Failures are logged and retried at the next tick.
 */
export function startAnalyticsJobs(options: AnalyticsJobsOptions): AnalyticsJobs {
  const { db, logger } = options;
  const retention = options.retention ?? defaultRetention;
  checkRetention(retention);
  let running: Promise<void> = Promise.resolve();
  const serialize = (work: () => Promise<void>) => {
    running = running.then(work, work);
    return running;
  };

  const rollupNow = () =>
    serialize(async () => {
      try {
        const result = await runUsageRollup(db);
        logger.debug({ ...result }, "usage rollup ran");
      } catch (error) {
        logger.warn({ err: error }, "usage rollup failed, will retry");
      }
    });
  const maintainNow = () =>
    serialize(async () => {
      try {
        await ensureRelayLogPartitions(db);
        const pruned = await pruneUsageData(db, retention);
        logger.info({ ...pruned }, "usage data maintained");
      } catch (error) {
        logger.warn({ err: error }, "usage data maintenance failed, will retry");
      }
    });

  const rollupTimer = setInterval(() => void rollupNow(), options.rollupIntervalMs ?? 30_000);
  const maintenanceTimer = setInterval(
    () => void maintainNow(),
    options.maintenanceIntervalMs ?? 3_600_000,
  );
  rollupTimer.unref();
  maintenanceTimer.unref();
  return {
    rollupNow,
    maintainNow,
    async stop() {
      clearInterval(rollupTimer);
      clearInterval(maintenanceTimer);
      await running;
    },
  };
}

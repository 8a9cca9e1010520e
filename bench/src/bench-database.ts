import { type DatabaseHandle, openDatabase } from "@viper/db/client";
import { migrateDatabase } from "@viper/db/migrate";
import { projects } from "@viper/db/schema/projects";
import { createProjectWithKey, upsertChains } from "@viper/db/seed";
import type { Logger } from "@viper/shared/logger";
import { eq, sql } from "drizzle-orm";
import Redis from "ioredis";
import postgres from "postgres";
import { insertBenchKeys } from "./bench-keys.ts";
import { BENCH_TIER } from "./relay-seams.ts";

/** The two chains of the bench: one served through the devnet, one by a plain endpoint. */
export const benchChains = {
  viper: { id: "0021", slug: "bench-viper", name: "Bench chain on Viper" },
  plain: { id: "0b01", slug: "bench-plain", name: "Bench chain on a plain endpoint" },
} as const;

/**
 * Every key allows far more than the load can send (and so does the project's tier, see
 * relay-seams.ts), so the rate limiter does all its work on every request and never refuses one.
 */
export const benchKeyRules = { ratePerSecond: 10_000_000 };

/** The bench's own database, seeded with a project and its first key. */
export interface BenchDatabase {
  url: string;
  handle: DatabaseHandle;
  projectId: string;
  /** The project's first key, made the ordinary way; the load uses it when there is one key. */
  firstKey: string;
  /** How many keys the project has now, the first included. */
  keyCount: number;
  /** Adds bulk keys until the project has `total` keys. */
  growTo(total: number): Promise<void>;
  close(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** Fails fast when Postgres cannot be reached, before the bench spends minutes on other work. */
export async function assertPostgresReachable(adminUrl: string): Promise<void> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined, connect_timeout: 5 });
  try {
    await admin`select 1`;
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/** Drops and recreates `name`, so every run starts from an empty, freshly migrated database. */
async function recreateDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined, connect_timeout: 5 });
  try {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  return withDatabase(adminUrl, name);
}

/** Creates, migrates and seeds the bench database. */
export async function createBenchDatabase(
  adminUrl: string,
  name: string,
  logger: Logger,
): Promise<BenchDatabase> {
  const url = await recreateDatabase(adminUrl, name);
  const handle = await openDatabase({ url, poolSize: 2 });
  await migrateDatabase(handle);
  await upsertChains(handle.db, [benchChains.viper, benchChains.plain]);
  const seeded = await createProjectWithKey(handle.db, {
    email: "bench@viper.localhost",
    projectName: "bench",
    chainIds: [benchChains.viper.id, benchChains.plain.id],
    rules: benchKeyRules,
  });
  await handle.db
    .update(projects)
    .set({ tier: BENCH_TIER })
    .where(eq(projects.id, seeded.projectId));
  const database: BenchDatabase = {
    url,
    handle,
    projectId: seeded.projectId,
    firstKey: seeded.apiKey.key,
    keyCount: 1,
    async growTo(total: number) {
      if (total <= database.keyCount) {
        return;
      }
      const started = Date.now();
      // A million rows with two SHA-256 each take a while; bounded so a stuck server ends the run.
      await handle.db.transaction(async (tx) => {
        await tx.execute(sql`set local statement_timeout = '600s'`);
        await tx.execute(
          insertBenchKeys(seeded.projectId, benchKeyRules, database.keyCount, total - 1),
        );
      });
      await handle.db.execute(sql`analyze api_keys`);
      logger.info({ keys: total, ms: Date.now() - started }, "bench keys inserted");
      database.keyCount = total;
    },
    async close() {
      await handle.close();
    },
  };
  return database;
}

/** Empties the bench's Redis database, so no cached key or counter survives from a past run. */
export async function flushBenchRedis(url: string): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
  });
  try {
    await redis.connect();
    await redis.flushdb();
  } finally {
    redis.disconnect();
  }
}

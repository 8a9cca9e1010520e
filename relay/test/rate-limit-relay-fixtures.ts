/**
 * What the rate limit relay tests share: projects on a tier of the test's choosing, more keys on
 * a project, a second relay instance on its own store connection, and the limiter's headers.
 */
import { randomBytes } from "node:crypto";
import { apiKeys } from "@viper/db/schema/api-keys";
import { projects } from "@viper/db/schema/projects";
import { createProjectWithKey } from "@viper/db/seed";
import { generateApiKey } from "@viper/shared/api-key";
import { type KeyValueStore, MemoryStore, RedisStore } from "@viper/shared/store";
import { eq } from "drizzle-orm";
import type { Logger } from "pino";
import type { RelayApp } from "../src/app.ts";
import type { RateLimitConfig } from "../src/rate-limit/config.ts";
import { rateLimitHeaderNames } from "../src/responses.ts";
import {
  CHAIN_ID,
  CHAIN_SLUG,
  captureLogger,
  type Harness,
  post,
  secondRelayApp,
} from "./harness.ts";

export { waitFor } from "./redis-server.ts";

/** A key of a test project: its id and the raw key the dApp sends. */
export interface TestKey {
  keyId: string;
  apiKey: string;
}

export interface TestProject {
  projectId: string;
  userId: string;
  keys: TestKey[];
}

/** A project's first key; every test project has one. */
export function firstKey(project: TestProject): TestKey {
  const [key] = project.keys;
  if (!key) {
    throw new Error("the test project has no key");
  }
  return key;
}

/** A new project on `tier` with `keyCount` keys (internal ones when asked), on the devnet chain. */
export async function addProject(
  harness: Harness,
  tier: string,
  options: { keyCount?: number; internal?: boolean } = {},
): Promise<TestProject> {
  const db = harness.testDb.db;
  const created = await createProjectWithKey(db, {
    email: `limits-${randomBytes(4).toString("hex")}@example.com`,
    projectName: `limits on ${tier}`,
    chainIds: [CHAIN_ID],
    internal: options.internal ?? false,
  });
  await db.update(projects).set({ tier }).where(eq(projects.id, created.projectId));
  const keys: TestKey[] = [{ keyId: created.keyId, apiKey: created.apiKey.key }];
  for (let index = 1; index < (options.keyCount ?? 1); index++) {
    const generated = generateApiKey();
    const [row] = await db
      .insert(apiKeys)
      .values({
        projectId: created.projectId,
        name: `key ${index}`,
        keyHash: generated.hash,
        displayPrefix: generated.displayPrefix,
        lastFour: generated.lastFour,
        rules: {},
        createdBy: created.userId,
      })
      .returning({ id: apiKeys.id });
    if (!row) {
      throw new Error("key insert returned no row");
    }
    keys.push({ keyId: row.id, apiKey: generated.key });
  }
  return { projectId: created.projectId, userId: created.userId, keys };
}

/** The RPC path of a key on the devnet chain. */
export function rpcPath(key: TestKey): string {
  return `/v1/${CHAIN_SLUG}/${key.apiKey}`;
}

/** A second connection to the harness's store: the same Redis and prefix, or the same map. */
export function secondStoreFor(harness: Harness, redisUrl?: string): KeyValueStore {
  if (harness.store instanceof RedisStore) {
    const url = redisUrl ?? process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
    return new RedisStore({ url, prefix: harness.store.prefix });
  }
  return harness.store instanceof MemoryStore ? harness.store : new MemoryStore();
}

/** Another relay instance on the harness's database and devnet, with its own store and limits. */
export function relayInstance(
  harness: Harness,
  store: KeyValueStore,
  rateLimit: RateLimitConfig,
  logger: Logger = captureLogger().logger,
): RelayApp {
  const { requestor, client } = harness.app.decorator.relay.deps.viper;
  return secondRelayApp(harness, {
    store,
    rateLimit,
    logger,
    viper: { requestor, client, heightPollMs: 100 },
  });
}

/** The limiter's headers of an answer, under their lower-case names; absent ones left out. */
export function limitHeaders(headers: Headers): Record<string, string> {
  const found: Record<string, string> = {};
  for (const name of rateLimitHeaderNames) {
    const value = headers.get(name);
    if (value !== null) {
      found[name] = value;
    }
  }
  return found;
}

/** A portal error as the limiter answers it. */
export interface LimitError {
  id: number | string | null;
  error: {
    code: number;
    message: string;
    data: { requestId: string; limit: string; retryAfter: number; method?: string };
  };
}

/** Sends a request and returns status, headers and the parsed body. */
export async function call(
  app: RelayApp,
  key: TestKey,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const answer = await post(app, rpcPath(key), body, headers);
  return { ...answer, json: JSON.parse(answer.text) as unknown };
}

import type { Database } from "@viper/db/client";
import { type ApiKeyRules, apiKeyHashMatches, apiKeys } from "@viper/db/schema/api-keys";
import { projectChains } from "@viper/db/schema/project-chains";
import { projects } from "@viper/db/schema/projects";
import { eq } from "drizzle-orm";

/**
 * What the relay needs to know about an API key to authorize a request, in a form that
 * survives JSON (it is cached in the shared store). Times are epoch milliseconds.
 */
export interface KeyRecord {
  keyId: string;
  projectId: string;
  /** The key's last four characters, the only part of it that may be logged. */
  lastFour: string;
  rules: ApiKeyRules;
  internal: boolean;
  expiresAt: number | null;
  revokedAt: number | null;
  projectDeleted: boolean;
  /** Viper chain ids the project chose. */
  projectChains: string[];
  /** Origins the project allows for browser requests; empty means any. */
  projectOrigins: string[];
  /** The geo zone relays of this project go to. */
  defaultZone: string;
  /** The project's tier (projects.tier), which picks its rate limits. */
  tier: string;
}

/**
 * Loads a key and its project by key hash in one query (one row per project chain); null when
 * no key has this hash. A secret replaced by a regeneration is found too while its grace period
 * lasts, and its record expires when that period ends.
 */
export async function loadKeyRecord(db: Database, keyHash: string): Promise<KeyRecord | null> {
  const rows = await db
    .select({
      keyId: apiKeys.id,
      currentHash: apiKeys.keyHash,
      previousKeyExpiresAt: apiKeys.previousKeyExpiresAt,
      projectId: apiKeys.projectId,
      lastFour: apiKeys.lastFour,
      rules: apiKeys.rules,
      internal: apiKeys.internal,
      expiresAt: apiKeys.expiresAt,
      revokedAt: apiKeys.revokedAt,
      projectDeletedAt: projects.deletedAt,
      projectOrigins: projects.allowedOrigins,
      defaultZone: projects.defaultZone,
      tier: projects.tier,
      chainId: projectChains.chainId,
    })
    .from(apiKeys)
    .innerJoin(projects, eq(projects.id, apiKeys.projectId))
    .leftJoin(projectChains, eq(projectChains.projectId, apiKeys.projectId))
    .where(apiKeyHashMatches(keyHash, new Date()));
  const first = rows[0];
  if (!first) {
    return null;
  }
  const graceEnd = first.currentHash === keyHash ? null : first.previousKeyExpiresAt;
  const chainIds = rows.map((row) => row.chainId).filter((id): id is string => id !== null);
  return {
    keyId: first.keyId,
    projectId: first.projectId,
    lastFour: first.lastFour,
    rules: first.rules,
    internal: first.internal,
    expiresAt: earliest(first.expiresAt, graceEnd),
    revokedAt: first.revokedAt?.getTime() ?? null,
    projectDeleted: first.projectDeletedAt !== null,
    projectChains: [...new Set(chainIds)],
    projectOrigins: first.projectOrigins,
    defaultZone: first.defaultZone,
    tier: first.tier,
  };
}

/** The earlier of two optional instants, in epoch ms. */
function earliest(a: Date | null, b: Date | null): number | null {
  const times = [a, b].filter((date): date is Date => date !== null).map((date) => date.getTime());
  return times.length === 0 ? null : Math.min(...times);
}

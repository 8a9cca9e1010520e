import type { Database } from "@viper/db/client";
import { apiKeyHashMatches, apiKeys } from "@viper/db/schema/api-keys";
import { projects } from "@viper/db/schema/projects";
import { eq } from "drizzle-orm";

/** What a presented key resolves to, and until when it may be used. */
export interface KeyLookup {
  keyId: string;
  projectId: string;
  /** "previous" when the hash is a regenerated key's old secret, still in its grace period. */
  matched: "current" | "previous";
  revoked: boolean;
  projectDeleted: boolean;
  /** The earliest of the key's expiry and, for an old secret, the end of its grace period. */
  usableUntil: Date | null;
}

/**
 * Resolves a key hash the way the relay must: by current hash, or by previous hash while its
 * grace period lasts (db/src/schema/api-keys.ts apiKeyHashMatches). Null for an unknown hash or
 * an old secret whose grace has ended.
 */
export async function findKeyByHash(
  db: Database,
  keyHash: string,
  now: Date = new Date(),
): Promise<KeyLookup | null> {
  const [row] = await db
    .select({ key: apiKeys, projectDeletedAt: projects.deletedAt })
    .from(apiKeys)
    .innerJoin(projects, eq(projects.id, apiKeys.projectId))
    .where(apiKeyHashMatches(keyHash, now))
    .limit(1);
  if (!row) {
    return null;
  }
  const { key } = row;
  const matched = key.keyHash === keyHash ? "current" : "previous";
  const limits = [key.expiresAt, matched === "previous" ? key.previousKeyExpiresAt : null];
  const times = limits.filter((date): date is Date => date !== null).map((date) => date.getTime());
  return {
    keyId: key.id,
    projectId: key.projectId,
    matched,
    revoked: key.revokedAt !== null,
    projectDeleted: row.projectDeletedAt !== null,
    usableUntil: times.length > 0 ? new Date(Math.min(...times)) : null,
  };
}

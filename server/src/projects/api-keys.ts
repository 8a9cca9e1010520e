import type { Database } from "@viper/db/client";
import { type ApiKey, type ApiKeyRules, apiKeys } from "@viper/db/schema/api-keys";
import { projects } from "@viper/db/schema/projects";
import { type GeneratedApiKey, generateApiKey } from "@viper/shared/api-key";
import { and, count, desc, eq, isNull } from "drizzle-orm";
import { AppError } from "../errors.ts";
import { hashesOf } from "./invalidation.ts";
import { type KeyView, toKeyView } from "./key-views.ts";
import { allowanceOf } from "./tiers.ts";

type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];

/** A key after a change, and the hashes relays must forget because of it. */
export interface KeyChange {
  key: KeyView;
  invalidate: string[];
}

export interface NewKeyInput {
  projectId: string;
  userId: string;
  name: string;
  rules: ApiKeyRules;
  expiresAt: Date | null;
}

/**
 * Creates a key within the tier's allowance. The project row is locked meanwhile, so two
 * concurrent creations cannot both take the last free place. Returns the secret, which exists
 * nowhere else: only its hash is stored.
 */
export async function createKey(
  db: Database,
  input: NewKeyInput,
): Promise<{ key: KeyView; secret: string }> {
  const generated = generateApiKey();
  const row = await db.transaction(async (tx) => {
    const tier = await lockProject(tx, input.projectId);
    const [held] = await tx
      .select({ total: count() })
      .from(apiKeys)
      .where(and(eq(apiKeys.projectId, input.projectId), isNull(apiKeys.revokedAt)));
    if ((held?.total ?? 0) >= allowanceOf(tier).maxKeys) {
      throw new AppError("LIMIT_REACHED", {
        message: `The ${tier} tier allows ${allowanceOf(tier).maxKeys} keys; revoke one first.`,
      });
    }
    const [inserted] = await tx
      .insert(apiKeys)
      .values({
        projectId: input.projectId,
        name: input.name,
        keyHash: generated.hash,
        displayPrefix: generated.displayPrefix,
        lastFour: generated.lastFour,
        rules: input.rules,
        expiresAt: input.expiresAt,
        createdBy: input.userId,
      })
      .returning();
    return inserted;
  });
  if (!row) {
    throw new Error("api key insert returned no row");
  }
  return { key: toKeyView(row), secret: generated.key };
}

/** The project's tier, with its row locked until the transaction ends. */
async function lockProject(tx: Transaction, projectId: string): Promise<string> {
  const [project] = await tx
    .select({ tier: projects.tier })
    .from(projects)
    .where(and(eq(projects.id, projectId), isNull(projects.deletedAt)))
    .for("update");
  if (!project) {
    throw new AppError("NOT_FOUND", { message: "No such project." });
  }
  return project.tier;
}

/** Every key of a project, newest first, revoked ones included (they show as revoked). */
export async function listKeys(db: Database, projectId: string): Promise<KeyView[]> {
  const rows = await db
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.projectId, projectId))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id));
  const now = new Date();
  return rows.map((row) => toKeyView(row, now));
}

/**
 * What a change writes, given the key as it is; null writes nothing. Throw an AppError to refuse.
 */
export type KeyPatch = (key: ApiKey, now: Date) => Partial<typeof apiKeys.$inferInsert> | null;

/**
 * Changes one key of a project in a transaction, with the row locked so two changes cannot
 * interleave (a regeneration racing a revocation). NOT_FOUND for a key of another project.
 */
export async function changeKey(
  db: Database,
  projectId: string,
  keyId: string,
  patch: KeyPatch,
): Promise<{ before: ApiKey; after: ApiKey }> {
  return db.transaction(async (tx) => {
    const [before] = await tx
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.id, keyId), eq(apiKeys.projectId, projectId)))
      .for("update");
    if (!before) {
      throw new AppError("NOT_FOUND", { message: "No such key." });
    }
    const now = new Date();
    const values = patch(before, now);
    if (values === null) {
      return { before, after: before };
    }
    const [after] = await tx
      .update(apiKeys)
      .set({ ...values, updatedAt: now })
      .where(eq(apiKeys.id, keyId))
      .returning();
    if (!after) {
      throw new Error("api key update returned no row");
    }
    return { before, after };
  });
}

/** Refuses changes to a revoked key other than renaming: it can never work again. */
export function assertNotRevoked(key: ApiKey): void {
  if (key.revokedAt !== null) {
    throw new AppError("KEY_REVOKED");
  }
}

/** The hashes to invalidate after a change: whatever the key answered to before and after. */
export function changedHashes(before: ApiKey, after: ApiKey): string[] {
  return [...new Set([...hashesOf(before), ...hashesOf(after)])];
}

/**
 * Gives a key a new secret. With a grace period the old secret keeps working until it ends; a
 * secret replaced earlier (still in its own grace) stops at once, as only one old secret is kept.
 */
export function regeneratePatch(generated: GeneratedApiKey, graceSeconds: number): KeyPatch {
  return (key, now) => {
    assertNotRevoked(key);
    const grace = graceSeconds > 0;
    return {
      keyHash: generated.hash,
      displayPrefix: generated.displayPrefix,
      lastFour: generated.lastFour,
      previousKeyHash: grace ? key.keyHash : null,
      previousKeyExpiresAt: grace ? new Date(now.getTime() + graceSeconds * 1000) : null,
    };
  };
}

/** Revokes a key and any old secret still in grace; revoking twice changes nothing. */
export const revokePatch: KeyPatch = (key, now) =>
  key.revokedAt !== null
    ? null
    : { revokedAt: now, previousKeyHash: null, previousKeyExpiresAt: null };

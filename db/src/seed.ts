import { type GeneratedApiKey, generateApiKey } from "@viper/shared/api-key";
import type { Database } from "./client.ts";
import { type ApiKeyRules, apiKeys } from "./schema/api-keys.ts";
import { chains } from "./schema/chains.ts";
import { projectChains } from "./schema/project-chains.ts";
import { projectMembers } from "./schema/project-members.ts";
import { projects } from "./schema/projects.ts";
import { users } from "./schema/users.ts";

export interface ChainSeed {
  id: string;
  slug: string;
  name: string;
  evmChainId?: number | null;
  supportsWebsocket?: boolean;
}

/** Makes sure the configured chains exist, updating names and slugs that changed. */
export async function upsertChains(db: Database, seeds: ChainSeed[]): Promise<void> {
  for (const seed of seeds) {
    const row = {
      id: seed.id,
      slug: seed.slug,
      name: seed.name,
      evmChainId: seed.evmChainId ?? null,
      supportsWebsocket: seed.supportsWebsocket ?? false,
    };
    await db.insert(chains).values(row).onConflictDoUpdate({ target: chains.id, set: row });
  }
}

export interface ProjectWithKeyInput {
  email: string;
  projectName: string;
  chainIds: string[];
  keyName?: string;
  rules?: ApiKeyRules;
  internal?: boolean;
  expiresAt?: Date | null;
}

export interface ProjectWithKey {
  userId: string;
  projectId: string;
  keyId: string;
  apiKey: GeneratedApiKey;
}

/**
 * Creates a verified user who owns a project on the given chains with one key. Used by the first
 * start's demo and by tests that need a working key without going through the dashboard.
 */
export async function createProjectWithKey(
  db: Database,
  input: ProjectWithKeyInput,
): Promise<ProjectWithKey> {
  return db.transaction(async (tx) => {
    const [user] = await tx
      .insert(users)
      .values({ email: input.email, emailVerifiedAt: new Date() })
      .onConflictDoUpdate({ target: users.email, set: { updatedAt: new Date() } })
      .returning({ id: users.id });
    if (!user) {
      throw new Error("user insert returned no row");
    }
    const [project] = await tx
      .insert(projects)
      .values({ name: input.projectName, ownerId: user.id })
      .returning({ id: projects.id });
    if (!project) {
      throw new Error("project insert returned no row");
    }
    await tx
      .insert(projectMembers)
      .values({ projectId: project.id, userId: user.id, role: "owner" });
    if (input.chainIds.length > 0) {
      await tx
        .insert(projectChains)
        .values(input.chainIds.map((chainId) => ({ projectId: project.id, chainId })));
    }
    const apiKey = generateApiKey();
    const [key] = await tx
      .insert(apiKeys)
      .values({
        projectId: project.id,
        name: input.keyName ?? "default",
        keyHash: apiKey.hash,
        displayPrefix: apiKey.displayPrefix,
        lastFour: apiKey.lastFour,
        rules: input.rules ?? {},
        internal: input.internal ?? false,
        expiresAt: input.expiresAt ?? null,
        createdBy: user.id,
      })
      .returning({ id: apiKeys.id });
    if (!key) {
      throw new Error("key insert returned no row");
    }
    return { userId: user.id, projectId: project.id, keyId: key.id, apiKey };
  });
}

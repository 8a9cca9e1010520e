import type { Database } from "@viper/db/client";
import { type Chain, chains } from "@viper/db/schema/chains";
import { projectChains } from "@viper/db/schema/project-chains";
import { asc, eq } from "drizzle-orm";
import { AppError } from "../errors.ts";

/** A chain as the dashboard shows it. */
export interface ChainView {
  id: string;
  slug: string;
  name: string;
  evmChainId: number | null;
  supportsWebsocket: boolean;
}

export function toChainView(chain: Chain): ChainView {
  return {
    id: chain.id,
    slug: chain.slug,
    name: chain.name,
    evmChainId: chain.evmChainId,
    supportsWebsocket: chain.supportsWebsocket,
  };
}

/** Every chain the portal serves now, by name. */
export async function enabledChains(db: Pick<Database, "select">): Promise<Chain[]> {
  return db.select().from(chains).where(eq(chains.enabled, true)).orderBy(asc(chains.name));
}

/**
 * Turns chain names (Viper ids or slugs) into Viper ids. Throws CHAIN_UNAVAILABLE naming the
 * ones that are unknown or no longer served.
 */
export async function resolveChainIds(
  db: Pick<Database, "select">,
  names: string[],
): Promise<string[]> {
  if (names.length === 0) {
    return [];
  }
  const served = await enabledChains(db);
  const byName = new Map<string, string>();
  for (const chain of served) {
    byName.set(chain.id, chain.id);
    byName.set(chain.slug, chain.id);
  }
  const unknown = names.filter((name) => !byName.has(name));
  if (unknown.length > 0) {
    throw new AppError("CHAIN_UNAVAILABLE", {
      message: `These chains are unknown or not served: ${unknown.join(", ")}.`,
    });
  }
  return [...new Set(names.map((name) => byName.get(name) ?? name))];
}

/** The chains a project chose, with their details, by name. */
export async function chainsOfProject(
  db: Pick<Database, "select">,
  projectId: string,
): Promise<Chain[]> {
  const rows = await db
    .select({ chain: chains })
    .from(projectChains)
    .innerJoin(chains, eq(chains.id, projectChains.chainId))
    .where(eq(projectChains.projectId, projectId))
    .orderBy(asc(chains.name));
  return rows.map((row) => row.chain);
}

/**
 * Resolves a key's allowed chains and checks they are among the project's; a key cannot reach
 * a chain its project did not choose.
 */
export async function resolveKeyChains(
  db: Pick<Database, "select">,
  projectId: string,
  names: string[] | undefined,
): Promise<string[] | undefined> {
  if (!names?.length) {
    return undefined;
  }
  const ids = await resolveChainIds(db, names);
  const projectIds = new Set((await chainsOfProject(db, projectId)).map((chain) => chain.id));
  const outside = ids.filter((id) => !projectIds.has(id));
  if (outside.length > 0) {
    throw new AppError("CHAIN_UNAVAILABLE", {
      message: `These chains are not among the project's chains: ${outside.join(", ")}.`,
    });
  }
  return ids;
}

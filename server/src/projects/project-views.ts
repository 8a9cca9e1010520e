import type { Chain } from "@viper/db/schema/chains";
import type { ProjectRole } from "@viper/db/schema/project-members";
import type { Project } from "@viper/db/schema/projects";
import { type ChainView, toChainView } from "./chains.ts";
import { allowanceOf, type TierAllowance } from "./tiers.ts";

/** A project in the caller's list. */
export interface ProjectSummary {
  id: string;
  name: string;
  tier: string;
  role: ProjectRole;
  chainIds: string[];
  createdAt: string;
}

/** A project's page: its settings, chains, the tier's allowance and how much of it is used. */
export interface ProjectDetails extends ProjectSummary {
  ownerId: string;
  defaultZone: string;
  allowedOrigins: string[];
  note: string | null;
  chains: ChainView[];
  limits: TierAllowance;
  usage: { keys: number; members: number };
  updatedAt: string;
}

export function toProjectSummary(
  project: Project,
  role: ProjectRole,
  chainIds: string[],
): ProjectSummary {
  return {
    id: project.id,
    name: project.name,
    tier: project.tier,
    role,
    chainIds,
    createdAt: project.createdAt.toISOString(),
  };
}

export function toProjectDetails(
  project: Project,
  role: ProjectRole,
  chains: Chain[],
  usage: ProjectDetails["usage"],
): ProjectDetails {
  return {
    ...toProjectSummary(project, role, chains.map((chain) => chain.id).sort()),
    ownerId: project.ownerId,
    defaultZone: project.defaultZone,
    allowedOrigins: project.allowedOrigins,
    note: project.note,
    chains: chains.map(toChainView),
    limits: allowanceOf(project.tier),
    usage,
    updatedAt: project.updatedAt.toISOString(),
  };
}

/**
 * What a project may hold, by its tier (projects.tier). Request rates are not here: the relay's
 * rate limiter owns them (relay/src/rate-limit/config.ts), and a key's own ratePerSecond can
 * only lower its tier's key rate there.
 */
export interface TierAllowance {
  /** Keys that are not revoked (expired ones count until revoked). */
  maxKeys: number;
  /** Members plus open invitations. */
  maxMembers: number;
}

export const tierAllowances: Record<string, TierAllowance> = {
  free: { maxKeys: 5, maxMembers: 3 },
  growth: { maxKeys: 25, maxMembers: 10 },
  scale: { maxKeys: 200, maxMembers: 50 },
};

/** The free tier's allowance serves any tier name this table does not know. */
export function allowanceOf(tier: string): TierAllowance {
  const known = Object.hasOwn(tierAllowances, tier) ? tierAllowances[tier] : undefined;
  return known ?? { maxKeys: 5, maxMembers: 3 };
}

/**
 * Projects one user may own at a time; keeps a single account from filling the database.
 * TODO: make this a per-plan setting once billing exists (issue on plans and billing).
 */
export const maxOwnedProjects = 10;

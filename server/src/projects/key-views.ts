import type { ApiKey, ApiKeyRules } from "@viper/db/schema/api-keys";

/** A key as the dashboard lists it: never the secret, only its prefix and last four. */
export interface KeyView {
  id: string;
  name: string;
  /** e.g. "vpr_live_...a1B2", to tell keys apart. */
  masked: string;
  displayPrefix: string;
  lastFour: string;
  status: "active" | "expired" | "revoked";
  rules: ApiKeyRules;
  expiresAt: string | null;
  revokedAt: string | null;
  /** Until when the secret replaced by the last regeneration still works; null when it does not. */
  previousSecretValidUntil: string | null;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The display form of a key: its prefix and last four around an ellipsis. */
export function maskedKey(key: Pick<ApiKey, "displayPrefix" | "lastFour">): string {
  return `${key.displayPrefix}...${key.lastFour}`;
}

export function toKeyView(key: ApiKey, now: Date = new Date()): KeyView {
  const graceActive =
    key.revokedAt === null &&
    key.previousKeyHash !== null &&
    key.previousKeyExpiresAt !== null &&
    key.previousKeyExpiresAt > now;
  return {
    id: key.id,
    name: key.name,
    masked: maskedKey(key),
    displayPrefix: key.displayPrefix,
    lastFour: key.lastFour,
    status: statusOf(key, now),
    rules: key.rules,
    expiresAt: key.expiresAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
    previousSecretValidUntil: graceActive
      ? (key.previousKeyExpiresAt?.toISOString() ?? null)
      : null,
    createdBy: key.createdBy,
    createdAt: key.createdAt.toISOString(),
    updatedAt: key.updatedAt.toISOString(),
  };
}

function statusOf(key: ApiKey, now: Date): KeyView["status"] {
  if (key.revokedAt !== null) {
    return "revoked";
  }
  return key.expiresAt !== null && key.expiresAt <= now ? "expired" : "active";
}

import type { KeyValueStore } from "@viper/shared/store";

/**
 * Access tokens signed out before they expire. An entry lives until the token would have expired
 * anyway, so the list stays as small as the number of tokens signed out in the last 15 minutes.
 */
export class AccessTokenDenyList {
  constructor(private readonly store: KeyValueStore) {}

  /** Refuses the token with this jti from now until its expiry. */
  async deny(jti: string, expiresAt: Date): Promise<void> {
    const ttlMs = expiresAt.getTime() - Date.now();
    if (ttlMs > 0) {
      await this.store.set(key(jti), "1", ttlMs);
    }
  }

  async isDenied(jti: string): Promise<boolean> {
    return (await this.store.get(key(jti))) !== null;
  }
}

function key(jti: string): string {
  return `auth:deny:${jti}`;
}

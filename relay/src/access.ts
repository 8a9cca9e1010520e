import { RelayError } from "./errors.ts";
import type { KeyRecord } from "./key-record.ts";
import { keyRulesOf } from "./key-rules.ts";

/**
 * Refuses a key that is missing, revoked, expired or whose project was deleted; returns the
 * record narrowed to non-null otherwise.
 */
export function assertUsableKey(record: KeyRecord | null, now = Date.now()): KeyRecord {
  if (record === null || record.projectDeleted) {
    throw new RelayError("unknown_key");
  }
  if (record.revokedAt !== null && record.revokedAt <= now) {
    throw new RelayError("key_revoked");
  }
  if (record.expiresAt !== null && record.expiresAt <= now) {
    throw new RelayError("key_expired");
  }
  return record;
}

/** Where a request comes from and what it asks for, as the key's rules judge it. */
export interface RequestScope {
  chainId: string;
  origin: string | null;
  clientIp: string | null;
}

/**
 * Refuses a request the key's rules or its project's settings do not admit: caller address,
 * origin, then chain. Methods are judged per item (see methodAllowed) so that one forbidden
 * method does not sink a whole batch.
 */
export function assertScopeAllowed(record: KeyRecord, scope: RequestScope): void {
  const verdict = keyRulesOf(record).check({ ...scope, methods: [] });
  if (!verdict.ok) {
    throw new RelayError(verdict.violation);
  }
}

/** True when the key's rules admit this JSON-RPC method. */
export function methodAllowed(record: KeyRecord, method: string): boolean {
  return keyRulesOf(record).allowsMethod(method);
}

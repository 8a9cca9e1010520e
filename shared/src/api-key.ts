import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * API keys look like `vpr_live_<32 chars of secret><4 chars of checksum>`. The prefix tells a
 * reader (and secret scanners) what the string is; the checksum lets the relay refuse a mistyped
 * key without a database read.
 */
export const apiKeyPrefixes = { live: "vpr_live_", test: "vpr_test_" } as const;
export type ApiKeyEnvironment = keyof typeof apiKeyPrefixes;

const secretChars = 32; // 24 random bytes in base64url: 192 bits
const checksumChars = 4;
const keyPattern = /^vpr_(live|test)_[A-Za-z0-9_-]{36}$/;

function checksumOf(prefixAndSecret: string): string {
  return createHash("sha256").update(prefixAndSecret).digest("base64url").slice(0, checksumChars);
}

export interface GeneratedApiKey {
  /** The key itself: shown to its owner once, never stored. */
  key: string;
  /** SHA-256 of the key, hex: what the database stores and looks up by. */
  hash: string;
  displayPrefix: string;
  lastFour: string;
}

/** Makes a new key from the CSPRNG. */
export function generateApiKey(environment: ApiKeyEnvironment = "live"): GeneratedApiKey {
  const prefix = apiKeyPrefixes[environment];
  const body = prefix + randomBytes(24).toString("base64url");
  const key = body + checksumOf(body);
  return { key, hash: hashApiKey(key), displayPrefix: prefix, lastFour: key.slice(-4) };
}

/** True when the string has a key's shape and its checksum matches; no database involved. */
export function isWellFormedApiKey(candidate: string): boolean {
  if (!keyPattern.test(candidate)) {
    return false;
  }
  const body = candidate.slice(0, -checksumChars);
  const expected = Buffer.from(checksumOf(body));
  const given = Buffer.from(candidate.slice(-checksumChars));
  return timingSafeEqual(expected, given);
}

/** SHA-256 hex of a key, the form keys are stored and looked up in. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** Compares two key hashes in constant time. */
export function sameKeyHash(a: string, b: string): boolean {
  const left = Buffer.from(a, "hex");
  const right = Buffer.from(b, "hex");
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Length of the secret part, for documentation and tests. */
export const apiKeySecretLength = secretChars;

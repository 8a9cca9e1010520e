import { createHash, randomBytes } from "node:crypto";

/** A random token for links and refresh tokens: 32 bytes from the CSPRNG, base64url. */
export function randomToken(prefix = ""): string {
  return prefix + randomBytes(32).toString("base64url");
}

/**
 * SHA-256 hex of a high-entropy secret, the form tokens and session ids are stored in. A fast
 * hash suffices because the secrets are random (nothing to guess), unlike passwords.
 */
export function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

import { generateSigningJwk } from "./auth/access-tokens.ts";

/**
 * Prints a new Ed25519 private JWK for JWT_SIGNING_KEY: `bun run server/src/generate-jwt-key.ts
 * [kid]`. To rotate, move the old key's public half (drop "d") into JWT_VERIFICATION_KEYS and
 * keep it there for one access-token lifetime.
 */
async function main(): Promise<void> {
  const jwk = await generateSigningJwk(
    process.argv[2] ?? `k-${new Date().toISOString().slice(0, 10)}`,
  );
  process.stdout.write(`${JSON.stringify(jwk)}\n`);
}

if (import.meta.main) {
  await main();
}

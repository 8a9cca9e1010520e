import type { PlatformRole } from "@viper/db/schema/users";
import {
  type CryptoKey,
  errors,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTHeaderParameters,
  jwtVerify,
  SignJWT,
} from "jose";
import { z } from "zod";
import { AppError } from "../errors.ts";

/**
 * What an access token says, in its JWT claims:
 * - `sub`: the user id; `sid`: the public id of the session the token belongs to;
 * - `role`: the platform role when it was issued (the server re-reads it on every request);
 * - `jti`: a unique id, put on the deny list when the token is signed out;
 * - `iat`/`exp`: issued and expiry times (15 minutes apart by default);
 * - `iss`/`aud`: this server and its API, so tokens of other systems are refused.
 * The header names the key (`kid`) and `typ: at+jwt` (RFC 9068), so an ID token signed with the
 * same key is never taken for an access token.
 */
export interface AccessTokenClaims {
  sub: string;
  sid: string;
  role: PlatformRole;
  jti: string;
  iat: number;
  exp: number;
}

export const accessTokenType = "at+jwt";
const supportedAlgorithms = ["EdDSA", "HS256"] as const;
type SupportedAlgorithm = (typeof supportedAlgorithms)[number];

const jwkSchema = z.looseObject({
  kty: z.enum(["OKP", "oct"]),
  kid: z.string().min(1),
  alg: z.enum(supportedAlgorithms),
});

interface VerificationKey {
  alg: SupportedAlgorithm;
  key: CryptoKey | Uint8Array;
}

interface SigningKey extends VerificationKey {
  kid: string;
}

export interface AccessTokenOptions {
  /** A JSON private JWK; absent means a key made for this process only (never in production). */
  signingKey: string | undefined;
  /** A JSON array of JWKs of earlier keys, still accepted while their tokens live. */
  verificationKeys: string | undefined;
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

/** Signs and verifies access tokens with keys named by `kid`, so keys can rotate. */
export class AccessTokens {
  private constructor(
    private readonly signing: SigningKey,
    private readonly verifying: Map<string, VerificationKey>,
    private readonly options: AccessTokenOptions,
  ) {}

  /** Builds the key ring from config; throws a plain Error naming the bad setting. */
  static async create(options: AccessTokenOptions): Promise<AccessTokens> {
    const signingJwk = options.signingKey
      ? parseJwk(options.signingKey, "JWT_SIGNING_KEY")
      : await generateProcessKey();
    const signing = await importSigningKey(signingJwk);
    const verifying = new Map<string, VerificationKey>();
    verifying.set(signing.kid, await importVerificationKey(signingJwk));
    for (const jwk of parseJwkList(options.verificationKeys)) {
      verifying.set(String(jwk.kid), await importVerificationKey(jwk));
    }
    return new AccessTokens(signing, verifying, options);
  }

  /** Issues a token for a user's session; returns it with its jti and expiry. */
  async issue(input: { userId: string; sessionId: string; role: PlatformRole }) {
    const jti = crypto.randomUUID();
    const issuedAt = Math.floor(Date.now() / 1000);
    const expiresAt = issuedAt + this.options.ttlSeconds;
    const token = await new SignJWT({ sid: input.sessionId, role: input.role })
      .setProtectedHeader({ alg: this.signing.alg, kid: this.signing.kid, typ: accessTokenType })
      .setSubject(input.userId)
      .setJti(jti)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .sign(this.signing.key);
    return { token, jti, expiresAt: new Date(expiresAt * 1000) };
  }

  /** Verifies a token; throws TOKEN_EXPIRED or TOKEN_INVALID (keeping jose's error as cause). */
  async verify(token: string): Promise<AccessTokenClaims> {
    try {
      const { payload } = await jwtVerify(token, (header) => this.keyFor(header), {
        issuer: this.options.issuer,
        audience: this.options.audience,
        typ: accessTokenType,
        algorithms: [...supportedAlgorithms],
        requiredClaims: ["sub", "jti", "iat", "exp"],
      });
      return claimsSchema.parse(payload);
    } catch (cause) {
      if (cause instanceof errors.JWTExpired) {
        throw new AppError("TOKEN_EXPIRED", { cause });
      }
      throw new AppError("TOKEN_INVALID", { cause });
    }
  }

  private keyFor(header: JWTHeaderParameters): CryptoKey | Uint8Array {
    const entry = header.kid ? this.verifying.get(header.kid) : undefined;
    // The key decides the algorithm: a token cannot ask for HS256 with a public key as secret.
    if (!entry || entry.alg !== header.alg) {
      throw new errors.JWKSNoMatchingKey();
    }
    return entry.key;
  }
}

const claimsSchema = z.object({
  sub: z.string(),
  sid: z.string(),
  role: z.enum(["user", "admin"]),
  jti: z.string(),
  iat: z.number(),
  exp: z.number(),
});

function parseJwk(text: string, setting: string): JWK {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new Error(`${setting} is not JSON`, { cause });
  }
  const checked = jwkSchema.safeParse(value);
  if (!checked.success) {
    throw new Error(`${setting} must be a JWK with kty OKP or oct, a kid and alg EdDSA or HS256`);
  }
  return checked.data as JWK;
}

function parseJwkList(text: string | undefined): JWK[] {
  if (!text) {
    return [];
  }
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) {
    throw new Error("JWT_VERIFICATION_KEYS must be a JSON array of JWKs");
  }
  return parsed.map((item) => parseJwk(JSON.stringify(item), "JWT_VERIFICATION_KEYS[]"));
}

async function importSigningKey(jwk: JWK): Promise<SigningKey> {
  const alg = jwk.alg as SupportedAlgorithm;
  if (alg === "EdDSA" && !jwk.d) {
    throw new Error("JWT_SIGNING_KEY must be a private key (with d)");
  }
  const key = await importJWK(jwk, alg);
  return { alg, kid: String(jwk.kid), key };
}

async function importVerificationKey(jwk: JWK): Promise<VerificationKey> {
  const alg = jwk.alg as SupportedAlgorithm;
  if (alg === "HS256") {
    return { alg, key: await importJWK(jwk, alg) };
  }
  // Only the public half verifies, so a private signing key is stripped to it first.
  const { kty, crv, x } = jwk;
  return { alg, key: await importJWK({ kty, crv, x }, alg) };
}

/** A fresh Ed25519 key as a private JWK with a kid; tokens signed with it die with the process. */
export async function generateSigningJwk(kid = `k-${crypto.randomUUID()}`): Promise<JWK> {
  const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: "EdDSA" };
}

async function generateProcessKey(): Promise<JWK> {
  return generateSigningJwk(`process-${crypto.randomUUID()}`);
}

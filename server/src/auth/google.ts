import type { KeyValueStore } from "@viper/shared/store";
import {
  ArcticFetchError,
  CodeChallengeMethod,
  generateCodeVerifier,
  generateState,
  OAuth2Client,
  OAuth2RequestError,
} from "arctic";
import { createRemoteJWKSet, type JWTVerifyGetKey, jwtVerify } from "jose";
import { z } from "zod";
import { AppError } from "../errors.ts";
import { randomToken } from "./secrets.ts";

export interface GoogleSignInOptions {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUrl: string;
  issuers: string[];
  stateTtlSeconds: number;
}

/** What Google (or the configured OpenID provider) vouches for. */
export interface GoogleProfile {
  subject: string;
  email: string;
  name: string | undefined;
  picture: string | undefined;
}

const pendingSchema = z.object({
  codeVerifier: z.string(),
  nonce: z.string(),
  linkToUserId: z.string().nullable(),
});

const idTokenClaims = z.object({
  sub: z.string().min(1),
  nonce: z.string().optional(),
  email: z.string().optional(),
  email_verified: z.union([z.boolean(), z.literal("true"), z.literal("false")]).optional(),
  name: z.string().optional(),
  picture: z.string().optional(),
});

/**
 * Google sign-in as an OpenID Connect code flow with PKCE, through arctic's generic client so
 * the endpoints come from config (Google's by default, a local provider in tests). The state,
 * PKCE verifier and nonce wait in the store, keyed by state, and are taken exactly once.
 */
export class GoogleSignIn {
  private readonly client: OAuth2Client;
  private readonly jwks: JWTVerifyGetKey;

  constructor(
    private readonly store: KeyValueStore,
    private readonly options: GoogleSignInOptions,
  ) {
    this.client = new OAuth2Client(options.clientId, options.clientSecret, options.redirectUri);
    this.jwks = createRemoteJWKSet(new URL(options.jwksUrl));
  }

  /** Makes the URL to send the browser to; `linkToUserId` links Google to that account. */
  async start(linkToUserId: string | null): Promise<{ url: string; state: string }> {
    const state = generateState();
    const codeVerifier = generateCodeVerifier();
    const nonce = randomToken();
    const url = this.client.createAuthorizationURLWithPKCE(
      this.options.authorizationEndpoint,
      state,
      CodeChallengeMethod.S256,
      codeVerifier,
      ["openid", "email", "profile"],
    );
    url.searchParams.set("nonce", nonce);
    const pending = JSON.stringify({ codeVerifier, nonce, linkToUserId });
    await this.store.set(stateKey(state), pending, this.options.stateTtlSeconds * 1000);
    return { url: url.toString(), state };
  }

  /** Consumes the state, exchanges the code and verifies the ID token. */
  async finish(
    state: string,
    code: string,
  ): Promise<{ profile: GoogleProfile; linkToUserId: string | null }> {
    const stored = await this.store.take(stateKey(state));
    if (stored === null) {
      throw new AppError("OAUTH_STATE_INVALID");
    }
    const pending = pendingSchema.parse(JSON.parse(stored));
    const idToken = await this.exchange(code, pending.codeVerifier);
    const profile = await this.verifyIdToken(idToken, pending.nonce);
    return { profile, linkToUserId: pending.linkToUserId };
  }

  private async exchange(code: string, codeVerifier: string): Promise<string> {
    try {
      const tokens = await this.client.validateAuthorizationCode(
        this.options.tokenEndpoint,
        code,
        codeVerifier,
      );
      return tokens.idToken();
    } catch (cause) {
      if (cause instanceof OAuth2RequestError) {
        throw new AppError("OAUTH_CODE_INVALID", { cause });
      }
      if (cause instanceof ArcticFetchError) {
        throw new AppError("OAUTH_PROVIDER_UNAVAILABLE", { cause });
      }
      throw new AppError("ID_TOKEN_INVALID", { cause });
    }
  }

  private async verifyIdToken(idToken: string, nonce: string): Promise<GoogleProfile> {
    let claims: z.infer<typeof idTokenClaims>;
    try {
      const { payload } = await jwtVerify(idToken, this.jwks, {
        issuer: this.options.issuers,
        audience: this.options.clientId,
        requiredClaims: ["exp", "iat", "sub"],
      });
      claims = idTokenClaims.parse(payload);
    } catch (cause) {
      throw new AppError("ID_TOKEN_INVALID", { cause });
    }
    if (claims.nonce !== nonce) {
      throw new AppError("ID_TOKEN_INVALID", {
        message: "The identity token was not made for this sign-in.",
      });
    }
    const verified = claims.email_verified === true || claims.email_verified === "true";
    if (!claims.email || !verified) {
      throw new AppError("EMAIL_UNVERIFIED_AT_PROVIDER");
    }
    return {
      subject: claims.sub,
      email: claims.email,
      name: claims.name,
      picture: claims.picture?.startsWith("https://") ? claims.picture : undefined,
    };
  }
}

function stateKey(state: string): string {
  return `auth:oauth:google:${state}`;
}

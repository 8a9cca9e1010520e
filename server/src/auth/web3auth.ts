import { secp256k1 } from "@noble/curves/secp256k1.js";
import { createRemoteJWKSet, type JWTVerifyGetKey, jwtVerify } from "jose";
import { type Address, getAddress } from "viem";
import { publicKeyToAddress } from "viem/accounts";
import { z } from "zod";
import { AppError } from "../errors.ts";

/** What a verified Web3Auth ID token tells about its user. */
export interface Web3AuthIdentity {
  /** The Ethereum address the token proves, checksummed. */
  address: Address;
  /** Web3Auth's own user id (`userId`, else `sub`), for logs. */
  web3authUserId: string | undefined;
  name: string | undefined;
}

/**
 * Checks Web3Auth ID tokens. Behind an interface so a deployment can swap the check (another
 * Web3Auth network, a cached key set); tests use the real one against a local JWKS.
 *
 * @web3auth/node-sdk is not used: its server-side API (`connect` with a verifier and an ID token)
 * asks the Torus network for the user's private key, which a portal must never hold; verifying
 * the token only needs Web3Auth's published JWKS.
 */
export interface Web3AuthVerifier {
  verify(idToken: string): Promise<Web3AuthIdentity>;
}

export interface JwksWeb3AuthOptions {
  jwksUrl: string;
  /** The Web3Auth project's client id, the tokens' audience. */
  clientId: string;
  issuers: string[];
}

// Social logins carry the app key's public key (`public_key`, secp256k1 or ed25519); external
// wallets carry the wallet's `address`.
const walletClaim = z.object({
  type: z.string().optional(),
  curve: z.string().optional(),
  public_key: z.string().optional(),
  address: z.string().optional(),
});

const web3authClaims = z.object({
  wallets: z.array(walletClaim).default([]),
  userId: z.string().optional(),
  sub: z.string().optional(),
  name: z.string().optional(),
});

/** Verifies ES256 ID tokens against Web3Auth's JWKS (a local one in tests). */
export class JwksWeb3AuthVerifier implements Web3AuthVerifier {
  private readonly jwks: JWTVerifyGetKey;

  constructor(private readonly options: JwksWeb3AuthOptions) {
    this.jwks = createRemoteJWKSet(new URL(options.jwksUrl));
  }

  async verify(idToken: string): Promise<Web3AuthIdentity> {
    let claims: z.infer<typeof web3authClaims>;
    try {
      const { payload } = await jwtVerify(idToken, this.jwks, {
        algorithms: ["ES256"],
        audience: this.options.clientId,
        issuer: this.options.issuers,
        requiredClaims: ["exp", "iat"],
      });
      claims = web3authClaims.parse(payload);
    } catch (cause) {
      throw new AppError("ID_TOKEN_INVALID", { cause });
    }
    const address = ethereumAddressOf(claims.wallets);
    if (!address) {
      throw new AppError("WALLET_CLAIM_MISSING");
    }
    return { address, web3authUserId: claims.userId ?? claims.sub, name: claims.name };
  }
}

/** The first Ethereum address among the token's wallets: given, or derived from a public key. */
export function ethereumAddressOf(wallets: z.infer<typeof walletClaim>[]): Address | null {
  for (const wallet of wallets) {
    if (wallet.address && /^0x[0-9a-fA-F]{40}$/.test(wallet.address)) {
      return getAddress(wallet.address);
    }
    if (wallet.public_key && wallet.curve === "secp256k1") {
      const derived = addressFromPublicKey(wallet.public_key);
      if (derived) {
        return derived;
      }
    }
  }
  return null;
}

function addressFromPublicKey(publicKey: string): Address | null {
  try {
    const hex = publicKey.replace(/^0x/, "");
    const uncompressed = secp256k1.Point.fromHex(hex).toHex(false);
    return publicKeyToAddress(`0x${uncompressed}`);
  } catch {
    return null;
  }
}

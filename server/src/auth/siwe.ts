import type { KeyValueStore } from "@viper/shared/store";
import { type Address, getAddress, type Hex, verifyMessage } from "viem";
import { generateSiweNonce, parseSiweMessage, validateSiweMessage } from "viem/siwe";
import { AppError } from "../errors.ts";

export interface SiweOptions {
  /** The host the message must name (the dashboard's, as the wallet shows it to the user). */
  domain: string;
  /** The origin the message's URI must belong to. */
  uriOrigin: string;
  chainIds: number[];
  nonceTtlSeconds: number;
}

/** What the dashboard needs to build a message for the wallet to sign. */
export interface SiweChallenge {
  nonce: string;
  domain: string;
  uri: string;
  chainIds: number[];
  expiresAt: string;
}

/**
 * Sign-In with Ethereum (EIP-4361) over viem's helpers. The server hands out nonces, each good
 * for one sign-in within a few minutes; a message is accepted only for our domain and chains.
 * TODO: only EOA signatures (ecrecover) are checked; smart-contract wallets (EIP-1271) need an RPC
 * client for verifySiweMessage; add one when the portal relays to the message's chain.
 */
export class SiweVerifier {
  constructor(
    private readonly store: KeyValueStore,
    private readonly options: SiweOptions,
  ) {}

  /** Issues a fresh nonce that the next message must carry. */
  async challenge(): Promise<SiweChallenge> {
    const nonce = generateSiweNonce();
    const ttlMs = this.options.nonceTtlSeconds * 1000;
    await this.store.set(nonceKey(nonce), "1", ttlMs);
    return {
      nonce,
      domain: this.options.domain,
      uri: this.options.uriOrigin,
      chainIds: this.options.chainIds,
      expiresAt: new Date(Date.now() + ttlMs).toISOString(),
    };
  }

  /** Checks a signed message and returns the checksummed address that signed it. */
  async verify(message: string, signature: Hex): Promise<Address> {
    const parsed = this.parseValid(message);
    // Taken before the signature check: a nonce is spent by any attempt, so it cannot be probed.
    if ((await this.store.take(nonceKey(parsed.nonce))) === null) {
      throw new AppError("SIWE_NONCE_INVALID");
    }
    const address = parsed.address;
    const signed = await verifyMessage({ address, message, signature }).catch(() => false);
    if (!signed) {
      throw new AppError("SIWE_SIGNATURE_INVALID");
    }
    return address;
  }

  /** A parsed message that names our domain, one of our chains and our origin, and is in date. */
  private parseValid(message: string): { address: Address; nonce: string } {
    try {
      const parsed = parseSiweMessage(message);
      const valid =
        parsed.address !== undefined &&
        parsed.nonce !== undefined &&
        parsed.chainId !== undefined &&
        this.options.chainIds.includes(parsed.chainId) &&
        parsed.uri !== undefined &&
        sameOrigin(parsed.uri, this.options.uriOrigin) &&
        validateSiweMessage({ message: parsed, domain: this.options.domain, time: new Date() });
      if (valid && parsed.address && parsed.nonce) {
        return { address: getAddress(parsed.address), nonce: parsed.nonce };
      }
    } catch (cause) {
      throw new AppError("SIWE_MESSAGE_INVALID", { cause });
    }
    throw new AppError("SIWE_MESSAGE_INVALID");
  }
}

function sameOrigin(uri: string, origin: string): boolean {
  try {
    return new URL(uri).origin === new URL(origin).origin;
  } catch {
    return false;
  }
}

function nonceKey(nonce: string): string {
  return `auth:siwe:nonce:${nonce}`;
}

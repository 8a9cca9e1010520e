import { type KeyObject, randomBytes } from "node:crypto";
import {
  privateKeyObject,
  publicKeyFromSeed,
  publicKeyObject,
  signBytes,
  verifyBytes,
} from "./ed25519.ts";
import { ProtocolError } from "./errors.ts";
import { bytesToHex, decodeHex, hexToBytes, isHexOfLength, sha256Bytes } from "./hash.ts";

/** An ed25519 key as Viper writes it; all fields lower-case hex. */
export interface KeyPair {
  /** 64 bytes: the 32-byte seed followed by the public key. */
  privateKeyHex: string;
  publicKeyHex: string;
  addressHex: string;
}

const SEED_BYTES = 32;
const PUBLIC_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;
const HASH_BYTES = 32;
const ADDRESS_BYTES = 20;

/** The address of a public key: the first 20 bytes of SHA-256(public key), lower-case hex. */
export function addressOf(publicKeyHex: string): string {
  const publicKey = decodeHex(publicKeyHex, PUBLIC_KEY_BYTES, "public key", "bad_key");
  return bytesToHex(sha256Bytes(publicKey).subarray(0, ADDRESS_BYTES));
}

function keyPairFromSeed(seed: Uint8Array): KeyPair {
  const publicKeyHex = bytesToHex(publicKeyFromSeed(seed));
  return {
    privateKeyHex: bytesToHex(seed) + publicKeyHex,
    publicKeyHex,
    addressHex: addressOf(publicKeyHex),
  };
}

/**
 * Builds a key pair from a Viper private key (64 bytes hex: seed + public key) or a bare 32-byte
 * seed. Upper-case hex is accepted and normalised. Throws ProtocolError("bad_key") on anything
 * else, including a 64-byte key whose public half does not belong to its seed.
 */
export function keyPairFromPrivateKey(hex: string): KeyPair {
  const normalised = typeof hex === "string" ? hex.trim().toLowerCase() : "";
  if (isHexOfLength(normalised, SEED_BYTES)) {
    return keyPairFromSeed(hexToBytes(normalised));
  }
  if (!isHexOfLength(normalised, SEED_BYTES + PUBLIC_KEY_BYTES)) {
    throw new ProtocolError(
      "bad_key",
      "private key must be 128 hex characters (seed + public key) or a 64-character seed",
    );
  }
  const pair = keyPairFromSeed(hexToBytes(normalised.slice(0, SEED_BYTES * 2)));
  if (pair.publicKeyHex !== normalised.slice(SEED_BYTES * 2)) {
    throw new ProtocolError("bad_key", "public half of the private key does not match its seed");
  }
  return pair;
}

/** A fresh key pair from the platform CSPRNG. */
export function generateKeyPair(): KeyPair {
  return keyPairFromSeed(randomBytes(SEED_BYTES));
}

/** Signs the 32 raw bytes of a hash (not its hex text) with ed25519; returns the signature hex. */
export function signHash(hashHex: string, key: KeyPair): string {
  const hash = decodeHex(hashHex, HASH_BYTES, "hash");
  const seedHex = key.privateKeyHex.slice(0, SEED_BYTES * 2);
  const signer: KeyObject = privateKeyObject(seedHex, () =>
    decodeHex(seedHex, SEED_BYTES, "seed", "bad_key"),
  );
  return bytesToHex(signBytes(hash, signer));
}

/**
 * Checks an ed25519 signature over the 32 raw bytes of a hash with RFC 8032 rules (no ZIP-215
 * leniency). Returns false for any malformed input; never throws.
 */
export function verifyHashSignature(
  hashHex: string,
  signatureHex: string,
  publicKeyHex: string,
): boolean {
  if (
    !isHexOfLength(hashHex, HASH_BYTES) ||
    !isHexOfLength(signatureHex, SIGNATURE_BYTES) ||
    !isHexOfLength(publicKeyHex, PUBLIC_KEY_BYTES)
  ) {
    return false;
  }
  try {
    return verifyBytes(
      hexToBytes(hashHex),
      hexToBytes(signatureHex),
      publicKeyObject(publicKeyHex),
    );
  } catch {
    return false;
  }
}

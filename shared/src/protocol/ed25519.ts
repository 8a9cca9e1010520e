import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { hexToBytes } from "@noble/hashes/utils.js";

// ed25519 through node:crypto (BoringSSL in Bun): about a hundred times faster than a JavaScript
// implementation, which matters because every relay costs one signature and one check. Like Go's
// crypto/ed25519 (the reference), it verifies without cofactor and refuses a non-canonical S.

// DER headers that wrap a raw 32-byte ed25519 seed (PKCS#8) or public key (SPKI).
const pkcs8Header = hexToBytes("302e020100300506032b657004220420");
const spkiHeader = hexToBytes("302a300506032b6570032100");

// A portal holds a handful of its own keys and meets a few dozen servicer keys per session;
// caching their parsed forms saves a DER parse per relay. The caps keep a hostile stream of
// fresh keys from growing memory without bound.
const maxCachedKeys = 1024;
const privateKeys = new Map<string, KeyObject>();
const publicKeys = new Map<string, KeyObject>();

function remember(cache: Map<string, KeyObject>, hex: string, key: KeyObject): KeyObject {
  if (cache.size >= maxCachedKeys) {
    cache.clear();
  }
  cache.set(hex, key);
  return key;
}

function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  return createPrivateKey({
    key: Buffer.concat([pkcs8Header, seed]),
    format: "der",
    type: "pkcs8",
  });
}

/** The parsed private key for a seed given as hex; `decode` validates it on a cache miss. */
export function privateKeyObject(seedHex: string, decode: () => Uint8Array): KeyObject {
  return privateKeys.get(seedHex) ?? remember(privateKeys, seedHex, privateKeyFromSeed(decode()));
}

/** The parsed public key for 32 bytes of lower-case hex (validated by the caller). */
export function publicKeyObject(publicKeyHex: string): KeyObject {
  const cached = publicKeys.get(publicKeyHex);
  if (cached) {
    return cached;
  }
  const key = createPublicKey({
    key: Buffer.concat([spkiHeader, hexToBytes(publicKeyHex)]),
    format: "der",
    type: "spki",
  });
  return remember(publicKeys, publicKeyHex, key);
}

/** The 32-byte public key of a 32-byte seed. */
export function publicKeyFromSeed(seed: Uint8Array): Uint8Array {
  const spki = createPublicKey(privateKeyFromSeed(seed)).export({ format: "der", type: "spki" });
  return new Uint8Array(spki.subarray(spkiHeader.length));
}

export function signBytes(message: Uint8Array, key: KeyObject): Uint8Array {
  return new Uint8Array(sign(null, message, key));
}

export function verifyBytes(message: Uint8Array, signature: Uint8Array, key: KeyObject): boolean {
  return verify(null, message, key, signature);
}

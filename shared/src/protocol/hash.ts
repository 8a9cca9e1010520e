import { sha256 } from "@noble/hashes/sha2.js";
import { sha3_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { ProtocolError } from "./errors.ts";

/** Lower-case hex of exactly `bytes` bytes. */
export function isHexOfLength(value: string, bytes: number): boolean {
  return value.length === bytes * 2 && /^[0-9a-f]*$/.test(value);
}

/**
 * Decodes lower-case hex of exactly `bytes` bytes, or throws ProtocolError(`code`) naming `what`.
 */
export function decodeHex(
  value: string,
  bytes: number,
  what: string,
  code: "bad_hex" | "bad_key" = "bad_hex",
): Uint8Array {
  if (!isHexOfLength(value, bytes)) {
    throw new ProtocolError(code, `${what} must be ${bytes * 2} lower-case hex characters`);
  }
  return hexToBytes(value);
}

/** SHA3-256 (FIPS 202) as lower-case hex; a string is hashed as its UTF-8 bytes. */
export function sha3Hex(data: string | Uint8Array): string {
  return bytesToHex(sha3_256(typeof data === "string" ? utf8ToBytes(data) : data));
}

/** SHA-256 of raw bytes. */
export function sha256Bytes(data: Uint8Array): Uint8Array {
  return sha256(data);
}

export { bytesToHex, hexToBytes };

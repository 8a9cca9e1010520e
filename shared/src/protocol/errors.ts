/**
 * Why a protocol operation was refused:
 * - `bad_key`: a private or public key is not valid hex of the right length, or its halves disagree.
 * - `bad_hex`: a hash, signature or id is not lower-case hex of the expected length.
 * - `bad_input`: a value given to a builder is out of range (negative height, unsafe integer…).
 * - `bad_relay`: a relay body on the wire is not valid JSON of the relay shape.
 */
export type ProtocolErrorCode = "bad_key" | "bad_hex" | "bad_input" | "bad_relay";

/** A typed error for everything this module refuses; `cause` keeps the underlying failure. */
export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ProtocolError";
    this.code = code;
  }
}

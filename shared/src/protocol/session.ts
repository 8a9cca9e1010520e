import { ProtocolError } from "./errors.ts";

/**
 * The height of the session that is current at chain height `height`: sessions start at
 * 1, 1 + n, 1 + 2n… for n = blocksPerSession, and a height that is a multiple of n is the last
 * block of the session that began n - 1 blocks earlier.
 */
export function latestSessionHeight(height: number, blocksPerSession: number): number {
  if (!Number.isSafeInteger(blocksPerSession) || blocksPerSession < 1) {
    throw new ProtocolError(
      "bad_input",
      `blocks per session must be >= 1, got ${blocksPerSession}`,
    );
  }
  if (!Number.isSafeInteger(height) || height < 1) {
    throw new ProtocolError("bad_input", `height must be an integer >= 1, got ${height}`);
  }
  if (height % blocksPerSession === 0) {
    return height - blocksPerSession + 1;
  }
  return Math.floor(height / blocksPerSession) * blocksPerSession + 1;
}

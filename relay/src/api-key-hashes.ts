import { hashApiKey, isWellFormedApiKey } from "@viper/shared/api-key";

// Enough for every key that is busy at once; past it the memo starts over rather than keep
// track of age, which costs more than the few hashes it saves.
const MAX_REMEMBERED = 10_000;

/**
 * The key hash of each well-formed API key the relay was sent, remembered: checking a key's
 * checksum and hashing it take two SHA-256 runs, a few percent of a request's CPU, for the same
 * few keys over and over. Malformed keys are not remembered, so a stream of made-up keys cannot
 * fill the memo. The memo holds raw keys, like the requests that bring them, in this process
 * only; nothing here is logged or stored.
 */
export class ApiKeyHashes {
  readonly #hashes = new Map<string, string>();

  /** The key's hash, or null when the key is malformed (fails its shape or checksum). */
  hashOf(apiKey: string): string | null {
    const known = this.#hashes.get(apiKey);
    if (known !== undefined) {
      return known;
    }
    if (!isWellFormedApiKey(apiKey)) {
      return null;
    }
    if (this.#hashes.size >= MAX_REMEMBERED) {
      this.#hashes.clear();
    }
    const hash = hashApiKey(apiKey);
    this.#hashes.set(apiKey, hash);
    return hash;
  }
}

import type { Aat } from "@viper/shared/protocol";
import { verifyAat } from "@viper/shared/protocol";

/**
 * The tokens a servicer has already found valid. A requestor sends the same AAT with every relay
 * of a session, and checking its signature costs as much as checking the proof's, so a servicer
 * checks each token once. The whole token, signature included, is the cache key: a token that
 * differs in any field (a forged signature over a known pair of keys, say) is checked afresh.
 * Only valid tokens are kept, so a stream of bad ones costs a check each and takes no memory.
 */
export class VerifiedAats {
  readonly #valid = new Set<string>();
  readonly #capacity: number;

  constructor(capacity = 4_096) {
    this.#capacity = capacity;
  }

  /** Whether the token's signature is valid for its client key. */
  verify(aat: Aat): boolean {
    const key = `${aat.version}|${aat.requestor_pub_key}|${aat.client_pub_key}|${aat.signature}`;
    if (this.#valid.has(key)) {
      return true;
    }
    if (!verifyAat(aat)) {
      return false;
    }
    // Forgetting all at once is crude but bounded; the live tokens are back after one check each.
    if (this.#valid.size >= this.#capacity) {
      this.#valid.clear();
    }
    this.#valid.add(key);
    return true;
  }
}

import type { Database } from "@viper/db/client";
import { chains } from "@viper/db/schema/chains";

/** A chain the portal serves, as the relay needs it. */
export interface ChainInfo {
  /** The Viper relay chain id, e.g. "0021". */
  id: string;
  slug: string;
  enabled: boolean;
}

// The chains table is small and changes rarely (an operator adds a chain), so the whole table is
// held in memory and read again after this long.
const REFRESH_MS = 60_000;
// A name that matches no chain triggers a re-read at most this often, so a chain added a moment
// ago is found quickly while a stream of bad names does not hammer the database.
const MISS_REFRESH_MS = 5_000;

/** Resolves the chain named in a relay URL, by slug ("eth-devnet") or Viper id ("0021"). */
export class ChainDirectory {
  readonly #db: Database;
  #byName = new Map<string, ChainInfo>();
  #loadedAt = Number.NEGATIVE_INFINITY;
  #loading: Promise<void> | null = null;

  constructor(db: Database) {
    this.#db = db;
  }

  /** The chain with this slug or id, or null when the portal has none by that name. */
  async resolve(name: string): Promise<ChainInfo | null> {
    const key = name.toLowerCase();
    const age = Date.now() - this.#loadedAt;
    const known = this.#byName.get(key);
    if (known) {
      if (age > REFRESH_MS) {
        // Serve what we have and refresh behind the request; a failed refresh retries next time.
        this.#reload().catch(() => undefined);
      }
      return known;
    }
    if (age > MISS_REFRESH_MS) {
      await this.#reload();
    }
    return this.#byName.get(key) ?? null;
  }

  #reload(): Promise<void> {
    if (!this.#loading) {
      this.#loading = this.#read().finally(() => {
        this.#loading = null;
      });
    }
    return this.#loading;
  }

  async #read(): Promise<void> {
    const rows = await this.#db
      .select({ id: chains.id, slug: chains.slug, enabled: chains.enabled })
      .from(chains);
    const byName = new Map<string, ChainInfo>();
    for (const row of rows) {
      byName.set(row.id.toLowerCase(), row);
      byName.set(row.slug.toLowerCase(), row);
    }
    this.#byName = byName;
    this.#loadedAt = Date.now();
  }
}

import { createHash } from "node:crypto";
import type { ApiKeyRules } from "@viper/db/schema/api-keys";
import { apiKeyPrefixes } from "@viper/shared/api-key";
import { type SQL, sql } from "drizzle-orm";

/**
 * Bulk keys are derived from their index, so the database can make a million of them in one
 * INSERT ... SELECT and the bench can rebuild any of them here without storing them. They have
 * the real key format (prefix, 32-character secret, checksum), so the relay checks them as it
 * checks any key. The secret is not secret: these keys exist only in the bench database.
 */
const seedText = "viper-bench-key-";

/** The key with bulk index `index` (1-based), the same one benchKeysInsertSql makes. */
export function benchKey(index: number): string {
  const secret = createHash("md5").update(`${seedText}${index}`).digest("hex");
  const body = `${apiKeyPrefixes.live}${secret}`;
  const checksum = createHash("sha256").update(body).digest("base64url").slice(0, 4);
  return body + checksum;
}

/**
 * A statement that inserts bulk keys `from`..`to` (inclusive) for a project, computing in
 * Postgres the same key (md5 secret, base64url checksum) and the SHA-256 hash the relay looks up.
 */
export function insertBenchKeys(
  projectId: string,
  rules: ApiKeyRules,
  from: number,
  to: number,
): SQL {
  const prefix = apiKeyPrefixes.live;
  return sql`
insert into api_keys (project_id, name, key_hash, display_prefix, last_four, rules)
select ${projectId}::uuid, 'bench-' || n, encode(sha256(convert_to(k, 'UTF8')), 'hex'), ${prefix}::text,
       right(k, 4), ${JSON.stringify(rules)}::jsonb
from (
  select n, body || translate(substr(encode(sha256(convert_to(body, 'UTF8')), 'base64'), 1, 4), '+/', '-_') as k
  from (
    select n, ${prefix}::text || md5(${seedText}::text || n) as body
    from generate_series(${from}::int, ${to}::int) as n
  ) as bodies
) as keys`;
}

/**
 * The bulk indexes the load uses when the database holds `bulkCount` bulk keys: `wanted` of them
 * spread evenly over the whole range, so the load touches old and new rows alike.
 */
export function loadKeyIndexes(bulkCount: number, wanted: number): number[] {
  const count = Math.min(bulkCount, wanted);
  if (count <= 0) {
    return [];
  }
  return Array.from({ length: count }, (_, j) => 1 + Math.floor((j * bulkCount) / count));
}

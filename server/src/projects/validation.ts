import type { ApiKeyRules } from "@viper/db/schema/api-keys";
import { rateLimitConfigSchema } from "@viper/relay/rate-limit/config";
import { parseIpBlock } from "@viper/shared/ip-address";
import { parseMethodPattern, parseOriginPattern } from "@viper/shared/key-rule-syntax";
import { z } from "zod";
import { instantSchema } from "../instant-input.ts";
import { textInput, withTextChecks } from "../text-input.ts";

/** A project or key name as users type it. */
export const nameSchema = textInput({ min: 1, max: 80, minMessage: "Enter a name." });

/** A free-text note on a project; null clears it. */
export const noteSchema = textInput({ max: 2000, multiline: true }).nullable();

/** Viper chain and zone ids: 1 to 4 bytes of lower-case hex ("0021"). */
const shortHexId = /^(?:[0-9a-f]{2}){1,4}$/;

/** A geo zone id, as the relay sends it to the dispatcher. */
export const zoneSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(shortHexId, "A zone id is 1 to 4 bytes of hex, such as 0001.");

/** A chain named by its Viper id ("0021") or its slug ("eth-mainnet"). */
const chainNameSchema = textInput({ min: 1, max: 64 }).toLowerCase();

/** A set of chains; resolved against the chains table by the procedure. */
export const chainListSchema = z
  .array(chainNameSchema)
  .max(100)
  .transform((names) => [...new Set(names)]);

/** A list of entries each checked by a parser; stored in the parser's normalized form. */
function patternList(
  parse: (text: string) => { ok: true; normalized: string } | { ok: false; problem: string },
) {
  const entry = withTextChecks(z.string().max(200)).transform((text, ctx) => {
    const parsed = parse(text);
    if (!parsed.ok) {
      ctx.addIssue({ code: "custom", message: `${text.trim()}: ${parsed.problem}` });
      return z.NEVER;
    }
    return parsed.normalized;
  });
  return z
    .array(entry)
    .max(100)
    .transform((entries) => [...new Set(entries)]);
}

export const originListSchema = patternList(parseOriginPattern);

export const methodListSchema = patternList(parseMethodPattern);

export const ipListSchema = patternList((text) => {
  const trimmed = text.trim().toLowerCase();
  const parsed = parseIpBlock(trimmed);
  return parsed.ok ? { ok: true, normalized: trimmed } : { ok: false, problem: parsed.problem };
});

/** How many seconds of its rate a key's bucket holds, by the relay's default config. */
const keyBurstSeconds = rateLimitConfigSchema.parse({}).burstSeconds;

/**
 * The least rate a key's rules may set, in compute units per second. The relay's bucket for a
 * key holds `burstSeconds` of its rate (relay/src/rate-limit/policy.ts), and refuses a call or
 * batch whose whole cost does not fit in it (request_too_costly): a bucket that holds less than
 * one compute unit refuses every call, even the cheapest.
 * TODO: this follows the relay's default burst (2 s); an operator whose RATE_LIMITS shortens
 * burstSeconds or gives the key limit an explicit burst raises the least working rate without
 * this check knowing. Read the limits in force here once the server can see the relays' config.
 */
export const minKeyRatePerSecond = 1 / keyBurstSeconds;

const keyRateSchema = z
  .number()
  .min(minKeyRatePerSecond, {
    message: `A key rate below ${minKeyRatePerSecond} compute units per second lets no call through. The key's bucket holds ${keyBurstSeconds} seconds of its rate and a call or batch needs its whole cost in it: use at least ${minKeyRatePerSecond} times the cost of the dearest call or batch the key sends.`,
  })
  .max(1_000_000);

const keyRulesShape = {
  allowedChains: chainListSchema.optional(),
  allowedMethods: methodListSchema.optional(),
  blockedMethods: methodListSchema.optional(),
  allowedOrigins: originListSchema.optional(),
  allowedIps: ipListSchema.optional(),
  /** Compute units per second; null or absent leaves the tier's key rate. */
  ratePerSecond: keyRateSchema.nullable().optional(),
};

const keyRuleNames = Object.keys(keyRulesShape);

/** Names an unknown rule: dropping it would answer 200 for a rule the relay never applies. */
function unknownRuleMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== "unrecognized_keys") {
    return undefined;
  }
  const unknown = issue.keys.map((key) => JSON.stringify(key)).join(", ");
  const known = `${keyRuleNames.slice(0, -1).join(", ")} and ${keyRuleNames.at(-1)}`;
  return `Unknown ${issue.keys.length === 1 ? "rule" : "rules"} ${unknown}: a key's rules are ${known}.`;
}

/**
 * A key's rules as the dashboard sends them: every list optional, empty meaning no restriction;
 * a field that is no rule is refused. allowedChains still has to be checked against the
 * project's chains by the procedure.
 */
export const keyRulesSchema = z
  .strictObject(keyRulesShape, { error: unknownRuleMessage })
  .refine((rules) => !(rules.allowedMethods?.length && rules.blockedMethods?.length), {
    path: ["blockedMethods"],
    message: "Set allowed methods or blocked methods, not both.",
  });

export type KeyRulesInput = z.infer<typeof keyRulesSchema>;

/** The rules to store: empty lists and a null rate are left out, as "no restriction". */
export function toStoredRules(
  input: KeyRulesInput,
  allowedChainIds: string[] | undefined,
): ApiKeyRules {
  const rules: ApiKeyRules = {};
  if (allowedChainIds?.length) {
    rules.allowedChains = allowedChainIds;
  }
  if (input.allowedMethods?.length) {
    rules.allowedMethods = input.allowedMethods;
  }
  if (input.blockedMethods?.length) {
    rules.blockedMethods = input.blockedMethods;
  }
  if (input.allowedOrigins?.length) {
    rules.allowedOrigins = input.allowedOrigins;
  }
  if (input.allowedIps?.length) {
    rules.allowedIps = input.allowedIps;
  }
  if (input.ratePerSecond !== undefined && input.ratePerSecond !== null) {
    rules.ratePerSecond = input.ratePerSecond;
  }
  return rules;
}

/** A future point in time, as an ISO 8601 string with offset; null means "never". */
export const futureDateSchema = instantSchema.refine(
  (date) => date.getTime() > Date.now(),
  "Pick a time in the future.",
);

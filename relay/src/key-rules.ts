import type { ApiKeyRules } from "@viper/db/schema/api-keys";
import {
  type IpBlock,
  ipBlockContains,
  parseIpAddress,
  parseIpBlock,
} from "@viper/shared/ip-address";
import {
  type MethodPattern,
  type OriginPattern,
  originMatches,
  parseMethodPattern,
  parseOriginPattern,
  splitRequestOrigin,
} from "@viper/shared/key-rule-syntax";

/** What the rules are compiled from: a key record (as cached) carries all of it. */
export interface KeyRuleSource {
  rules: ApiKeyRules;
  /** Viper chain ids the project chose. */
  projectChains: string[];
  /** The project's allowed origins; empty means any. */
  projectOrigins: string[];
}

/** The parts of a request the rules judge. */
export interface KeyRuleRequest {
  chainId: string;
  /** The JSON-RPC methods of the request (one per batch item). */
  methods: string[];
  /** The Origin header, or null without one. */
  origin: string | null;
  /** The caller's address as the socket reports it, or null when unknown. */
  clientIp: string | null;
}

/** Which rule refused a request; the names are the portal's error names. */
export type KeyRuleViolation =
  | "ip_not_allowed"
  | "origin_not_allowed"
  | "chain_not_allowed"
  | "method_not_allowed";

/** The rules' verdict; a method refusal names the first refused method. */
export type KeyRuleVerdict =
  | { ok: true }
  | { ok: false; violation: Exclude<KeyRuleViolation, "method_not_allowed"> }
  | { ok: false; violation: "method_not_allowed"; method: string };

/** A key's rules parsed once, so that each request only matches. */
export interface CompiledKeyRules {
  allowsIp(clientIp: string | null): boolean;
  allowsOrigin(origin: string | null): boolean;
  allowsChain(chainId: string): boolean;
  allowsMethod(method: string): boolean;
  /** Checks address, origin, chain and methods, in that order. */
  check(request: KeyRuleRequest): KeyRuleVerdict;
}

type Parse<T> = (text: string) => { ok: true; value: T } | { ok: false };

/**
 * A stored list in matchable form; null when absent or empty ("no restriction"). The server
 * stores only entries the shared parsers accept; one that fails anyway (an older row) is
 * skipped, and a list left empty by that admits nobody rather than everybody.
 */
function parsedList<T>(entries: readonly string[] | undefined, parse: Parse<T>): T[] | null {
  if (!entries || entries.length === 0) {
    return null;
  }
  return entries.flatMap((entry) => {
    const parsed = parse(entry);
    return parsed.ok ? [parsed.value] : [];
  });
}

// A stored block with host bits set is read as its network rather than dropped.
const parseIpEntry: Parse<IpBlock> = (text) => {
  const parsed = parseIpBlock(text.trim().toLowerCase(), { allowHostBits: true });
  return parsed.ok ? { ok: true, value: parsed.block } : { ok: false };
};

function methodMatches(pattern: MethodPattern, method: string): boolean {
  return pattern.kind === "exact" ? pattern.method === method : method.startsWith(pattern.prefix);
}

/** Compiles a key's rules together with its project's chains and origins. */
export function compileKeyRules(source: KeyRuleSource): CompiledKeyRules {
  const { rules } = source;
  const projectChains = new Set(source.projectChains);
  const keyChains = rules.allowedChains?.length ? new Set(rules.allowedChains) : null;
  const allowedMethods = parsedList(rules.allowedMethods, parseMethodPattern);
  const blockedMethods = parsedList(rules.blockedMethods, parseMethodPattern) ?? [];
  const originLists = [rules.allowedOrigins, source.projectOrigins]
    .map((list) => parsedList<OriginPattern>(list, parseOriginPattern))
    .filter((list): list is OriginPattern[] => list !== null);
  const allowedIps = parsedList(rules.allowedIps, parseIpEntry);

  const compiled: CompiledKeyRules = {
    allowsIp(clientIp) {
      if (allowedIps === null) {
        return true;
      }
      const address = clientIp === null ? null : parseIpAddress(clientIp);
      return address !== null && allowedIps.some((block) => ipBlockContains(block, address));
    },
    // With a list set, a request without an Origin (or with "null") is refused: leaving the
    // header out must not bypass the list.
    allowsOrigin(origin) {
      if (originLists.length === 0) {
        return true;
      }
      const parts = origin === null ? null : splitRequestOrigin(origin);
      return (
        parts !== null &&
        originLists.every((list) => list.some((pattern) => originMatches(pattern, parts)))
      );
    },
    allowsChain(chainId) {
      return projectChains.has(chainId) && (keyChains === null || keyChains.has(chainId));
    },
    allowsMethod(method) {
      if (allowedMethods && !allowedMethods.some((pattern) => methodMatches(pattern, method))) {
        return false;
      }
      return !blockedMethods.some((pattern) => methodMatches(pattern, method));
    },
    check(request) {
      if (!compiled.allowsIp(request.clientIp)) {
        return { ok: false, violation: "ip_not_allowed" };
      }
      if (!compiled.allowsOrigin(request.origin)) {
        return { ok: false, violation: "origin_not_allowed" };
      }
      if (!compiled.allowsChain(request.chainId)) {
        return { ok: false, violation: "chain_not_allowed" };
      }
      const refused = request.methods.find((method) => !compiled.allowsMethod(method));
      return refused === undefined
        ? { ok: true }
        : { ok: false, violation: "method_not_allowed", method: refused };
    },
  };
  return compiled;
}

// Compiled rules hang off the cached record object, so a warm key compiles nothing; a reloaded
// record is a new object and is compiled afresh.
const compiledBySource = new WeakMap<KeyRuleSource, CompiledKeyRules>();

/** The compiled rules of a record, compiled on first use. */
export function keyRulesOf(source: KeyRuleSource): CompiledKeyRules {
  let compiled = compiledBySource.get(source);
  if (!compiled) {
    compiled = compileKeyRules(source);
    compiledBySource.set(source, compiled);
  }
  return compiled;
}

/** Checks a request against a record's rules (compiled once per record). */
export function checkKeyRules(source: KeyRuleSource, request: KeyRuleRequest): KeyRuleVerdict {
  return keyRulesOf(source).check(request);
}

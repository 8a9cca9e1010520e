import { describe, expect, test } from "bun:test";
import type { ApiKeyRules } from "@viper/db/schema/api-keys";
import {
  checkKeyRules,
  compileKeyRules,
  type KeyRuleRequest,
  type KeyRuleSource,
  keyRulesOf,
} from "../src/key-rules.ts";

function source(rules: ApiKeyRules, project: Partial<KeyRuleSource> = {}): KeyRuleSource {
  return { rules, projectChains: ["0021", "0022"], projectOrigins: [], ...project };
}

function request(overrides: Partial<KeyRuleRequest> = {}): KeyRuleRequest {
  return {
    chainId: "0021",
    methods: ["eth_blockNumber"],
    origin: null,
    clientIp: "203.0.113.7",
    ...overrides,
  };
}

describe("key rules: no rules", () => {
  test("a key without rules may call any method on its project's chains from anywhere", () => {
    const rules = compileKeyRules(source({}));

    expect(rules.check(request())).toEqual({ ok: true });
    expect(rules.check(request({ origin: "https://any.example", clientIp: null }))).toEqual({
      ok: true,
    });
  });

  test("empty lists restrict nothing", () => {
    const rules = compileKeyRules(
      source({
        allowedChains: [],
        allowedMethods: [],
        blockedMethods: [],
        allowedIps: [],
        allowedOrigins: [],
      }),
    );

    expect(rules.check(request({ clientIp: "2001:db8::1", origin: "https://x.example" }))).toEqual({
      ok: true,
    });
  });
});

describe("key rules: IP addresses", () => {
  const rules = compileKeyRules(
    source({ allowedIps: ["203.0.113.0/24", "198.51.100.7", "2001:db8:abcd::/48", "::1"] }),
  );

  test.each([
    ["203.0.113.0", true],
    ["203.0.113.255", true],
    ["203.0.114.1", false],
    ["198.51.100.7", true],
    ["198.51.100.8", false],
    ["2001:db8:abcd:12::1", true],
    ["2001:DB8:ABCD:ffff:ffff:ffff:ffff:ffff", true],
    ["2001:db8:abce::1", false],
    ["::1", true],
    ["::2", false],
  ])("%s allowed: %p", (ip, expected) => {
    expect(rules.allowsIp(ip)).toBe(expected);
  });

  test("an IPv4 client reported as IPv4-mapped IPv6 matches the IPv4 rules", () => {
    expect(rules.allowsIp("::ffff:203.0.113.9")).toBe(true);
    expect(rules.allowsIp("::FFFF:cb00:7109")).toBe(true);
    expect(rules.allowsIp("0:0:0:0:0:ffff:198.51.100.7")).toBe(true);
    expect(rules.allowsIp("::ffff:198.51.100.8")).toBe(false);
  });

  test("a rule written as IPv4-mapped IPv6 matches the IPv4 client in both spellings", () => {
    const mapped = compileKeyRules(source({ allowedIps: ["::ffff:192.0.2.0/120"] }));

    expect(mapped.allowsIp("192.0.2.44")).toBe(true);
    expect(mapped.allowsIp("::ffff:192.0.2.44")).toBe(true);
    expect(mapped.allowsIp("192.0.3.1")).toBe(false);
  });

  test("IPv4 rules never match IPv6 clients and the reverse", () => {
    const all4 = compileKeyRules(source({ allowedIps: ["0.0.0.0/0"] }));
    const all6 = compileKeyRules(source({ allowedIps: ["::/0"] }));

    expect(all4.allowsIp("10.1.2.3")).toBe(true);
    expect(all4.allowsIp("2001:db8::1")).toBe(false);
    expect(all6.allowsIp("2001:db8::1")).toBe(true);
    expect(all6.allowsIp("10.1.2.3")).toBe(false);
  });

  test("prefixes that do not fall on a word boundary cut the right bits", () => {
    const odd = compileKeyRules(source({ allowedIps: ["10.128.0.0/9", "2001:db8:8000::/33"] }));

    expect(odd.allowsIp("10.200.1.1")).toBe(true);
    expect(odd.allowsIp("10.127.255.255")).toBe(false);
    expect(odd.allowsIp("2001:db8:ffff::1")).toBe(true);
    expect(odd.allowsIp("2001:db8:7fff::1")).toBe(false);
  });

  test("an unknown or unreadable client address is refused when IPs are listed", () => {
    expect(rules.allowsIp(null)).toBe(false);
    expect(rules.allowsIp("not-an-ip")).toBe(false);
    expect(rules.allowsIp("203.0.113.7:443")).toBe(false);
    expect(rules.allowsIp("fe80::1%eth0")).toBe(false);
    expect(rules.check(request({ clientIp: null }))).toEqual({
      ok: false,
      violation: "ip_not_allowed",
    });
  });

  test("a list of only unreadable entries admits nobody instead of everybody", () => {
    const broken = compileKeyRules(source({ allowedIps: ["10.0.0.0/99", "example.com"] }));

    expect(broken.allowsIp("10.0.0.1")).toBe(false);
    expect(broken.allowsIp("2001:db8::1")).toBe(false);
  });

  test("a stored entry with host bits set is read as its network", () => {
    const loose = compileKeyRules(source({ allowedIps: ["10.1.2.3/16"] }));

    expect(loose.allowsIp("10.1.200.200")).toBe(true);
    expect(loose.allowsIp("10.2.0.1")).toBe(false);
  });
});

describe("key rules: origins", () => {
  const rules = compileKeyRules(
    source({
      allowedOrigins: [
        "https://app.example.com",
        "https://*.example.org",
        "*.example.net",
        "http://localhost:3000",
      ],
    }),
  );

  test.each([
    ["https://app.example.com", true],
    ["HTTPS://APP.EXAMPLE.COM", true],
    ["http://app.example.com", false],
    ["https://app.example.com:8443", false],
    ["https://evil-app.example.com", false],
    ["https://a.example.org", true],
    ["https://a.b.example.org", true],
    ["https://example.org", false],
    ["https://notexample.org", false],
    ["http://a.example.org", false],
    ["https://a.example.org:444", false],
    ["https://a.example.net", true],
    ["http://a.example.net", true],
    ["http://a.example.net:8080", false],
    ["https://example.net", false],
    ["http://localhost:3000", true],
    ["http://localhost:3001", false],
    ["null", false],
  ])("%s allowed: %p", (origin, expected) => {
    expect(rules.allowsOrigin(origin)).toBe(expected);
  });

  test("a request without an Origin header is refused when origins are listed", () => {
    expect(rules.check(request({ origin: null }))).toEqual({
      ok: false,
      violation: "origin_not_allowed",
    });
  });

  test("a wildcard with a port admits only that port", () => {
    const withPort = compileKeyRules(source({ allowedOrigins: ["https://*.example.com:8443"] }));

    expect(withPort.allowsOrigin("https://a.example.com:8443")).toBe(true);
    expect(withPort.allowsOrigin("https://a.example.com")).toBe(false);
  });

  test("the project's list and the key's list must both admit the origin", () => {
    const both = compileKeyRules(
      source(
        { allowedOrigins: ["https://*.example.com"] },
        { projectOrigins: ["https://app.example.com", "https://other.example"] },
      ),
    );

    expect(both.allowsOrigin("https://app.example.com")).toBe(true);
    expect(both.allowsOrigin("https://docs.example.com")).toBe(false);
    expect(both.allowsOrigin("https://other.example")).toBe(false);
  });

  test("a project list alone restricts a key without its own list", () => {
    const projectOnly = compileKeyRules(
      source({}, { projectOrigins: ["https://app.example.com"] }),
    );

    expect(projectOnly.allowsOrigin("https://app.example.com")).toBe(true);
    expect(projectOnly.allowsOrigin("https://elsewhere.example")).toBe(false);
    expect(projectOnly.allowsOrigin(null)).toBe(false);
  });
});

describe("key rules: chains", () => {
  test("only the project's chains are served, even to a key that lists another", () => {
    const rules = compileKeyRules(source({ allowedChains: ["0021", "0099"] }));

    expect(rules.allowsChain("0021")).toBe(true);
    expect(rules.allowsChain("0022")).toBe(false);
    expect(rules.allowsChain("0099")).toBe(false);
  });

  test("a key without a chain list gets all of its project's chains", () => {
    const rules = compileKeyRules(source({}));

    expect(rules.allowsChain("0022")).toBe(true);
    expect(rules.check(request({ chainId: "0040" }))).toEqual({
      ok: false,
      violation: "chain_not_allowed",
    });
  });

  test("a project without chains serves none", () => {
    const rules = compileKeyRules(source({}, { projectChains: [] }));

    expect(rules.allowsChain("0021")).toBe(false);
  });
});

describe("key rules: methods", () => {
  test("an allow list admits exactly its methods and prefixes", () => {
    const rules = compileKeyRules(source({ allowedMethods: ["eth_call", "eth_get*"] }));

    expect(rules.allowsMethod("eth_call")).toBe(true);
    expect(rules.allowsMethod("eth_getBalance")).toBe(true);
    expect(rules.allowsMethod("eth_sendRawTransaction")).toBe(false);
    expect(rules.allowsMethod("ETH_CALL")).toBe(false);
  });

  test("a block list refuses its methods and prefixes and admits the rest", () => {
    const rules = compileKeyRules(
      source({ blockedMethods: ["debug_*", "eth_sendRawTransaction"] }),
    );

    expect(rules.allowsMethod("debug_traceTransaction")).toBe(false);
    expect(rules.allowsMethod("eth_sendRawTransaction")).toBe(false);
    expect(rules.allowsMethod("eth_blockNumber")).toBe(true);
  });

  test("the first refused method of a batch is named", () => {
    const rules = compileKeyRules(
      source({ blockedMethods: ["eth_sendRawTransaction", "debug_*"] }),
    );

    const verdict = rules.check(
      request({ methods: ["eth_blockNumber", "debug_traceCall", "eth_sendRawTransaction"] }),
    );

    expect(verdict).toEqual({
      ok: false,
      violation: "method_not_allowed",
      method: "debug_traceCall",
    });
    expect(rules.check(request({ methods: ["eth_chainId", "eth_call"] }))).toEqual({ ok: true });
  });

  test("when both lists are stored, a method must be allowed and not blocked", () => {
    const rules = compileKeyRules(
      source({ allowedMethods: ["eth_*"], blockedMethods: ["eth_sign"] }),
    );

    expect(rules.allowsMethod("eth_call")).toBe(true);
    expect(rules.allowsMethod("eth_sign")).toBe(false);
    expect(rules.allowsMethod("net_version")).toBe(false);
  });
});

describe("key rules: order and compilation", () => {
  const strict = source(
    {
      allowedIps: ["10.0.0.0/8"],
      allowedOrigins: ["https://app.example.com"],
      allowedChains: ["0021"],
      allowedMethods: ["eth_call"],
    },
    { projectChains: ["0021", "0022"] },
  );
  const everythingWrong = request({
    clientIp: "192.0.2.1",
    origin: "https://evil.example",
    chainId: "0022",
    methods: ["eth_sign"],
  });

  test("the caller's address is checked first, then origin, chain and method", () => {
    expect(checkKeyRules(strict, everythingWrong)).toMatchObject({ violation: "ip_not_allowed" });
    expect(checkKeyRules(strict, { ...everythingWrong, clientIp: "10.1.1.1" })).toMatchObject({
      violation: "origin_not_allowed",
    });
    expect(
      checkKeyRules(strict, {
        ...everythingWrong,
        clientIp: "10.1.1.1",
        origin: "https://app.example.com",
      }),
    ).toMatchObject({ violation: "chain_not_allowed" });
    expect(
      checkKeyRules(strict, {
        ...everythingWrong,
        clientIp: "10.1.1.1",
        origin: "https://app.example.com",
        chainId: "0021",
      }),
    ).toEqual({ ok: false, violation: "method_not_allowed", method: "eth_sign" });
    expect(
      checkKeyRules(strict, {
        clientIp: "::ffff:10.1.1.1",
        origin: "https://app.example.com",
        chainId: "0021",
        methods: ["eth_call"],
      }),
    ).toEqual({ ok: true });
  });

  test("a record is compiled once and a new record (after a reload) is compiled again", () => {
    const record = source({ allowedMethods: ["eth_call"] });
    const reloaded = source({ allowedMethods: ["eth_chainId"] });

    expect(keyRulesOf(record)).toBe(keyRulesOf(record));
    expect(keyRulesOf(reloaded)).not.toBe(keyRulesOf(record));
    expect(keyRulesOf(reloaded).allowsMethod("eth_chainId")).toBe(true);
    expect(keyRulesOf(reloaded).allowsMethod("eth_call")).toBe(false);
  });

  test("a record that went through JSON (the shared store) checks the same", () => {
    const copy = JSON.parse(JSON.stringify(strict)) as KeyRuleSource;
    const fine = request({
      clientIp: "10.9.9.9",
      origin: "https://app.example.com",
      methods: ["eth_call"],
    });

    expect(checkKeyRules(copy, fine)).toEqual(checkKeyRules(strict, fine));
    expect(checkKeyRules(copy, everythingWrong)).toEqual(checkKeyRules(strict, everythingWrong));
  });
});

/**
 * IPv4 and IPv6 addresses and CIDR blocks, parsed into 32-bit words so a block test is a few
 * integer comparisons. The server validates key rules with these parsers and the relay matches
 * client addresses with them, so both agree on what an entry means.
 *
 * IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are the IPv4 address they carry: a dual-stack
 * socket reports IPv4 clients that way, and a rule written as `192.0.2.0/24` must still match.
 */

/** An address as one (IPv4) or four (IPv6) unsigned 32-bit words, most significant first. */
export interface IpAddress {
  version: 4 | 6;
  words: readonly number[];
}

/** A block of addresses: the network's words (host bits zero) and the prefix length. */
export interface IpBlock {
  version: 4 | 6;
  network: readonly number[];
  prefix: number;
  /** One mask per word, precomputed from the prefix. */
  masks: readonly number[];
}

const ipv4Octet = /^(?:0|[1-9]\d{0,2})$/;
const hexGroup = /^[0-9a-fA-F]{1,4}$/;

function parseIpv4Word(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4) {
    return null;
  }
  let word = 0;
  for (const part of parts) {
    // Leading zeros are refused: some parsers read "010" as octal, so its meaning is unclear.
    if (!ipv4Octet.test(part)) {
      return null;
    }
    const octet = Number(part);
    if (octet > 255) {
      return null;
    }
    word = word * 256 + octet;
  }
  return word;
}

/** The eight 16-bit groups of an IPv6 address, or null. */
function parseIpv6Groups(text: string): number[] | null {
  const halves = text.split("::");
  if (halves.length > 2) {
    return null;
  }
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const groups: number[] = [];
  const all = [...head, ...tail];
  for (const [index, part] of all.entries()) {
    // A dotted quad may only end the address, never stand before a trailing "::".
    const endsAddress = index === all.length - 1 && (halves.length === 1 || tail.length > 0);
    if (endsAddress && part.includes(".")) {
      const word = parseIpv4Word(part);
      if (word === null) {
        return null;
      }
      groups.push(Math.floor(word / 0x10000), word % 0x10000);
    } else if (hexGroup.test(part)) {
      groups.push(Number.parseInt(part, 16));
    } else {
      return null;
    }
  }
  if (halves.length === 1) {
    return groups.length === 8 ? groups : null;
  }
  // "::" stands for at least one zero group.
  const missing = 8 - groups.length;
  if (missing < 1) {
    return null;
  }
  const headGroups = groups.slice(0, groups.length - tailGroupCount(tail));
  const tailGroups = groups.slice(headGroups.length);
  return [...headGroups, ...new Array<number>(missing).fill(0), ...tailGroups];
}

function tailGroupCount(tail: string[]): number {
  return tail.reduce((count, part) => count + (part.includes(".") ? 2 : 1), 0);
}

function isIpv4Mapped(words: readonly number[]): boolean {
  return words[0] === 0 && words[1] === 0 && words[2] === 0xffff;
}

function parseIpv6Words(text: string): number[] | null {
  const groups = parseIpv6Groups(text);
  if (!groups) {
    return null;
  }
  return [0, 1, 2, 3].map(
    (index) => (groups[index * 2] ?? 0) * 0x10000 + (groups[index * 2 + 1] ?? 0),
  );
}

/**
 * Parses an address in its usual text forms (dotted quad, IPv6 with `::` and an optional
 * trailing dotted quad). IPv4-mapped IPv6 comes back as IPv4. Zone ids (`%eth0`), brackets and
 * ports are refused. Null when the text is not an address.
 */
export function parseIpAddress(text: string): IpAddress | null {
  if (!text.includes(":")) {
    const word = parseIpv4Word(text);
    return word === null ? null : { version: 4, words: [word] };
  }
  const words = parseIpv6Words(text);
  if (!words) {
    return null;
  }
  return isIpv4Mapped(words) ? { version: 4, words: [words[3] ?? 0] } : { version: 6, words };
}

function masksFor(prefix: number, wordCount: number): number[] {
  return Array.from({ length: wordCount }, (_, index) => {
    const bits = Math.min(32, Math.max(0, prefix - index * 32));
    // Shifting by 32 is a no-op in JavaScript, so the full and empty masks are spelled out.
    if (bits === 0) {
      return 0;
    }
    return bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
  });
}

/** Why a CIDR entry was refused, as a sentence for the user. */
export type IpBlockProblem =
  | "not an IP address or CIDR block"
  | "prefix out of range"
  | "host bits set";

/** A parsed block, or the reason the text is not one. */
export type IpBlockResult = { ok: true; block: IpBlock } | { ok: false; problem: IpBlockProblem };

/**
 * Parses `address` or `address/prefix`. A bare address is a block of one. Host bits beyond the
 * prefix are refused (`10.0.0.1/8` is likely a typo), unless `allowHostBits` masks them off.
 * An IPv4-mapped IPv6 block of prefix 96 or more is the IPv4 block it covers, so it matches
 * IPv4 clients however the socket reports them.
 */
export function parseIpBlock(
  text: string,
  options: { allowHostBits?: boolean } = {},
): IpBlockResult {
  const slash = text.indexOf("/");
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const words = rawWordsOf(addressText);
  if (!words) {
    return { ok: false, problem: "not an IP address or CIDR block" };
  }
  const maxPrefix = words.length * 32;
  const written = slash === -1 ? String(maxPrefix) : text.slice(slash + 1);
  const prefix = /^(?:0|[1-9]\d{0,2})$/.test(written) ? Number(written) : -1;
  if (prefix < 0 || prefix > maxPrefix) {
    return { ok: false, problem: "prefix out of range" };
  }
  const allowHostBits = options.allowHostBits ?? false;
  if (words.length === 4 && isIpv4Mapped(words) && prefix >= 96) {
    return blockOf(4, [words[3] ?? 0], prefix - 96, allowHostBits);
  }
  return blockOf(words.length === 1 ? 4 : 6, words, prefix, allowHostBits);
}

/** One word for IPv4 text, four for IPv6 text (mapped addresses not yet unwrapped). */
function rawWordsOf(addressText: string): number[] | null {
  if (addressText.includes(":")) {
    return parseIpv6Words(addressText);
  }
  const word = parseIpv4Word(addressText);
  return word === null ? null : [word];
}

function blockOf(
  version: 4 | 6,
  words: number[],
  prefix: number,
  allowHostBits: boolean,
): IpBlockResult {
  const masks = masksFor(prefix, words.length);
  const network = words.map((word, index) => (word & (masks[index] ?? 0)) >>> 0);
  if (!allowHostBits && network.some((word, index) => word !== words[index])) {
    return { ok: false, problem: "host bits set" };
  }
  return { ok: true, block: { version, network, prefix, masks } };
}

/** True when the address lies in the block. */
export function ipBlockContains(block: IpBlock, address: IpAddress): boolean {
  if (block.version !== address.version) {
    return false;
  }
  for (let index = 0; index < block.network.length; index++) {
    const word = address.words[index] ?? 0;
    if ((word & (block.masks[index] ?? 0)) >>> 0 !== block.network[index]) {
      return false;
    }
  }
  return true;
}

/**
 * IP addresses and prefixes: parsing, canonical formatting, containment, and the
 * RFC 6052 embedding of IPv4 addresses in IPv6 prefixes. Shared by the config (which
 * validates prefixes), the engine's config encoder and the DNS64 synthesis rules.
 *
 * Addresses are byte arrays in network order (4 or 16 bytes).
 *
 * @module
 */

/** An IPv4 or IPv6 prefix: the address with host bits cleared, and the prefix length. */
export interface Prefix {
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** Network-order bytes (4 or 16), host bits zero. */
  readonly addr: Uint8Array;
  /** Prefix length in bits. */
  readonly length: number;
}

/** The prefix lengths RFC 6052 §2.2 allows for an IPv4-embedded IPv6 prefix. */
export const RFC6052_LENGTHS: readonly number[] = [32, 40, 48, 56, 64, 96];

/** The Well-Known Prefix 64:ff9b::/96 (RFC 6052 §2.1). */
export const WELL_KNOWN_PREFIX: Prefix = parsePrefix("64:ff9b::/96");

/** Parses dotted-quad IPv4 text; throws a one-sentence Error naming the text. */
export function parseIPv4(text: string): Uint8Array {
  const parts = text.split(".");
  if (parts.length !== 4) throw new Error(`"${text}" is not an IPv4 address`);
  const out = new Uint8Array(4);
  parts.forEach((p, i) => {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255 || (p.length > 1 && p[0] === "0")) {
      throw new Error(`"${text}" is not an IPv4 address`);
    }
    out[i] = Number(p);
  });
  return out;
}

/** Parses IPv6 text (RFC 4291 §2.2, including an embedded dotted quad); throws on bad text. */
export function parseIPv6(text: string): Uint8Array {
  const bad = () => new Error(`"${text}" is not an IPv6 address`);
  if (text.length < 2 || text.length > 45) throw bad();
  let head = text;
  const tail: number[] = [];
  const dotted = text.lastIndexOf(":");
  if (dotted >= 0 && text.indexOf(".", dotted) > dotted) {
    const v4 = parseIPv4OrNull(text.slice(dotted + 1));
    if (!v4) throw bad();
    tail.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    head = text.slice(0, dotted + 1);
    if (head.endsWith(":") && !head.endsWith("::")) head = head.slice(0, -1);
  }
  const halves = head.split("::");
  if (halves.length > 2) throw bad();
  const groups = (s: string): number[] => {
    if (s === "") return [];
    return s.split(":").map((g) => {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw bad();
      return parseInt(g, 16);
    });
  };
  const left = groups(halves[0]);
  const right = halves.length === 2 ? groups(halves[1]).concat(tail) : [];
  if (halves.length === 1) left.push(...tail);
  const total = left.length + right.length;
  if (halves.length === 1 ? total !== 8 : total > 7) throw bad();
  const words = [...left, ...new Array(8 - total).fill(0), ...right];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

function parseIPv4OrNull(text: string): Uint8Array | null {
  try {
    return parseIPv4(text);
  } catch {
    return null;
  }
}

/** Parses either family; the result's length (4 or 16) tells which. */
export function parseIP(text: string): Uint8Array {
  return text.includes(":") ? parseIPv6(text) : parseIPv4(text);
}

/** Formats 4 bytes as dotted quad. */
export function formatIPv4(addr: Uint8Array): string {
  return `${addr[0]}.${addr[1]}.${addr[2]}.${addr[3]}`;
}

/** Formats 16 bytes in the RFC 5952 canonical text form. */
export function formatIPv6(addr: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((addr[2 * i] << 8) | addr[2 * i + 1]);
  // RFC 5952 §4.2.3: compress the longest run of two or more zero words, the first on a tie.
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(":");
  if (best < 0) return hex(words);
  return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}

/** Formats 4 or 16 bytes. */
export function formatIP(addr: Uint8Array): string {
  return addr.length === 4 ? formatIPv4(addr) : formatIPv6(addr);
}

/**
 * Parses "ADDR/LEN" (or a bare address, taken as a host prefix). Host bits must be zero:
 * a prefix with host bits set is almost always a typo, so it is refused rather than masked.
 */
export function parsePrefix(text: string, family?: 4 | 6): Prefix {
  const slash = text.indexOf("/");
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const addr = parseIP(addrText);
  const fam: 4 | 6 = addr.length === 4 ? 4 : 6;
  if (family && fam !== family) throw new Error(`"${text}" is not an IPv${family} prefix`);
  const max = fam === 4 ? 32 : 128;
  let length = max;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) {
      throw new Error(`"${text}" has a prefix length outside 0-${max}`);
    }
    length = Number(lenText);
  }
  for (let bit = length; bit < max; bit++) {
    if (addr[bit >> 3] & (0x80 >> (bit & 7))) {
      throw new Error(`"${text}" has bits set after the /${length} prefix`);
    }
  }
  return { family: fam, addr, length };
}

/** Formats a prefix as "ADDR/LEN". */
export function formatPrefix(p: Prefix): string {
  return `${formatIP(p.addr)}/${p.length}`;
}

/** True when `addr` (same family) lies inside `prefix`. */
export function prefixContains(prefix: Prefix, addr: Uint8Array): boolean {
  if (addr.length !== prefix.addr.length) return false;
  const full = prefix.length >> 3;
  for (let i = 0; i < full; i++) if (addr[i] !== prefix.addr[i]) return false;
  const rest = prefix.length & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (addr[full] & mask) === prefix.addr[full];
}

/** Byte positions of the IPv4 address inside an IPv6 address, per prefix length (RFC 6052 §2.2 figure 1). */
function rfc6052Positions(length: number): number[] {
  switch (length) {
    case 32:
      return [4, 5, 6, 7];
    case 40:
      return [5, 6, 7, 9];
    case 48:
      return [6, 7, 9, 10];
    case 56:
      return [7, 9, 10, 11];
    case 64:
      return [9, 10, 11, 12];
    case 96:
      return [12, 13, 14, 15];
    default:
      throw new Error(`prefix length /${length} is not one RFC 6052 allows (32, 40, 48, 56, 64, 96)`);
  }
}

/**
 * Embeds an IPv4 address in an RFC 6052 prefix (§2.2): the u-octet (bits 64-71) and the
 * suffix are zero.
 */
export function embedIPv4(prefix: Prefix, v4: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out.set(prefix.addr);
  rfc6052Positions(prefix.length).forEach((pos, i) => (out[pos] = v4[i]));
  return out;
}

/**
 * Extracts the IPv4 address from an IPv4-embedded IPv6 address (RFC 6052 §2.2). The
 * u-octet and suffix are ignored on receipt, as §2.2 says they SHOULD be.
 */
export function extractIPv4(prefix: Prefix, v6: Uint8Array): Uint8Array {
  return Uint8Array.from(rfc6052Positions(prefix.length), (pos) => v6[pos]);
}

/** IPv4 ranges that are not global (IANA IPv4 Special-Purpose Address Registry, RFC 6890). */
const NON_GLOBAL_IPV4: readonly Prefix[] = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.0.2.0/24",
  "192.88.99.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "224.0.0.0/4",
  "240.0.0.0/4",
].map((p) => parsePrefix(p));

/**
 * True when an IPv4 address is global. RFC 6052 §3.1: the Well-Known Prefix MUST NOT be
 * used to represent non-global IPv4 addresses. The two globally reachable exceptions
 * inside 192.0.0.0/24 (192.0.0.9 and 192.0.0.10, RFC 7723 / RFC 8155) count as global.
 */
export function isGlobalIPv4(v4: Uint8Array): boolean {
  if (v4[0] === 192 && v4[1] === 0 && v4[2] === 0 && (v4[3] === 9 || v4[3] === 10)) return true;
  return !NON_GLOBAL_IPV4.some((p) => prefixContains(p, v4));
}

/** True when two prefixes are the same network. */
export function samePrefix(a: Prefix, b: Prefix): boolean {
  return a.length === b.length && a.addr.length === b.addr.length && a.addr.every((x, i) => x === b.addr[i]);
}

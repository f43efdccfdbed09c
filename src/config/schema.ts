/**
 * The configuration keys: one table that the command-line flags and the config file
 * share, so a key is spelled, checked and defaulted in exactly one place. A flag
 * `--lowest-ipv6-mtu 1400` and a file line `lowest-ipv6-mtu = 1400` are the same key.
 *
 * @module
 */

import { type Prefix, parseIPv4, parseIPv6, parsePrefix, RFC6052_LENGTHS } from "../net/ip.ts";

/** One EAMT entry (RFC 7757): an IPv6 prefix and the IPv4 prefix it maps to. */
export interface EamtEntry {
  readonly v6: Prefix;
  readonly v4: Prefix;
}

/** The translator's configuration, validated. */
export interface TranslatorConfig {
  /** "siit" (RFC 7915 stateless) or "nat64" (RFC 6146 stateful). */
  mode: "siit" | "nat64";
  /** RFC 6052 translation prefix. */
  pool6?: Prefix;
  /** Explicit address mappings (RFC 7757). */
  eamt: EamtEntry[];
  /** RFC 6791 pool: source of ICMPv4 errors whose IPv6 source cannot be translated. */
  rfc6791v4?: Prefix;
  /** RFC 6791 pool for ICMPv6 errors whose IPv4 source cannot be translated. */
  rfc6791v6?: Prefix;
  /** Size DF=0 IPv4 packets are fragmented to on the IPv6 side (RFC 7915 §4). */
  lowestIpv6Mtu: number;
  /** Next-hop MTU out of the IPv6 side. */
  mtuV6: number;
  /** Next-hop MTU out of the IPv4 side. */
  mtuV4: number;
  /** Unfragmented IPv4 UDP with checksum 0: drop it, or compute the checksum (RFC 7915 §4.5). */
  udpZeroCsum: "drop" | "calc";
  /** The translator's own IPv4 address, source of the ICMPv4 errors it generates. */
  ipv4?: Uint8Array;
  /** The translator's own IPv6 address, source of the ICMPv6 errors it generates. */
  ipv6?: Uint8Array;
  /** Zero the IPv6 traffic class instead of copying the IPv4 TOS (RFC 7915 §4.1). */
  zeroizeTrafficClass: boolean;
  /** Let 64:ff9b::/96 carry non-global IPv4 addresses, which RFC 6052 §3.1 forbids. */
  allowNonGlobalWkp: boolean;
}

/** How a key's value is written on the command line and in the file. */
type Kind = "string" | "boolean";

/** A configuration key: its name (flag and file key), help, and how its text becomes a value. */
export interface KeySpec<C = TranslatorConfig> {
  readonly name: string;
  readonly kind: Kind;
  readonly multiple?: boolean;
  readonly help: string;
  /** Applies one value (already the right kind) to the config; throws a sentence on a bad value. */
  readonly apply: (config: C, value: string | boolean) => void;
}

function intIn(text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new Error(`"${text}" is not a whole number from ${min} to ${max}`);
  }
  return Number(text);
}

function rfc6052Prefix(text: string): Prefix {
  const p = parsePrefix(text, 6);
  if (!RFC6052_LENGTHS.includes(p.length)) {
    throw new Error(`"${text}" must have one of the RFC 6052 lengths /${RFC6052_LENGTHS.join(", /")}`);
  }
  // RFC 6052 §2.2: bits 64-71 MUST be zero; only a /96 prefix covers them.
  if (p.addr[8] !== 0) throw new Error(`"${text}" has bits 64-71 (the u-octet) set`);
  return p;
}

function eamtEntry(text: string): EamtEntry {
  const eq = text.indexOf("=");
  if (eq < 0) throw new Error(`"${text}" is not of the form V6PREFIX=V4PREFIX`);
  const v6 = parsePrefix(text.slice(0, eq), 6);
  const v4 = parsePrefix(text.slice(eq + 1), 4);
  // RFC 7757 §3.2: the IPv4 suffix may not be longer than the IPv6 suffix, or addresses would be lost.
  if (32 - v4.length > 128 - v6.length) {
    throw new Error(`"${text}" maps a larger IPv4 suffix (${32 - v4.length} bits) than the IPv6 one holds`);
  }
  return { v6, v4 };
}

/** Every translator key, in the order `--help` lists them. */
export const TRANSLATOR_KEYS: readonly KeySpec[] = [
  {
    name: "mode", kind: "string", help: "siit (RFC 7915 stateless) or nat64 (RFC 6146 stateful); default siit",
    apply: (c, v) => {
      if (v !== "siit" && v !== "nat64") throw new Error(`"${v}" is neither siit nor nat64`);
      c.mode = v;
    },
  },
  {
    name: "pool6", kind: "string", help: "RFC 6052 prefix, e.g. 64:ff9b::/96 (lengths 32, 40, 48, 56, 64, 96)",
    apply: (c, v) => (c.pool6 = rfc6052Prefix(v as string)),
  },
  {
    name: "eamt", kind: "string", multiple: true, help: "explicit address mapping V6PREFIX=V4PREFIX (RFC 7757), repeatable",
    apply: (c, v) => c.eamt.push(eamtEntry(v as string)),
  },
  {
    name: "rfc6791v4", kind: "string", help: "IPv4 address or prefix: source of errors from untranslatable IPv6 (RFC 6791)",
    apply: (c, v) => (c.rfc6791v4 = parsePrefix(v as string, 4)),
  },
  {
    name: "rfc6791v6", kind: "string", help: "IPv6 address or prefix: source of errors from untranslatable IPv4 (RFC 6791)",
    apply: (c, v) => (c.rfc6791v6 = parsePrefix(v as string, 6)),
  },
  {
    name: "lowest-ipv6-mtu", kind: "string", help: "fragment DF=0 IPv4 packets to this size in IPv6 (default 1280)",
    apply: (c, v) => (c.lowestIpv6Mtu = intIn(v as string, 1280, 65535)),
  },
  {
    name: "mtu-v6", kind: "string", help: "next-hop MTU out of the IPv6 side (default 1500)",
    apply: (c, v) => (c.mtuV6 = intIn(v as string, 1280, 65535)),
  },
  {
    name: "mtu-v4", kind: "string", help: "next-hop MTU out of the IPv4 side (default 1500)",
    apply: (c, v) => (c.mtuV4 = intIn(v as string, 68, 65535)),
  },
  {
    name: "udp-zero-csum", kind: "string", help: "IPv4 UDP with checksum 0: drop or calc (default drop)",
    apply: (c, v) => {
      if (v !== "drop" && v !== "calc") throw new Error(`"${v}" is neither drop nor calc`);
      c.udpZeroCsum = v;
    },
  },
  {
    name: "ipv4", kind: "string", help: "the translator's own IPv4 address (source of ICMPv4 errors it sends)",
    apply: (c, v) => (c.ipv4 = parseIPv4(v as string)),
  },
  {
    name: "ipv6", kind: "string", help: "the translator's own IPv6 address (source of ICMPv6 errors it sends)",
    apply: (c, v) => (c.ipv6 = parseIPv6(v as string)),
  },
  {
    name: "zeroize-traffic-class", kind: "boolean", help: "set the IPv6 traffic class to 0 instead of copying TOS",
    apply: (c, v) => (c.zeroizeTrafficClass = v as boolean),
  },
  {
    name: "allow-nonglobal-wkp", kind: "boolean",
    help: "let 64:ff9b::/96 carry private IPv4 addresses (RFC 6052 §3.1 forbids it)",
    apply: (c, v) => (c.allowNonGlobalWkp = v as boolean),
  },
];

/** The configuration before any key is applied. */
export function defaultTranslatorConfig(): TranslatorConfig {
  return {
    mode: "siit",
    eamt: [],
    lowestIpv6Mtu: 1280,
    mtuV6: 1500,
    mtuV4: 1500,
    udpZeroCsum: "drop",
    zeroizeTrafficClass: false,
    allowNonGlobalWkp: false,
  };
}

/**
 * Checks what no single key can: that the keys together describe a translator that
 * can translate something.
 */
export function checkTranslatorConfig(c: TranslatorConfig): void {
  if (!c.pool6 && c.eamt.length === 0) throw new Error("neither pool6 nor eamt is set: nothing could be translated");
  if (c.mode === "nat64" && !c.pool6) throw new Error("mode nat64 needs pool6");
}

/**
 * The configuration keys: one table that the command-line flags and the config file
 * share, so a key is spelled, checked and defaulted in exactly one place. A flag
 * `--lowest-ipv6-mtu 1400` and a file line `lowest-ipv6-mtu = 1400` are the same key.
 *
 * @module
 */

import { parseIPv4, parseIPv6, parsePrefix, type Prefix, RFC6052_LENGTHS } from "../net/ip.ts";

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
  /** IPv4 destinations no IPv6 packet is translated to (at most {@link MAX_DENY_V4}). */
  denyV4: Prefix[];
  /** IPv6 destinations no IPv4 packet is translated to (at most {@link MAX_DENY_V4}). */
  denyV6: Prefix[];
  /** A fixed IPv4 TOS instead of a copy of the IPv6 traffic class (RFC 7915 §5.1). */
  tosV4?: number;
  /** Most ICMP errors the translator generates per second (RFC 4443 §2.4(f)); 0 sends none. */
  icmpErrorsPerSecond: number;
  /** Stateful NAT64 (RFC 6146) settings; used when `mode` is "nat64". */
  nat64: Nat64Settings;
}

/** The transport protocols NAT64 keeps state for (RFC 6146 §3). */
export type Nat64Proto = "tcp" | "udp" | "icmp";

/** One pool4 range: an IPv4 prefix and the ports (ICMP: identifiers) of one protocol. */
export interface Pool4Range {
  readonly proto: Nat64Proto;
  readonly prefix: Prefix;
  readonly firstPort: number;
  readonly lastPort: number;
}

/** A static BIB entry (RFC 6146 §3.5.1): an IPv6 transport address always bound to an IPv4 one. */
export interface StaticBibEntry {
  readonly proto: Nat64Proto;
  readonly v4: Uint8Array;
  readonly port4: number;
  readonly v6: Uint8Array;
  readonly port6: number;
}

/** Session lifetimes in seconds (RFC 6146 §4). */
export interface Nat64Timeouts {
  udp: number;
  tcpEstablished: number;
  tcpTransitory: number;
  icmp: number;
  tcpIncomingSyn: number;
  fragment: number;
}

/** Stateful NAT64 settings. */
export interface Nat64Settings {
  pool4: Pool4Range[];
  staticBib: StaticBibEntry[];
  timeouts: Nat64Timeouts;
  /** RFC 6146 §3.5.1: endpoint-independent (default) or address-dependent filtering. */
  filtering: "endpoint-independent" | "address-dependent";
  /** Refuse TCP connections initiated from the IPv4 side, static BIB entries included. */
  dropExternalTcp: boolean;
  /** Most sessions overall; 0: the session capacity. */
  maxSessions: number;
  /** Most sessions per IPv6 host; 0: no limit. */
  maxSessionsPerHost: number;
  /** Sessions the tables are sized for at start-up. */
  sessionCapacity: number;
  /**
   * Source of the ICMPv6 errors translated from ICMPv4 errors: the IPv4 node that sent
   * the error, inside pool6 (RFC 7915 §4.2; traceroute shows every hop), or the
   * destination of the packet the error quotes (RFC 6146 §3.6's outgoing tuple).
   */
  icmpv6ErrorSource: "sender" | "destination";
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

const PROTOS: readonly Nat64Proto[] = ["tcp", "udp", "icmp"];

/** Default ports per protocol when a pool4 entry names none (ICMP identifiers may use the whole range). */
const DEFAULT_PORTS: Record<Nat64Proto, [number, number]> = {
  tcp: [1024, 65535],
  udp: [1024, 65535],
  icmp: [0, 65535],
};

/** `[tcp|udp|icmp,]ADDR[/LEN][:FIRST-LAST]`; no protocol means all three. */
function pool4Ranges(text: string): Pool4Range[] {
  let rest = text;
  let protos: readonly Nat64Proto[] = PROTOS;
  const comma = rest.indexOf(",");
  if (comma >= 0) {
    const proto = rest.slice(0, comma) as Nat64Proto;
    if (!PROTOS.includes(proto)) throw new Error(`"${text}": protocol "${proto}" is not tcp, udp or icmp`);
    protos = [proto];
    rest = rest.slice(comma + 1);
  }
  let ports: [number, number] | undefined;
  const colon = rest.indexOf(":");
  if (colon >= 0) {
    const m = rest.slice(colon + 1).match(/^(\d{1,5})(?:-(\d{1,5}))?$/);
    const first = m ? Number(m[1]) : NaN, last = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || first > last || last > 65535) throw new Error(`"${text}": ports must be FIRST-LAST within 0-65535`);
    ports = [first, last];
    rest = rest.slice(0, colon);
  }
  const prefix = parsePrefix(rest, 4);
  return protos.map((proto) => {
    const [firstPort, lastPort] = ports ?? DEFAULT_PORTS[proto];
    if (proto !== "icmp" && firstPort === 0) throw new Error(`"${text}": port 0 cannot be a ${proto} source port`);
    return { proto, prefix, firstPort, lastPort };
  });
}

/** `PROTO,V4#PORT,V6#PORT`, e.g. `tcp,192.0.2.2#2000,2001:db8::5#2000`. */
function staticBibEntry(text: string): StaticBibEntry {
  const parts = text.split(",");
  const bad = () => new Error(`"${text}" is not of the form PROTO,V4#PORT,V6#PORT`);
  if (parts.length !== 3) throw bad();
  const proto = parts[0] as Nat64Proto;
  if (!PROTOS.includes(proto)) throw new Error(`"${text}": protocol "${proto}" is not tcp, udp or icmp`);
  const transport = (t: string) => {
    const hash = t.lastIndexOf("#");
    if (hash < 0) throw bad();
    return { addr: t.slice(0, hash), port: intIn(t.slice(hash + 1), 0, 65535) };
  };
  const a4 = transport(parts[1]), a6 = transport(parts[2]);
  return { proto, v4: parseIPv4(a4.addr), port4: a4.port, v6: parseIPv6(a6.addr), port6: a6.port };
}

function seconds(text: string, min: number, what: string): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || n < min || n > 2 ** 31 / 1000) {
    throw new Error(`"${text}" is not a number of seconds from ${min} (${what}) to ${Math.floor(2 ** 31 / 1000)}`);
  }
  return n;
}

/** A session lifetime key, in seconds, never under its RFC 6146 §4 minimum `min` (named `what`). */
function timeoutKey(name: string, field: keyof Nat64Timeouts, min: number, what: string, help: string): KeySpec {
  return {
    name,
    kind: "string",
    help: `${help}, in seconds, at least ${min} (${what}, RFC 6146 §4)`,
    apply: (c, v) => (c.nat64.timeouts[field] = seconds(v as string, min, what)),
  };
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

/** Most `deny-v4` (and `deny-v6`) prefixes the engine takes (`MAX_DENY_V4`, `MAX_DENY_V6` in `wasm/src/config.rs`). */
export const MAX_DENY_V4 = 64;

/** Every translator key, in the order `--help` lists them. */
export const TRANSLATOR_KEYS: readonly KeySpec[] = [
  {
    name: "mode",
    kind: "string",
    help: "siit (RFC 7915 stateless) or nat64 (RFC 6146 stateful); default siit",
    apply: (c, v) => {
      if (v !== "siit" && v !== "nat64") throw new Error(`"${v}" is neither siit nor nat64`);
      c.mode = v;
    },
  },
  {
    name: "pool6",
    kind: "string",
    help: "RFC 6052 prefix, e.g. 64:ff9b::/96 (lengths 32, 40, 48, 56, 64, 96)",
    apply: (c, v) => (c.pool6 = rfc6052Prefix(v as string)),
  },
  {
    name: "eamt",
    kind: "string",
    multiple: true,
    help: "explicit address mapping V6PREFIX=V4PREFIX (RFC 7757), repeatable",
    apply: (c, v) => c.eamt.push(eamtEntry(v as string)),
  },
  {
    name: "rfc6791v4",
    kind: "string",
    help: "IPv4 address or prefix: source of errors from untranslatable IPv6 (RFC 6791)",
    apply: (c, v) => (c.rfc6791v4 = parsePrefix(v as string, 4)),
  },
  {
    name: "rfc6791v6",
    kind: "string",
    help: "IPv6 address or prefix: source of errors from untranslatable IPv4 (RFC 6791)",
    apply: (c, v) => (c.rfc6791v6 = parsePrefix(v as string, 6)),
  },
  {
    name: "lowest-ipv6-mtu",
    kind: "string",
    help: "fragment DF=0 IPv4 packets to this size in IPv6 (default 1280)",
    apply: (c, v) => (c.lowestIpv6Mtu = intIn(v as string, 1280, 65535)),
  },
  {
    name: "mtu-v6",
    kind: "string",
    help: "next-hop MTU out of the IPv6 side (default 1500)",
    apply: (c, v) => (c.mtuV6 = intIn(v as string, 1280, 65535)),
  },
  {
    name: "mtu-v4",
    kind: "string",
    help: "next-hop MTU out of the IPv4 side (default 1500)",
    apply: (c, v) => (c.mtuV4 = intIn(v as string, 68, 65535)),
  },
  {
    name: "udp-zero-csum",
    kind: "string",
    help: "IPv4 UDP with checksum 0: drop or calc (default drop; stateful NAT64 always calculates, RFC 6146 §3.4)",
    apply: (c, v) => {
      if (v !== "drop" && v !== "calc") throw new Error(`"${v}" is neither drop nor calc`);
      c.udpZeroCsum = v;
    },
  },
  {
    name: "ipv4",
    kind: "string",
    help: "the translator's own IPv4 address (source of ICMPv4 errors it sends)",
    apply: (c, v) => (c.ipv4 = parseIPv4(v as string)),
  },
  {
    name: "ipv6",
    kind: "string",
    help: "the translator's own IPv6 address (source of ICMPv6 errors it sends)",
    apply: (c, v) => (c.ipv6 = parseIPv6(v as string)),
  },
  {
    name: "zeroize-traffic-class",
    kind: "boolean",
    help: "set the IPv6 traffic class to 0 instead of copying TOS",
    apply: (c, v) => (c.zeroizeTrafficClass = v as boolean),
  },
  {
    name: "allow-nonglobal-wkp",
    kind: "boolean",
    help: "let 64:ff9b::/96 carry private IPv4 addresses (RFC 6052 §3.1 forbids it)",
    apply: (c, v) => (c.allowNonGlobalWkp = v as boolean),
  },
  {
    name: "deny-v4",
    kind: "string",
    multiple: true,
    help: `IPv4 prefix IPv6 clients may not reach through the translator, repeatable (at most ${MAX_DENY_V4})`,
    apply: (c, v) => {
      if (c.denyV4.length === MAX_DENY_V4) throw new Error(`more than ${MAX_DENY_V4} prefixes`);
      c.denyV4.push(parsePrefix(v as string, 4));
    },
  },
  {
    name: "deny-v6",
    kind: "string",
    multiple: true,
    help: `IPv6 prefix IPv4 clients may not reach through the translator, repeatable (at most ${MAX_DENY_V4})`,
    apply: (c, v) => {
      if (c.denyV6.length === MAX_DENY_V4) throw new Error(`more than ${MAX_DENY_V4} prefixes`);
      c.denyV6.push(parsePrefix(v as string, 6));
    },
  },
  {
    name: "tos-v4",
    kind: "string",
    help: "set every IPv4 TOS to this value instead of copying the traffic class",
    apply: (c, v) => (c.tosV4 = intIn(v as string, 0, 255)),
  },
  {
    name: "icmp-errors-per-second",
    kind: "string",
    help: "most ICMP errors generated per second, 0 for none (default 1000)",
    apply: (c, v) => (c.icmpErrorsPerSecond = intIn(v as string, 0, 1_000_000)),
  },
  {
    name: "pool4",
    kind: "string",
    multiple: true,
    help: "NAT64 IPv4 pool [tcp|udp|icmp,]ADDR[/LEN][:FIRST-LAST], repeatable (default ports 1024-65535)",
    apply: (c, v) => c.nat64.pool4.push(...pool4Ranges(v as string)),
  },
  {
    name: "static-bib",
    kind: "string",
    multiple: true,
    help: "static binding PROTO,V4#PORT,V6#PORT, repeatable",
    apply: (c, v) => c.nat64.staticBib.push(staticBibEntry(v as string)),
  },
  {
    name: "filtering",
    kind: "string",
    help: "endpoint-independent (default) or address-dependent (RFC 6146 §3.5.1)",
    apply: (c, v) => {
      if (v !== "endpoint-independent" && v !== "address-dependent") {
        throw new Error(`"${v}" is neither endpoint-independent nor address-dependent`);
      }
      c.nat64.filtering = v;
    },
  },
  {
    name: "drop-external-tcp",
    kind: "boolean",
    help: "refuse TCP connections opened from the IPv4 side",
    apply: (c, v) => (c.nat64.dropExternalTcp = v as boolean),
  },
  timeoutKey("udp-timeout", "udp", 120, "UDP_MIN", "UDP session lifetime (default 300)"),
  timeoutKey("tcp-est-timeout", "tcpEstablished", 7440, "TCP_EST", "established TCP session lifetime (default 7440)"),
  timeoutKey("tcp-trans-timeout", "tcpTransitory", 240, "TCP_TRANS", "transitory TCP session lifetime (default 240)"),
  timeoutKey("icmp-timeout", "icmp", 1, "one second", "ICMP query session lifetime (default 60)"),
  timeoutKey(
    "tcp-syn-timeout",
    "tcpIncomingSyn",
    6,
    "TCP_INCOMING_SYN",
    "how long an unsolicited IPv4 SYN is kept (default 6)",
  ),
  timeoutKey("fragment-timeout", "fragment", 2, "FRAGMENT_MIN", "how long fragments wait for the rest (default 2)"),
  {
    name: "max-sessions",
    kind: "string",
    help: "most NAT64 sessions overall (default: the session capacity)",
    apply: (c, v) => (c.nat64.maxSessions = intIn(v as string, 1, 2 ** 31)),
  },
  {
    name: "max-sessions-per-host",
    kind: "string",
    help: "most NAT64 sessions per IPv6 host (default: no limit)",
    apply: (c, v) => (c.nat64.maxSessionsPerHost = intIn(v as string, 1, 2 ** 31)),
  },
  {
    name: "icmpv6-error-source",
    kind: "string",
    help: "source of translated ICMPv6 errors: sender (the IPv4 router, default) or destination (RFC 6146 §3.6)",
    apply: (c, v) => {
      if (v !== "sender" && v !== "destination") throw new Error(`"${v}" is neither sender nor destination`);
      c.nat64.icmpv6ErrorSource = v;
    },
  },
  {
    name: "session-capacity",
    kind: "string",
    help: "sessions the tables are sized for at start-up (default 65536)",
    apply: (c, v) => (c.nat64.sessionCapacity = intIn(v as string, 16, 1 << 24)),
  },
];

/** RFC 6146 §4 lifetimes, in seconds (TCP_EST per RFC 5382: 2 h 4 min). */
export function defaultNat64Timeouts(): Nat64Timeouts {
  return { udp: 300, tcpEstablished: 7440, tcpTransitory: 240, icmp: 60, tcpIncomingSyn: 6, fragment: 2 };
}

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
    denyV4: [],
    denyV6: [],
    icmpErrorsPerSecond: 1000,
    nat64: {
      pool4: [],
      staticBib: [],
      timeouts: defaultNat64Timeouts(),
      filtering: "endpoint-independent",
      dropExternalTcp: false,
      maxSessions: 0,
      maxSessionsPerHost: 0,
      sessionCapacity: 65536,
      icmpv6ErrorSource: "sender",
    },
  };
}

/**
 * Checks what no single key can: that the keys together describe a translator that
 * can translate something.
 */
export function checkTranslatorConfig(c: TranslatorConfig): void {
  if (!c.pool6 && c.eamt.length === 0) throw new Error("neither pool6 nor eamt is set: nothing could be translated");
  if (c.mode === "nat64" && !c.pool6) throw new Error("mode nat64 needs pool6");
  if (c.mode === "nat64" && c.eamt.length) {
    throw new Error("eamt applies to mode siit only; stateful NAT64 maps through pool4");
  }
  if (c.mode === "nat64" && c.nat64.pool4.length === 0 && c.nat64.staticBib.length === 0) {
    throw new Error("mode nat64 needs pool4 (or static-bib entries)");
  }
}

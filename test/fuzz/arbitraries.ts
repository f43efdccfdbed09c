/**
 * fast-check arbitraries for the engine's property tests: translator configurations
 * (RFC 6052 prefix lengths, EAMT entries, MTUs, UDP zero-checksum policy, RFC 6791
 * pools) and, for a configuration, packets whose addresses it can translate (or, now and
 * then, cannot): IPv4 with options and fragments, IPv6 with extension headers and
 * fragments, UDP/TCP/ICMP echo, ICMP errors quoting an inner packet, other protocols.
 */

import fc from "fast-check";
import { embedIPv4, formatPrefix, parsePrefix, type Prefix } from "../../src/net/ip.ts";
import type { ExtSpec, IpSpec, Ipv4Spec, Ipv6Spec, L4Spec } from "./packet_builder.ts";

/** A configuration as flags plus what the packet arbitraries need to aim at it. */
export interface FuzzConfig {
  flags: string[];
  pool6: Prefix;
  /** EAMT entries with IPv4 and IPv6 suffixes of equal length, so the mapping is one-to-one (RFC 7757 §3.2). */
  eamt: { v6: Prefix; v4: Prefix }[];
  mtuV4: number;
  mtuV6: number;
}

/** A network-specific prefix (documentation space) of each RFC 6052 length, u-octet zero. */
const POOL6_BY_LENGTH: Record<number, string> = {
  32: "2001:db8::/32",
  40: "2001:db8:6400::/40",
  48: "2001:db8:64::/48",
  56: "2001:db8:64:6400::/56",
  64: "2001:db8:64:64::/64",
  96: "2001:db8:64:64::/96",
};

/** The IPv4 network the IPv6 side reaches through pool6. */
const REMOTE_V4 = [203, 0, 113];
/** IPv4 addresses of IPv6 hosts reached through pool6 when there is no EAMT. */
const LOCAL_V4 = [192, 0, 2];

const eamtEntryArb = (k: number) =>
  fc.integer({ min: 0, max: 6 }).map((bits) => ({
    v6: parsePrefix(`2001:db8:e:${k}::/${128 - bits}`, 6),
    v4: parsePrefix(`198.51.100.${k * 64}/${32 - bits}`, 4),
  }));

/** Translator configurations for SIIT. */
export const configArb: fc.Arbitrary<FuzzConfig> = fc.record({
  pool6Length: fc.constantFrom(32, 40, 48, 56, 64, 96),
  eamtCount: fc.integer({ min: 0, max: 3 }),
  eamtBits: fc.tuple(eamtEntryArb(0), eamtEntryArb(1), eamtEntryArb(2)),
  mtuV4: fc.oneof(fc.constantFrom(68, 576, 1280, 1400, 1500, 9000), fc.integer({ min: 68, max: 9000 })),
  mtuV6: fc.oneof(fc.constantFrom(1280, 1400, 1500, 9000), fc.integer({ min: 1280, max: 9000 })),
  lowest: fc.oneof(fc.constant(1280), fc.integer({ min: 1280, max: 9000 })),
  zeroCsum: fc.constantFrom("drop", "calc"),
  rfc6791v4: fc.option(fc.constantFrom("192.0.2.128/25", "192.0.2.200"), { nil: undefined }),
  rfc6791v6: fc.option(fc.constantFrom("2001:db8:ffff:6791::/64", "2001:db8:ffff::6791"), { nil: undefined }),
  ownAddresses: fc.boolean(),
}).map((r) => {
  const pool6 = parsePrefix(POOL6_BY_LENGTH[r.pool6Length], 6);
  const eamt = r.eamtBits.slice(0, r.eamtCount);
  const flags = ["--mode", "siit", "--pool6", POOL6_BY_LENGTH[r.pool6Length]];
  for (const e of eamt) flags.push("--eamt", `${formatPrefix(e.v6)}=${formatPrefix(e.v4)}`);
  flags.push("--mtu-v4", String(r.mtuV4), "--mtu-v6", String(r.mtuV6), "--lowest-ipv6-mtu", String(r.lowest));
  flags.push("--udp-zero-csum", r.zeroCsum);
  if (r.rfc6791v4) flags.push("--rfc6791v4", r.rfc6791v4);
  if (r.rfc6791v6) flags.push("--rfc6791v6", r.rfc6791v6);
  if (r.ownAddresses) flags.push("--ipv4", "192.0.2.1", "--ipv6", "2001:db8:ffff::1");
  return { flags, pool6, eamt, mtuV4: r.mtuV4, mtuV6: r.mtuV6 };
});

/** An IPv6-side host: its IPv6 address and the IPv4 address it is translated to. */
export interface Host {
  v6: Uint8Array;
  v4: Uint8Array;
}

/** Hosts inside an EAMT entry (`cfg.eamt` must not be empty). */
function eamtHostArb(cfg: FuzzConfig): fc.Arbitrary<Host> {
  return fc.integer({ min: 0, max: cfg.eamt.length - 1 }).chain((k) => {
    const e = cfg.eamt[k];
    return fc.integer({ min: 0, max: 2 ** (32 - e.v4.length) - 1 }).map((suffix) => {
      const v4 = e.v4.addr.slice();
      const v6 = e.v6.addr.slice();
      // Suffixes are at most 6 bits (eamtEntryArb): the last byte holds them.
      v4[3] |= suffix;
      v6[15] |= suffix;
      return { v6, v4 };
    });
  });
}

/** Hosts on the IPv6 side: inside an EAMT entry, or IPv4-embedded in pool6. */
export function localHostArb(cfg: FuzzConfig): fc.Arbitrary<Host> {
  const embedded = fc.integer({ min: 1, max: 254 }).map((x) => {
    const v4 = Uint8Array.from([...LOCAL_V4, x]);
    return { v6: embedIPv4(cfg.pool6, v4), v4 };
  });
  if (!cfg.eamt.length) return embedded;
  return fc.oneof({ arbitrary: eamtHostArb(cfg), weight: 3 }, { arbitrary: embedded, weight: 1 });
}

/**
 * Hosts on the IPv4 side, as the IPv6 side sees them through pool6; with `hairpins`, now
 * and then the IPv4 address of an EAMT entry, which sends IPv6 traffic back in
 * (hairpinning, RFC 7757 §4.2).
 */
export function remoteHostArb(cfg: FuzzConfig, hairpins = true): fc.Arbitrary<Host> {
  const embed = (v4: Uint8Array) => ({ v6: embedIPv4(cfg.pool6, v4), v4 });
  const remote = fc.integer({ min: 1, max: 254 }).map((x) => embed(Uint8Array.from([...REMOTE_V4, x])));
  if (!cfg.eamt.length || !hairpins) return remote;
  const hairpin = eamtHostArb(cfg).map((h) => embed(h.v4));
  return fc.oneof({ arbitrary: remote, weight: 9 }, { arbitrary: hairpin, weight: 1 });
}

const payloadArb = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 64 }), weight: 6 },
  {
    arbitrary: fc.integer({ min: 1000, max: 2200 }).map((n) => Uint8Array.from({ length: n }, (_, i) => i * 7)),
    weight: 1,
  },
);

const portArb = fc.oneof(fc.constantFrom(0, 53, 80, 1024, 65535), fc.integer({ min: 1, max: 65535 }));

/** Protocols other than UDP, TCP and ICMP (GRE, ESP, AH, PIM, SCTP, experimental, reserved). */
const OTHER_PROTOCOLS = [2, 47, 50, 51, 103, 132, 253, 255];

/** IPv4 options (RFC 791 §3.1): NOP, EOL, record route, timestamp, source routes, unknown. */
const optionArb = fc.oneof(
  fc.constant([1]),
  fc.constant([0]),
  fc.constant([7, 7, 4, 0, 0, 0, 0]),
  fc.constant([68, 8, 5, 0, 0, 0, 0, 0]),
  fc.constantFrom([131, 7, 4, 192, 0, 2, 9], [137, 7, 4, 192, 0, 2, 9]),
  fc.uint8Array({ minLength: 2, maxLength: 10 }).map((b) => [b[0] | 0x80, b.length, ...b.subarray(2)]),
);
const optionsArb = fc.oneof(
  { arbitrary: fc.constant(new Uint8Array()), weight: 6 },
  { arbitrary: fc.array(optionArb, { maxLength: 6 }).map((os) => Uint8Array.from(os.flat().slice(0, 40))), weight: 2 },
);

const extArb: fc.Arbitrary<ExtSpec> = fc.oneof(
  fc.record({ kind: fc.constantFrom("hop" as const, "dst" as const), units: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant("routing" as const), segmentsLeft: fc.integer({ min: 0, max: 2 }) }),
  fc.record({
    kind: fc.constant("fragment" as const),
    offset: fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, {
      arbitrary: fc.integer({ min: 0, max: 8191 }),
      weight: 1,
    }),
    more: fc.boolean(),
    id: fc.integer({ min: 0, max: 0xffffffff }),
  }),
);
const extsArb = fc.oneof({ arbitrary: fc.constant([] as ExtSpec[]), weight: 5 }, {
  arbitrary: fc.array(extArb, { maxLength: 4 }),
  weight: 2,
});

/** ICMP error types and codes (RFC 792, RFC 4443) with the word after the checksum. */
const ICMP4_ERRORS: [number, number][] = [
  [3, 0],
  [3, 1],
  [3, 2],
  [3, 3],
  [3, 4],
  [3, 5],
  [3, 9],
  [3, 10],
  [3, 13],
  [3, 15],
  [11, 0],
  [11, 1],
  [12, 0],
  [12, 2],
  [4, 0],
  [5, 1],
];
const ICMP6_ERRORS: [number, number][] = [
  [1, 0],
  [1, 1],
  [1, 2],
  [1, 3],
  [1, 4],
  [1, 5],
  [2, 0],
  [3, 0],
  [3, 1],
  [4, 0],
  [4, 1],
  [4, 2],
];
const restArb = fc.oneof(
  fc.constantFrom(0, 68, 576, 1280, 1500, 65535, 0x0c000000, 0x28000000),
  fc.integer({ min: 0, max: 0xffffffff }),
);

/**
 * Which side sends a packet: "local" hosts are on the IPv6 side (their packets go
 * IPv6 → IPv4), "remote" hosts on the IPv4 side.
 */
export type Sender = "local" | "remote";

function l4Arb(cfg: FuzzConfig, version: 4 | 6, from: Sender, depth: number): fc.Arbitrary<L4Spec> {
  const udp = fc.record({
    kind: fc.constant("udp" as const),
    sport: portArb,
    dport: portArb,
    payload: payloadArb,
    zeroChecksum: version === 4
      ? fc.oneof({ arbitrary: fc.constant(false), weight: 8 }, { arbitrary: fc.constant(true), weight: 1 })
      : fc.constant(false),
  });
  const tcp = fc.record({
    kind: fc.constant("tcp" as const),
    sport: portArb,
    dport: portArb,
    flags: fc.constantFrom(0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0xff),
    payload: payloadArb,
  });
  const echo = fc.record({
    kind: fc.constant("echo" as const),
    request: fc.boolean(),
    id: fc.integer({ min: 0, max: 65535 }),
    seq: fc.integer({ min: 0, max: 65535 }),
    payload: payloadArb,
  });
  const other = fc.record({
    kind: fc.constant("other" as const),
    proto: fc.constantFrom(...OTHER_PROTOCOLS),
    payload: fc.uint8Array({ maxLength: 64 }),
  });
  const options: fc.WeightedArbitrary<L4Spec>[] = [
    { arbitrary: udp, weight: 4 },
    { arbitrary: tcp, weight: 3 },
    { arbitrary: echo, weight: 2 },
    { arbitrary: other, weight: 1 },
  ];
  if (depth > 0) {
    // The quoted packet went the other way, from the host this error now goes to, in the error's own IP version.
    const quotedFrom: Sender = from === "local" ? "remote" : "local";
    const error = fc.record({
      kind: fc.constant("error" as const),
      typeCode: fc.constantFrom(...(version === 4 ? ICMP4_ERRORS : ICMP6_ERRORS)),
      rest: restArb,
      inner: ipArb(cfg, version, quotedFrom, depth - 1),
      innerCut: fc.oneof(fc.constant(10000), fc.integer({ min: 0, max: 1500 })),
    }).map(({ typeCode, ...e }): L4Spec => ({ ...e, type: typeCode[0], code: typeCode[1] }));
    options.push({ arbitrary: error, weight: 3 });
  }
  return fc.oneof(...options);
}

/**
 * Packets under `cfg` that local hosts send (IPv6 → IPv4) or remote hosts send
 * (IPv4 → IPv6); `depth` > 0 allows ICMP errors quoting a packet. One address in ten is
 * one the configuration cannot translate.
 */
export function packetArb(cfg: FuzzConfig, from: Sender, depth = 1): fc.Arbitrary<IpSpec> {
  return ipArb(cfg, from === "local" ? 6 : 4, from, depth);
}

/** A packet of IP version `version` from a `from` host to a host on the other side, addresses as `version` sees them. */
function ipArb(cfg: FuzzConfig, version: 4 | 6, from: Sender, depth: number): fc.Arbitrary<IpSpec> {
  const local = localHostArb(cfg), remote = remoteHostArb(cfg);
  const family = version === 4 ? "v4" : "v6";
  const stray = fc.uint8Array({ minLength: version === 4 ? 4 : 16, maxLength: version === 4 ? 4 : 16 });
  const addr = (host: fc.Arbitrary<Host>) =>
    fc.oneof({ arbitrary: host.map((h) => h[family]), weight: 9 }, { arbitrary: stray, weight: 1 });
  const src = addr(from === "local" ? local : remote), dst = addr(from === "local" ? remote : local);
  const ttl = fc.oneof({ arbitrary: fc.constant(64), weight: 6 }, {
    arbitrary: fc.integer({ min: 0, max: 255 }),
    weight: 2,
  });
  const badChecksum = fc.oneof({ arbitrary: fc.constant(false), weight: 9 }, {
    arbitrary: fc.constant(true),
    weight: 1,
  });
  if (version === 6) {
    return fc.record({
      version: fc.constant(6 as const),
      src,
      dst,
      trafficClass: fc.integer({ min: 0, max: 255 }),
      flowLabel: fc.integer({ min: 0, max: 0xfffff }),
      hopLimit: ttl,
      ext: extsArb,
      l4: l4Arb(cfg, 6, from, depth),
      badChecksum,
    }) as fc.Arbitrary<Ipv6Spec>;
  }
  const fragment = fc.oneof(
    { arbitrary: fc.constant({ more: false, offset: 0 }), weight: 6 },
    { arbitrary: fc.record({ more: fc.boolean(), offset: fc.integer({ min: 0, max: 8191 }) }), weight: 1 },
  );
  return fc.record({
    version: fc.constant(4 as const),
    src,
    dst,
    tos: fc.integer({ min: 0, max: 255 }),
    id: fc.integer({ min: 0, max: 65535 }),
    df: fc.boolean(),
    fragment,
    ttl,
    options: optionsArb,
    l4: l4Arb(cfg, 4, from, depth),
    badChecksum,
  }).map(({ fragment, ...s }): Ipv4Spec => ({ ...s, more: fragment.more, offset: fragment.offset }));
}

/** A configuration and a batch of 1–8 packets for it, both directions mixed. */
export const batchArb = configArb.chain((cfg) =>
  fc.record({
    cfg: fc.constant(cfg),
    specs: fc.array(fc.oneof(packetArb(cfg, "local"), packetArb(cfg, "remote")), { minLength: 1, maxLength: 8 }),
  })
);

/**
 * Builds IPv4 and IPv6 packets from plain specs, for the property tests: IPv4 options,
 * IPv6 extension headers (Hop-by-Hop, Destination Options, Routing, Fragment),
 * fragments, UDP/TCP/ICMP echo, ICMP errors quoting an inner packet, other protocols.
 * Checksums are right unless a spec asks for them to be wrong.
 */

import { inetChecksum } from "../util/packets.ts";
import { PROTO } from "./packet_view.ts";

/** The transport part of a packet. */
export type L4Spec =
  | { kind: "udp"; sport: number; dport: number; payload: Uint8Array; zeroChecksum: boolean }
  | { kind: "tcp"; sport: number; dport: number; flags: number; payload: Uint8Array }
  | { kind: "echo"; request: boolean; id: number; seq: number; payload: Uint8Array }
  | { kind: "error"; type: number; code: number; rest: number; inner: IpSpec; innerCut: number }
  | { kind: "other"; proto: number; payload: Uint8Array };

/** An IPv6 extension header before the transport header. */
export type ExtSpec =
  | { kind: "hop" | "dst"; units: number }
  | { kind: "routing"; segmentsLeft: number }
  | { kind: "fragment"; offset: number; more: boolean; id: number };

/** An IPv4 packet. */
export interface Ipv4Spec {
  version: 4;
  src: Uint8Array;
  dst: Uint8Array;
  tos: number;
  id: number;
  df: boolean;
  more: boolean;
  /** Fragment offset in 8-byte units. */
  offset: number;
  ttl: number;
  /** Option bytes (padded to a multiple of 4 when built). */
  options: Uint8Array;
  l4: L4Spec;
  /** Break the transport checksum. */
  badChecksum: boolean;
}

/** An IPv6 packet. */
export interface Ipv6Spec {
  version: 6;
  src: Uint8Array;
  dst: Uint8Array;
  trafficClass: number;
  flowLabel: number;
  hopLimit: number;
  ext: ExtSpec[];
  l4: L4Spec;
  badChecksum: boolean;
}

/** Either family. */
export type IpSpec = Ipv4Spec | Ipv6Spec;

function put16(p: Uint8Array, at: number, v: number): void {
  p[at] = (v >> 8) & 0xff;
  p[at + 1] = v & 0xff;
}

function put32(p: Uint8Array, at: number, v: number): void {
  put16(p, at, v >>> 16);
  put16(p, at + 2, v & 0xffff);
}

function protoOf(l4: L4Spec, version: 4 | 6): number {
  switch (l4.kind) {
    case "udp":
      return PROTO.UDP;
    case "tcp":
      return PROTO.TCP;
    case "echo":
    case "error":
      return version === 4 ? PROTO.ICMP : PROTO.ICMPV6;
    case "other":
      return l4.proto;
  }
}

/** The transport bytes with checksum 0 and where the checksum goes (-1: none). */
function l4Bytes(l4: L4Spec, version: 4 | 6): { bytes: Uint8Array; at: number } {
  switch (l4.kind) {
    case "udp": {
      const b = new Uint8Array(8 + l4.payload.length);
      put16(b, 0, l4.sport);
      put16(b, 2, l4.dport);
      put16(b, 4, b.length);
      b.set(l4.payload, 8);
      return { bytes: b, at: 6 };
    }
    case "tcp": {
      const b = new Uint8Array(20 + l4.payload.length);
      put16(b, 0, l4.sport);
      put16(b, 2, l4.dport);
      put32(b, 4, 0x01020304);
      b[12] = 5 << 4;
      b[13] = l4.flags;
      put16(b, 14, 0xffff);
      b.set(l4.payload, 20);
      return { bytes: b, at: 16 };
    }
    case "echo": {
      const b = new Uint8Array(8 + l4.payload.length);
      b[0] = version === 4 ? (l4.request ? 8 : 0) : (l4.request ? 128 : 129);
      put16(b, 4, l4.id);
      put16(b, 6, l4.seq);
      b.set(l4.payload, 8);
      return { bytes: b, at: 2 };
    }
    case "error": {
      const inner = buildIp(l4.inner);
      const quoted = inner.subarray(0, Math.min(inner.length, l4.innerCut));
      const b = new Uint8Array(8 + quoted.length);
      b[0] = l4.type;
      b[1] = l4.code;
      put32(b, 4, l4.rest);
      b.set(quoted, 8);
      return { bytes: b, at: 2 };
    }
    case "other":
      return { bytes: l4.payload.slice(), at: -1 };
  }
}

function pseudo(version: 4 | 6, src: Uint8Array, dst: Uint8Array, proto: number, len: number): Uint8Array {
  if (version === 4) return Uint8Array.from([...src, ...dst, 0, proto, len >> 8, len & 0xff]);
  return Uint8Array.from([...src, ...dst, 0, 0, len >> 8, len & 0xff, 0, 0, 0, proto]);
}

/** Fills in the transport checksum (ICMPv4 has no pseudo-header, RFC 792). */
function checksum(l4: L4Spec, version: 4 | 6, spec: IpSpec, body: { bytes: Uint8Array; at: number }): void {
  if (body.at < 0 || (l4.kind === "udp" && l4.zeroChecksum)) return;
  const proto = protoOf(l4, version);
  const sum = proto === PROTO.ICMP
    ? inetChecksum(body.bytes)
    : inetChecksum(pseudo(version, spec.src, spec.dst, proto, body.bytes.length), body.bytes);
  put16(body.bytes, body.at, (sum === 0 && l4.kind === "udp" ? 0xffff : sum) ^ (spec.badChecksum ? 0x5555 : 0));
}

/** The bytes of the packet `spec` describes. */
export function buildIp(spec: IpSpec): Uint8Array {
  return spec.version === 4 ? buildIpv4(spec) : buildIpv6(spec);
}

function buildIpv4(s: Ipv4Spec): Uint8Array {
  const body = l4Bytes(s.l4, 4);
  checksum(s.l4, 4, s, body);
  const optLen = (s.options.length + 3) & ~3;
  const ihl = 20 + optLen;
  const p = new Uint8Array(ihl + body.bytes.length);
  p[0] = 0x40 | (ihl / 4);
  p[1] = s.tos;
  put16(p, 2, p.length);
  put16(p, 4, s.id);
  put16(p, 6, (s.df ? 0x4000 : 0) | (s.more ? 0x2000 : 0) | (s.offset & 0x1fff));
  p[8] = s.ttl;
  p[9] = protoOf(s.l4, 4);
  p.set(s.src, 12);
  p.set(s.dst, 16);
  p.set(s.options, 20);
  put16(p, 10, inetChecksum(p.subarray(0, ihl)));
  p.set(body.bytes, ihl);
  return p;
}

function extBytes(e: ExtSpec, next: number): Uint8Array {
  if (e.kind === "fragment") {
    const b = new Uint8Array(8);
    b[0] = next;
    put16(b, 2, ((e.offset & 0x1fff) << 3) | (e.more ? 1 : 0));
    put32(b, 4, e.id);
    return b;
  }
  const units = e.kind === "routing" ? 1 : e.units;
  const b = new Uint8Array(8 * (units + 1));
  b[0] = next;
  b[1] = units;
  if (e.kind === "routing") {
    // Type 0 was deprecated (RFC 5095); 253 is the experimental type (RFC 4727).
    b[2] = 253;
    b[3] = e.segmentsLeft;
  } else {
    // One PadN option filling the header (RFC 8200 §4.2).
    b[2] = 1;
    b[3] = b.length - 4;
  }
  return b;
}

const EXT_PROTO: Record<ExtSpec["kind"], number> = {
  hop: PROTO.HOPOPT,
  dst: PROTO.DSTOPTS,
  routing: PROTO.ROUTING,
  fragment: PROTO.FRAGMENT,
};

function buildIpv6(s: Ipv6Spec): Uint8Array {
  const body = l4Bytes(s.l4, 6);
  checksum(s.l4, 6, s, body);
  const headers: Uint8Array[] = [];
  let next = protoOf(s.l4, 6);
  for (let i = s.ext.length - 1; i >= 0; i--) {
    headers.unshift(extBytes(s.ext[i], next));
    next = EXT_PROTO[s.ext[i].kind];
  }
  const extLen = headers.reduce((n, h) => n + h.length, 0);
  const p = new Uint8Array(40 + extLen + body.bytes.length);
  put32(p, 0, (6 << 28) | ((s.trafficClass & 0xff) << 20) | (s.flowLabel & 0xfffff));
  put16(p, 4, p.length - 40);
  p[6] = next;
  p[7] = s.hopLimit;
  p.set(s.src, 8);
  p.set(s.dst, 24);
  let at = 40;
  for (const h of headers) {
    p.set(h, at);
    at += h.length;
  }
  p.set(body.bytes, at);
  return p;
}

/**
 * Reads just enough of an IPv4 or IPv6 packet to judge the engine's outputs: the header
 * fields that must agree with the byte count, where the transport payload is, whether
 * the packet is a fragment, and whether its transport checksum verifies. Written apart
 * from the engine's parsers so that a bug there cannot hide behind the same bug here.
 */

import { inetChecksum } from "../util/packets.ts";

/** Protocol numbers (IANA). */
export const PROTO = {
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ICMPV6: 58,
  HOPOPT: 0,
  ROUTING: 43,
  FRAGMENT: 44,
  DSTOPTS: 60,
} as const;

/** Where a packet's fragment header says this piece belongs (RFC 791 §3.1, RFC 8200 §4.5). */
export interface FragmentInfo {
  /** Offset of this piece's payload in the whole datagram's payload, in bytes. */
  offset: number;
  more: boolean;
  id: number;
}

/** What {@link viewPacket} found. */
export interface PacketView {
  version: 4 | 6;
  /** Upper-layer protocol (after IPv6 extension headers). */
  proto: number;
  src: Uint8Array;
  dst: Uint8Array;
  /** Bytes from the start of the packet to the upper-layer header. */
  headerLen: number;
  /** The upper-layer bytes of this packet (up to the length the IP header states). */
  payload: Uint8Array;
  /** Null for a packet that is whole (IPv6 atomic fragments count as whole). */
  fragment: FragmentInfo | null;
  /** True when an IPv6 Routing header is present (its pseudo-header uses another destination). */
  routed: boolean;
}

/**
 * Parses `p`; returns a sentence saying what is wrong when the IP header does not agree
 * with itself or with `p.length` (which must equal the length the header states).
 */
export function viewPacket(p: Uint8Array): PacketView | string {
  if (p.length < 1) return "empty packet";
  const version = p[0] >> 4;
  if (version === 4) return viewIpv4(p);
  if (version === 6) return viewIpv6(p);
  return `version nibble ${version}`;
}

function viewIpv4(p: Uint8Array): PacketView | string {
  if (p.length < 20) return `IPv4 packet of ${p.length} bytes is shorter than a header`;
  const ihl = (p[0] & 0xf) * 4;
  const total = (p[2] << 8) | p[3];
  if (ihl < 20) return `IPv4 IHL ${ihl / 4} is below 5`;
  if (total !== p.length) return `IPv4 total length ${total} but ${p.length} bytes`;
  if (ihl > total) return `IPv4 IHL ${ihl / 4} runs past total length ${total}`;
  if (inetChecksum(p.subarray(0, ihl)) !== 0) return "IPv4 header checksum does not verify";
  const frag = (p[6] << 8) | p[7];
  const more = (frag & 0x2000) !== 0;
  const offset = (frag & 0x1fff) * 8;
  return {
    version: 4,
    proto: p[9],
    src: p.subarray(12, 16),
    dst: p.subarray(16, 20),
    headerLen: ihl,
    payload: p.subarray(ihl, total),
    fragment: more || offset ? { offset, more, id: (p[4] << 8) | p[5] } : null,
    routed: false,
  };
}

function viewIpv6(p: Uint8Array): PacketView | string {
  if (p.length < 40) return `IPv6 packet of ${p.length} bytes is shorter than a header`;
  const payloadLen = (p[4] << 8) | p[5];
  if (payloadLen + 40 !== p.length) {
    return `IPv6 payload length ${payloadLen} but ${p.length - 40} bytes follow the header`;
  }
  let next = p[6];
  let pos = 40;
  let fragment: FragmentInfo | null = null;
  let routed = false;
  while (next === PROTO.HOPOPT || next === PROTO.ROUTING || next === PROTO.DSTOPTS || next === PROTO.FRAGMENT) {
    if (pos + 8 > p.length) return `IPv6 extension header ${next} at ${pos} runs past the packet`;
    const len = next === PROTO.FRAGMENT ? 8 : (p[pos + 1] + 1) * 8;
    if (pos + len > p.length) return `IPv6 extension header ${next} at ${pos} runs past the packet`;
    if (next === PROTO.ROUTING) routed = true;
    if (next === PROTO.FRAGMENT) {
      const word = (p[pos + 2] << 8) | p[pos + 3];
      const offset = word & 0xfff8, more = (word & 1) === 1;
      const id = ((p[pos + 4] << 24) | (p[pos + 5] << 16) | (p[pos + 6] << 8) | p[pos + 7]) >>> 0;
      if (offset || more) fragment = { offset, more, id };
    }
    next = p[pos];
    pos += len;
    // A non-first fragment carries payload bytes, not the next header (RFC 8200 §4.5).
    if (fragment && fragment.offset) break;
  }
  return {
    version: 6,
    proto: next,
    src: p.subarray(8, 24),
    dst: p.subarray(24, 40),
    headerLen: pos,
    payload: p.subarray(pos),
    fragment,
    routed,
  };
}

function pseudoHeader(v: PacketView, length: number): Uint8Array {
  if (v.version === 4) return Uint8Array.from([...v.src, ...v.dst, 0, v.proto, length >> 8, length & 0xff]);
  return Uint8Array.from([...v.src, ...v.dst, 0, 0, length >> 8, length & 0xff, 0, 0, 0, v.proto]);
}

/** Whether a transport checksum verifies, or why it cannot be judged. */
export type ChecksumState = "valid" | "invalid" | "absent" | "not-applicable";

/**
 * The state of the transport checksum of `payload` (a whole datagram's upper-layer bytes)
 * as carried by `v`'s addresses: "absent" is IPv4 UDP with checksum 0 (RFC 768), and
 * "not-applicable" is a protocol without a checksum we know, a routed IPv6 packet (whose
 * pseudo-header uses the final destination) or a header too short to hold the field.
 */
export function checksumState(v: PacketView, payload: Uint8Array = v.payload): ChecksumState {
  if (v.routed) return "not-applicable";
  const at = v.proto === PROTO.TCP
    ? 16
    : v.proto === PROTO.UDP
    ? 6
    : v.proto === PROTO.ICMP || v.proto === PROTO.ICMPV6
    ? 2
    : -1;
  if (at < 0 || payload.length < at + 2) return "not-applicable";
  if (v.proto === PROTO.ICMP && v.version === 6) return "not-applicable";
  if (v.proto === PROTO.ICMPV6 && v.version === 4) return "not-applicable";
  if (v.proto === PROTO.UDP && v.version === 4 && payload[6] === 0 && payload[7] === 0) return "absent";
  // RFC 8200 §8.1: an IPv6 UDP checksum of zero is never valid.
  if (v.proto === PROTO.UDP && v.version === 6 && payload[6] === 0 && payload[7] === 0) return "invalid";
  const sum = v.proto === PROTO.ICMP ? inetChecksum(payload) : inetChecksum(pseudoHeader(v, payload.length), payload);
  return sum === 0 ? "valid" : "invalid";
}

/**
 * Puts fragments of one datagram back together: the upper-layer bytes, or a sentence
 * saying why they do not form one datagram (gaps, overlaps, no last piece, mixed IDs).
 */
export function reassemble(pieces: PacketView[]): Uint8Array | string {
  const sorted = [...pieces].sort((a, b) => a.fragment!.offset - b.fragment!.offset);
  const id = sorted[0].fragment!.id;
  let end = 0;
  for (const [i, v] of sorted.entries()) {
    const f = v.fragment!;
    if (f.id !== id) return `fragments carry identifications ${id} and ${f.id}`;
    if (f.offset !== end) return `fragment at offset ${f.offset} where ${end} was expected`;
    if (f.more !== (i < sorted.length - 1)) return `fragment at offset ${f.offset} has M=${f.more ? 1 : 0}`;
    if (f.more && v.payload.length % 8 !== 0) {
      return `non-last fragment at offset ${f.offset} has ${v.payload.length} bytes`;
    }
    end += v.payload.length;
  }
  const whole = new Uint8Array(end);
  for (const v of sorted) whole.set(v.payload, v.fragment!.offset);
  return whole;
}

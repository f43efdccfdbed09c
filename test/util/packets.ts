/**
 * Builds IPv4/IPv6 packets with valid checksums and verifies the checksums of packets
 * the engine emits. Test and benchmark data only; independent of the engine's own code,
 * so a checksum bug there cannot hide behind the same bug here.
 */

import { parseIP } from "../../src/net/ip.ts";

/** Internet checksum (RFC 1071) over `parts`, as the 16-bit one's complement of the sum. */
export function inetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  for (const p of parts) {
    for (let i = 0; i + 1 < p.length; i += 2) sum += (p[i] << 8) | p[i + 1];
    if (p.length & 1) sum += p[p.length - 1] << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function pseudoHeader(src: Uint8Array, dst: Uint8Array, proto: number, len: number): Uint8Array {
  if (src.length === 4) return Uint8Array.from([...src, ...dst, 0, proto, len >> 8, len & 0xff]);
  return Uint8Array.from([...src, ...dst, 0, 0, len >> 8, len & 0xff, 0, 0, 0, proto]);
}

/** What to put in a packet; addresses as text. */
export interface PacketSpec {
  src: string;
  dst: string;
  proto: "udp" | "tcp" | "icmp";
  /** Total IP packet length in bytes (payload padded to reach it). */
  size?: number;
  ttl?: number;
  sport?: number;
  dport?: number;
  tos?: number;
  df?: boolean;
  id?: number;
}

/** Builds one IPv4 or IPv6 packet (family from the addresses) with valid checksums. */
export function buildPacket(spec: PacketSpec): Uint8Array {
  const src = parseIP(spec.src), dst = parseIP(spec.dst);
  const v6 = src.length === 16;
  const ipLen = v6 ? 40 : 20;
  const l4Len = spec.proto === "tcp" ? 20 : 8;
  const total = Math.max(spec.size ?? ipLen + l4Len, ipLen + l4Len);
  const p = new Uint8Array(total);
  const proto = spec.proto === "udp" ? 17 : spec.proto === "tcp" ? 6 : v6 ? 58 : 1;
  const ttl = spec.ttl ?? 64;
  if (v6) {
    p[0] = 0x60 | ((spec.tos ?? 0) >> 4);
    p[1] = ((spec.tos ?? 0) & 0xf) << 4;
    p[4] = (total - 40) >> 8;
    p[5] = (total - 40) & 0xff;
    p[6] = proto;
    p[7] = ttl;
    p.set(src, 8);
    p.set(dst, 24);
  } else {
    p[0] = 0x45;
    p[1] = spec.tos ?? 0;
    p[2] = total >> 8;
    p[3] = total & 0xff;
    p[4] = (spec.id ?? 0) >> 8;
    p[5] = (spec.id ?? 0) & 0xff;
    p[6] = spec.df ? 0x40 : 0;
    p[8] = ttl;
    p[9] = proto;
    p.set(src, 12);
    p.set(dst, 16);
    const c = inetChecksum(p.subarray(0, 20));
    p[10] = c >> 8;
    p[11] = c & 0xff;
  }
  const l4 = p.subarray(ipLen);
  for (let i = l4Len; i < l4.length; i++) l4[i] = i & 0xff;
  if (spec.proto === "icmp") {
    l4[0] = v6 ? 128 : 8; // echo request
    l4[4] = (spec.sport ?? 1) >> 8;
    l4[5] = (spec.sport ?? 1) & 0xff;
  } else {
    l4[0] = (spec.sport ?? 40000) >> 8;
    l4[1] = (spec.sport ?? 40000) & 0xff;
    l4[2] = (spec.dport ?? 80) >> 8;
    l4[3] = (spec.dport ?? 80) & 0xff;
    if (spec.proto === "udp") {
      l4[4] = l4.length >> 8;
      l4[5] = l4.length & 0xff;
    } else {
      l4[12] = 5 << 4;
      l4[13] = 0x10; // ACK
      l4[14] = 0xff;
      l4[15] = 0xff;
    }
  }
  const csumAt = spec.proto === "udp" ? 6 : spec.proto === "tcp" ? 16 : 2;
  const c = spec.proto === "icmp" && !v6
    ? inetChecksum(l4)
    : inetChecksum(pseudoHeader(src, dst, proto, l4.length), l4);
  l4[csumAt] = c >> 8;
  l4[csumAt + 1] = c & 0xff;
  return p;
}

/** True when the packet's IPv4 header checksum (if any) and L4 checksum verify. */
export function checksumsValid(p: Uint8Array): boolean {
  const v6 = p[0] >> 4 === 6;
  let proto: number, src: Uint8Array, dst: Uint8Array, l4: Uint8Array;
  if (v6) {
    proto = p[6];
    src = p.subarray(8, 24);
    dst = p.subarray(24, 40);
    l4 = p.subarray(40);
  } else {
    const ihl = (p[0] & 0xf) * 4;
    if (inetChecksum(p.subarray(0, ihl)) !== 0) return false;
    proto = p[9];
    src = p.subarray(12, 16);
    dst = p.subarray(16, 20);
    l4 = p.subarray(ihl, (p[2] << 8) | p[3]);
  }
  if (proto === 1) return inetChecksum(l4) === 0;
  return inetChecksum(pseudoHeader(src, dst, proto, l4.length), l4) === 0;
}

/**
 * Encodes a validated translator config as the engine's TLV records (the format is in
 * the ABI comment of `wasm/src/lib.rs`; the tag numbers mirror `wasm/src/config.rs`).
 *
 * @module
 */

import type { Prefix } from "../net/ip.ts";
import type { Nat64Settings, TranslatorConfig } from "../config/schema.ts";

/** Record tags, as `wasm/src/config.rs` numbers them. */
export const TAG = {
  MODE: 0x01,
  POOL6: 0x02,
  EAMT: 0x03,
  RFC6791_V4: 0x04,
  RFC6791_V6: 0x05,
  LOWEST_IPV6_MTU: 0x06,
  MTU_V6: 0x07,
  MTU_V4: 0x08,
  UDP_ZERO_CSUM: 0x09,
  OWN_IPV4: 0x0a,
  OWN_IPV6: 0x0b,
  ZEROIZE_TC: 0x0c,
  WKP_ALLOW_NONGLOBAL: 0x0d,
  TOS_V4: 0x0e,
  ICMP_ERRORS_PER_SECOND: 0x0f,
  POOL4: 0x10,
  STATIC_BIB: 0x11,
  TIMEOUTS: 0x12,
  FILTERING: 0x13,
  DROP_EXTERNAL_TCP: 0x14,
  MAX_SESSIONS: 0x15,
  MAX_SESSIONS_PER_HOST: 0x16,
  ICMP_ERROR_SOURCE: 0x17,
  DENY_V4: 0x18,
  DENY_V6: 0x19,
  OFFLOAD: 0x1a,
  SESSION_EVENTS: 0x1b,
  USO: 0x1c,
} as const;

/** Bits of the USO record: the families whose translated UDP datagrams may leave as UDP super-packets. */
export const UsoFamily = { IPV4: 1, IPV6: 2 } as const;

/**
 * What the engine is configured from: the translator keys, and what the host adds about
 * its own I/O. `offloads` (default false): the TUN reads and writes every packet behind
 * a virtio-net header (`IFF_VNET_HDR` with offloads), so the engine honours the input
 * headers (partial checksums, GSO super-packets; see the ABI in `wasm/src/lib.rs`).
 * `uso` (default 0): a mask of {@link UsoFamily} bits, set for each family whose UDP
 * segmentation offload the TUN accepted (`TUN_F_USO4`, `TUN_F_USO6`), so that the engine
 * writes a batch's translated UDP datagrams of one flow as one super-packet; the engine
 * refuses a mask other than 0 without `offloads`.
 */
export type EngineConfig = TranslatorConfig & { offloads?: boolean; uso?: number };

/** Protocol numbers of the NAT64 records: 0 TCP, 1 UDP, 2 ICMP. */
const PROTO_CODE = { tcp: 0, udp: 1, icmp: 2 } as const;

/** Little-endian u16 bytes. */
export function u16(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff];
}

/** Accumulates TLV records: `tag: u16 LE, len: u16 LE, value`. */
export class TlvWriter {
  #bytes: number[] = [];

  /** Appends one record. */
  record(tag: number, ...parts: (Uint8Array | number[])[]): this {
    const value = parts.flatMap((p) => Array.from(p));
    this.#bytes.push(tag & 0xff, tag >> 8, value.length & 0xff, value.length >> 8, ...value);
    return this;
  }

  /** The records so far. */
  bytes(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }
}

/** Little-endian u32 bytes. */
export function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** A prefix as `addr bytes, u8 length`. */
export function prefixBytes(p: Prefix): number[] {
  return [...p.addr, p.length];
}

/** Encodes the whole translator config. */
export function encodeTranslatorConfig(c: EngineConfig): TlvWriter {
  const w = new TlvWriter();
  w.record(TAG.MODE, [c.mode === "nat64" ? 1 : 0]);
  if (c.pool6) w.record(TAG.POOL6, prefixBytes(c.pool6));
  for (const e of c.eamt) w.record(TAG.EAMT, prefixBytes(e.v6), prefixBytes(e.v4));
  if (c.rfc6791v4) w.record(TAG.RFC6791_V4, prefixBytes(c.rfc6791v4));
  if (c.rfc6791v6) w.record(TAG.RFC6791_V6, prefixBytes(c.rfc6791v6));
  w.record(TAG.LOWEST_IPV6_MTU, u32(c.lowestIpv6Mtu));
  w.record(TAG.MTU_V6, u32(c.mtuV6));
  w.record(TAG.MTU_V4, u32(c.mtuV4));
  w.record(TAG.UDP_ZERO_CSUM, [c.udpZeroCsum === "calc" ? 1 : 0]);
  if (c.ipv4) w.record(TAG.OWN_IPV4, c.ipv4);
  if (c.ipv6) w.record(TAG.OWN_IPV6, c.ipv6);
  w.record(TAG.ZEROIZE_TC, [c.zeroizeTrafficClass ? 1 : 0]);
  w.record(TAG.WKP_ALLOW_NONGLOBAL, [c.allowNonGlobalWkp ? 1 : 0]);
  for (const p of c.denyV4) w.record(TAG.DENY_V4, prefixBytes(p));
  for (const p of c.denyV6) w.record(TAG.DENY_V6, prefixBytes(p));
  if (c.tosV4 !== undefined) w.record(TAG.TOS_V4, [c.tosV4]);
  w.record(TAG.ICMP_ERRORS_PER_SECOND, u32(c.icmpErrorsPerSecond));
  w.record(TAG.OFFLOAD, [c.offloads ? 1 : 0]);
  w.record(TAG.USO, [c.uso ?? 0]);
  if (c.mode === "nat64") encodeNat64(w, c.nat64);
  return w;
}

/** The stateful NAT64 records. */
function encodeNat64(w: TlvWriter, n: Nat64Settings): void {
  for (const r of n.pool4) {
    w.record(TAG.POOL4, [PROTO_CODE[r.proto]], prefixBytes(r.prefix), u16(r.firstPort), u16(r.lastPort));
  }
  for (const b of n.staticBib) {
    w.record(TAG.STATIC_BIB, [PROTO_CODE[b.proto]], b.v6, u16(b.port6), b.v4, u16(b.port4));
  }
  const t = n.timeouts;
  const ms = (s: number) => u32(Math.round(s * 1000));
  w.record(
    TAG.TIMEOUTS,
    ms(t.udp),
    ms(t.tcpEstablished),
    ms(t.tcpTransitory),
    ms(t.icmp),
    ms(t.tcpIncomingSyn),
    ms(t.fragment),
  );
  w.record(TAG.FILTERING, [n.filtering === "address-dependent" ? 1 : 0]);
  w.record(TAG.DROP_EXTERNAL_TCP, [n.dropExternalTcp ? 1 : 0]);
  w.record(TAG.MAX_SESSIONS, u32(n.maxSessions));
  w.record(TAG.MAX_SESSIONS_PER_HOST, u32(n.maxSessionsPerHost));
  w.record(TAG.ICMP_ERROR_SOURCE, [n.icmpv6ErrorSource === "destination" ? 1 : 0]);
}

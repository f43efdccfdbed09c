/**
 * Encodes a validated translator config as the engine's TLV records (the format is in
 * the ABI comment of `wasm/src/lib.rs`; the tag numbers mirror `wasm/src/config.rs`).
 *
 * @module
 */

import type { Prefix } from "../net/ip.ts";
import type { TranslatorConfig } from "../config/schema.ts";

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
} as const;

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
export function encodeTranslatorConfig(c: TranslatorConfig): TlvWriter {
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
  return w;
}

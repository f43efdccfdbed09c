/**
 * Packet mutations for the engine fuzzer: bit flips, byte and 16-bit field sets,
 * truncation and extension, length-field lies, splices of two packets, repeated IPv6
 * extension headers, and fix-ups (lengths and checksums made right again) so mutated
 * packets also get past the first checks and into the deeper code.
 */

import { inetChecksum } from "../util/packets.ts";
import { checksumState, PROTO, viewPacket } from "./packet_view.ts";
import type { Prng } from "./prng.ts";

const INTERESTING_8 = [0, 1, 3, 4, 6, 11, 12, 17, 43, 44, 58, 60, 0x3f, 0x40, 0x45, 0x60, 0x7f, 0x80, 0xff];
const INTERESTING_16 = [0, 1, 7, 8, 20, 28, 40, 48, 68, 576, 1280, 1500, 0x7fff, 0x8000, 0xfffe, 0xffff];

/** Offsets near the start are where headers are; mutations favour them. */
function offset(rng: Prng, len: number): number {
  if (len <= 1) return 0;
  return rng.chance(0.7) ? rng.below(Math.min(len, 96)) : rng.below(len);
}

function put16(p: Uint8Array, at: number, v: number): void {
  if (at + 1 >= p.length) return;
  p[at] = (v >> 8) & 0xff;
  p[at + 1] = v & 0xff;
}

/** Offsets of 16-bit length fields of the outer and (for ICMP errors) inner headers. */
function lengthFields(p: Uint8Array): number[] {
  const fields: number[] = [];
  const walk = (at: number, depth: number) => {
    if (at >= p.length) return;
    const version = p[at] >> 4;
    if (version === 4 && at + 20 <= p.length) {
      const ihl = (p[at] & 0xf) * 4;
      fields.push(at + 2);
      const l4 = at + ihl;
      if (p[at + 9] === PROTO.UDP) fields.push(l4 + 4);
      if (p[at + 9] === PROTO.ICMP && depth === 0) walk(l4 + 8, 1);
    } else if (version === 6 && at + 40 <= p.length) {
      fields.push(at + 4);
      if (p[at + 6] === PROTO.UDP) fields.push(at + 44);
      if (p[at + 6] === PROTO.ICMPV6 && depth === 0) walk(at + 48, 1);
    }
  };
  walk(0, 0);
  return fields.filter((f) => f + 1 < p.length);
}

/** A copy of `p` with extension header `type` inserted `times` times right after the IPv6 header. */
export function repeatExtension(p: Uint8Array, type: number, times: number, rng: Prng): Uint8Array {
  if (p.length < 40 || p[0] >> 4 !== 6) return p;
  const one = type === PROTO.FRAGMENT ? 8 : 8 * rng.range(1, 3);
  const out = new Uint8Array(p.length + one * times);
  out.set(p.subarray(0, 40));
  let next = p[6];
  let at = 40 + one * times;
  out.set(p.subarray(40), at);
  for (let k = times - 1; k >= 0; k--) {
    at -= one;
    out[at] = next;
    if (type === PROTO.FRAGMENT) {
      // Offset 0, M=0 (an atomic fragment, RFC 6946) or random bits.
      if (rng.chance(0.5)) out.set(rng.bytes(6), at + 2);
    } else {
      out[at + 1] = one / 8 - 1;
      // PadN options filling the header (RFC 8200 §4.2), or random option bytes.
      if (rng.chance(0.7)) {
        out[at + 2] = 1;
        out[at + 3] = one - 4;
      } else out.set(rng.bytes(one - 2), at + 2);
      if (type === PROTO.ROUTING) out[at + 3] = rng.below(3);
    }
    next = type;
  }
  out[6] = next;
  put16(out, 4, out.length - 40);
  return out;
}

/** Makes the IP length fields say how many bytes there are (outer header only). */
export function fixLengths(p: Uint8Array): void {
  if (p.length >= 20 && p[0] >> 4 === 4) put16(p, 2, Math.min(p.length, 0xffff));
  if (p.length >= 40 && p[0] >> 4 === 6) put16(p, 4, Math.min(p.length - 40, 0xffff));
}

/** Recomputes the IPv4 header checksum and, for a whole packet, the transport checksum. */
export function fixChecksums(p: Uint8Array): void {
  if (p.length >= 20 && p[0] >> 4 === 4) {
    const ihl = (p[0] & 0xf) * 4;
    if (ihl >= 20 && ihl <= p.length) {
      put16(p, 10, 0);
      put16(p, 10, inetChecksum(p.subarray(0, ihl)));
    }
  }
  const v = viewPacket(p);
  if (typeof v === "string" || v.fragment || v.routed) return;
  const at = v.proto === PROTO.TCP ? 16 : v.proto === PROTO.UDP ? 6 : 2;
  const state = checksumState(v);
  if (state === "not-applicable" || state === "absent" || v.payload.length < at + 2) return;
  const field = v.headerLen + at;
  put16(p, field, 0);
  const sum = v.proto === PROTO.ICMP
    ? inetChecksum(v.payload)
    : inetChecksum(pseudo(v.version, v.src, v.dst, v.proto, v.payload.length), v.payload);
  // A computed UDP checksum of 0 is sent as all ones (RFC 768, RFC 8200 §8.1).
  put16(p, field, sum === 0 && v.proto === PROTO.UDP ? 0xffff : sum);
}

function pseudo(version: number, src: Uint8Array, dst: Uint8Array, proto: number, len: number): Uint8Array {
  if (version === 4) return Uint8Array.from([...src, ...dst, 0, proto, len >> 8, len & 0xff]);
  return Uint8Array.from([...src, ...dst, 0, 0, len >> 8, len & 0xff, 0, 0, 0, proto]);
}

/** The mutation operators, by name (the name goes into findings). */
const OPERATORS: Record<string, (p: Uint8Array, rng: Prng, pool: readonly Uint8Array[]) => Uint8Array> = {
  flipBit(p, rng) {
    if (p.length) p[offset(rng, p.length)] ^= 1 << rng.below(8);
    return p;
  },
  setByte(p, rng) {
    if (p.length) p[offset(rng, p.length)] = rng.chance(0.6) ? rng.pick(INTERESTING_8) : rng.below(256);
    return p;
  },
  setWord(p, rng) {
    put16(p, offset(rng, p.length) & ~1, rng.pick(INTERESTING_16));
    return p;
  },
  lieLength(p, rng) {
    const fields = lengthFields(p);
    if (!fields.length) return p;
    const at = rng.pick(fields);
    const now = (p[at] << 8) | p[at + 1];
    put16(p, at, rng.chance(0.5) ? rng.pick(INTERESTING_16) : (now + rng.range(-64, 64)) & 0xffff);
    return p;
  },
  lieIhl(p, rng) {
    if (p.length && p[0] >> 4 === 4) p[0] = 0x40 | rng.below(16);
    return p;
  },
  truncate(p, rng) {
    return p.slice(0, rng.below(p.length + 1));
  },
  extend(p, rng) {
    const out = new Uint8Array(p.length + rng.range(1, 64));
    out.set(p);
    out.set(rng.bytes(out.length - p.length), p.length);
    return out;
  },
  insertBytes(p, rng) {
    const at = offset(rng, p.length + 1);
    const add = rng.bytes(rng.range(1, 16));
    return Uint8Array.from([...p.subarray(0, at), ...add, ...p.subarray(at)]);
  },
  deleteBytes(p, rng) {
    const at = offset(rng, p.length);
    return Uint8Array.from([...p.subarray(0, at), ...p.subarray(at + rng.range(1, 16))]);
  },
  splice(p, rng, pool) {
    const other = rng.pick(pool);
    const cut = rng.below(p.length + 1);
    return Uint8Array.from([...p.subarray(0, cut), ...other.subarray(Math.min(cut, other.length))]);
  },
  repeatExtension(p, rng) {
    return repeatExtension(
      p,
      rng.pick([PROTO.HOPOPT, PROTO.DSTOPTS, PROTO.FRAGMENT, PROTO.ROUTING]),
      rng.range(1, 6),
      rng,
    );
  },
};

/** Names of the mutation operators. */
export const OPERATOR_NAMES: readonly string[] = Object.keys(OPERATORS);

/** A mutated copy of `seed` (1–4 operators), capped at `maxLen` bytes, and the operators applied. */
export function mutate(
  seed: Uint8Array,
  rng: Prng,
  pool: readonly Uint8Array[],
  maxLen: number,
): { bytes: Uint8Array; ops: string[] } {
  let p: Uint8Array = seed.slice();
  const ops: string[] = [];
  const rounds = rng.range(1, 4);
  for (let k = 0; k < rounds; k++) {
    const name = rng.pick(OPERATOR_NAMES);
    ops.push(name);
    p = OPERATORS[name](p, rng, pool);
  }
  if (rng.chance(0.3)) {
    fixLengths(p);
    ops.push("fixLengths");
  }
  if (rng.chance(0.6)) {
    fixChecksums(p);
    ops.push("fixChecksums");
  }
  return { bytes: p.length > maxLen ? p.slice(0, maxLen) : p, ops };
}

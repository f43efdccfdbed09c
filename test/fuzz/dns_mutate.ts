/**
 * DNS message mutations for the DNS64 fuzzer (RFC 1035 §4.1 layout): byte-level damage,
 * count fields set to lies up to 65535, compression pointers that loop or point
 * forward (RFC 1035 §4.1.4 only allows earlier offsets), names past 255 octets, length
 * lies, and a reader that finds where the question ends.
 */

import type { Prng } from "./prng.ts";

/** The fixed header size. */
export const HEADER = 12;

/** Offset just past the question of a message whose question name is uncompressed, or -1. */
export function questionEnd(m: Uint8Array): number {
  let pos = HEADER;
  while (pos < m.length) {
    const len = m[pos];
    if (len === 0) return pos + 5 <= m.length ? pos + 5 : -1;
    if (len & 0xc0) return -1;
    pos += len + 1;
  }
  return -1;
}

function put16(m: Uint8Array, at: number, v: number): void {
  if (at + 1 >= m.length) return;
  m[at] = (v >> 8) & 0xff;
  m[at + 1] = v & 0xff;
}

/** Byte-level mutations, applied at or after `from` (to keep a header and question intact). */
export function damage(m: Uint8Array, rng: Prng, from = 0): Uint8Array {
  let out = m.slice();
  const at = () => from + rng.below(Math.max(1, out.length - from));
  const rounds = rng.range(1, 3);
  for (let k = 0; k < rounds; k++) {
    switch (rng.below(6)) {
      case 0:
        if (out.length > from) out[at()] ^= 1 << rng.below(8);
        break;
      case 1:
        if (out.length > from) out[at()] = rng.pick([0, 1, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xff, rng.below(256)]);
        break;
      case 2:
        out = out.slice(0, from + rng.below(Math.max(1, out.length - from + 1)));
        break;
      case 3:
        out = Uint8Array.from([...out, ...rng.bytes(rng.range(1, 32))]);
        break;
      case 4:
        put16(out, at(), rng.pick([0, 1, 0xff, 0x100, 0xc00c, 0xffff]));
        break;
      case 5: {
        const cut = at();
        out = Uint8Array.from([...out.subarray(0, cut), ...out.subarray(cut + rng.range(1, 8))]);
        break;
      }
    }
  }
  return out;
}

/** Sets one of QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT to a lie (65535 most often). */
export function lieCount(m: Uint8Array, rng: Prng): Uint8Array {
  const out = m.slice();
  put16(out, 4 + 2 * rng.below(4), rng.pick([65535, 65535, 0, 2, 255, 256]));
  return out;
}

/**
 * Replaces the name at `at` (to the end of the message) with a compression pointer
 * that loops onto itself, points forward, or bounces between two pointers.
 */
export function pointerTrap(m: Uint8Array, at: number, rng: Prng): Uint8Array {
  const out = m.slice();
  if (at + 1 >= out.length) return out;
  const kind = rng.below(3);
  const target = kind === 0 ? at : kind === 1 ? Math.min(0x3fff, at + 2 + rng.below(16)) : at + 2;
  out[at] = 0xc0 | (target >> 8);
  out[at + 1] = target & 0xff;
  if (kind === 2 && at + 3 < out.length) {
    // at → at+2 → at: a loop of two pointers.
    out[at + 2] = 0xc0 | (at >> 8);
    out[at + 3] = at & 0xff;
  }
  return out;
}

/** A name of `labels` labels of `size` octets each (past 255 octets when asked to), in wire form. */
export function longName(labels: number, size: number): Uint8Array {
  const parts: number[] = [];
  for (let i = 0; i < labels; i++) parts.push(size, ...Array.from({ length: size }, (_, k) => 0x61 + ((i + k) % 26)));
  parts.push(0);
  return Uint8Array.from(parts);
}

/**
 * The PREF64 Neighbor Discovery option (RFC 8781 §4): how a router tells hosts the
 * NAT64 prefix, so they can synthesize addresses themselves (464XLAT CLAT, DNSSEC
 * validating resolvers) instead of asking DNS64.
 *
 * ```
 *  0                   1                   2                   3
 * |     Type      |    Length     |     Scaled Lifetime     | PLC |
 * |              Highest 96 bits of the Prefix (12 bytes)         |
 * ```
 *
 * @module
 */

import type { Prefix } from "../net/ip.ts";

/** Option type 38 (RFC 8781 §7, IANA IPv6 Neighbor Discovery Option Formats). */
export const PREF64_OPTION_TYPE = 38;
/** The option is always 16 bytes: Length 2 in units of 8 octets (RFC 8781 §4). */
export const PREF64_OPTION_LENGTH = 16;
/** The longest lifetime the 13-bit Scaled Lifetime can carry: 8191 × 8 s. */
export const MAX_PREF64_LIFETIME_S = 65528;

/** Prefix Length Code by prefix length (RFC 8781 §4: 0 → /96, 1 → /64, … 5 → /32). */
const PLC_BY_LENGTH: ReadonlyMap<number, number> = new Map([[96, 0], [64, 1], [56, 2], [48, 3], [40, 4], [32, 5]]);

/** The Prefix Length Code of an RFC 6052 prefix length; throws for any other length. */
export function prefixLengthCode(length: number): number {
  const plc = PLC_BY_LENGTH.get(length);
  if (plc === undefined) throw new Error(`a PREF64 prefix must be /32, /40, /48, /56, /64 or /96, not /${length}`);
  return plc;
}

/**
 * The Scaled Lifetime for a lifetime in seconds (RFC 8781 §4.1): rounded up to a
 * multiple of 8 and divided by 8, so a non-zero lifetime never becomes 0 (which would
 * withdraw the prefix); 0 stays 0.
 */
export function scaledLifetime(lifetimeS: number): number {
  if (!Number.isInteger(lifetimeS) || lifetimeS < 0 || lifetimeS > MAX_PREF64_LIFETIME_S) {
    throw new Error(
      `a PREF64 lifetime must be a whole number of seconds from 0 to ${MAX_PREF64_LIFETIME_S}, not ${lifetimeS}`,
    );
  }
  return Math.ceil(lifetimeS / 8);
}

/** The 16-byte PREF64 option for `prefix` valid for `lifetimeS` seconds. */
export function encodePref64Option(prefix: Prefix, lifetimeS: number): Uint8Array {
  if (prefix.family !== 6) throw new Error("a PREF64 prefix must be an IPv6 prefix");
  const plc = prefixLengthCode(prefix.length);
  const option = new Uint8Array(PREF64_OPTION_LENGTH);
  option[0] = PREF64_OPTION_TYPE;
  option[1] = PREF64_OPTION_LENGTH / 8;
  const field = (scaledLifetime(lifetimeS) << 3) | plc;
  option[2] = field >> 8;
  option[3] = field & 0xff;
  // Only the highest 96 bits travel; a /96 prefix has no bits beyond them (RFC 8781 §4).
  option.set(prefix.addr.subarray(0, 12), 4);
  return option;
}

/**
 * Reverse names of synthesized addresses (RFC 6147 §5.3.1, option 2): an ip6.arpa name
 * under a configured prefix is answered with a CNAME to the in-addr.arpa name of the
 * embedded IPv4 address. Partial names inside the prefix's reverse tree are empty
 * non-terminals; names that no synthesized address can have do not exist. Everything
 * else is "outside" and is forwarded as usual.
 *
 * @module
 */

import { embedIPv4, extractIPv4, type Prefix, samePrefix } from "../net/ip.ts";
import { prefixFor, type SynthesisRules } from "./synthesis.ts";

/** How a reverse name is answered. */
export type ReverseAnswer =
  | { readonly kind: "outside" }
  /** A synthesized address: CNAME to `target` (an in-addr.arpa name, no trailing dot). */
  | { readonly kind: "cname"; readonly target: string; readonly zone: string }
  /** Inside the prefix's reverse tree but not a full address: NOERROR, no data. */
  | { readonly kind: "nodata"; readonly zone: string }
  /** Inside the prefix's reverse tree, but no synthesized address has this name. */
  | { readonly kind: "nxdomain"; readonly zone: string };

const OUTSIDE: ReverseAnswer = { kind: "outside" };
const SUFFIX = ".ip6.arpa";
const ALL_ONES = new Uint8Array([255, 255, 255, 255]);

/**
 * Answers `qname` (any case, with or without the final dot) for the configured prefixes.
 * `accept(v4)` may admit IPv4 addresses that the synthesis rules would not place under
 * the prefix (the ipv4only.arpa addresses, RFC 8880 §7).
 */
export function reverseAnswer(
  qname: string,
  rules: SynthesisRules,
  accept: (v4: Uint8Array) => boolean = () => false,
): ReverseAnswer {
  let name = qname.toLowerCase();
  if (name.endsWith(".")) name = name.slice(0, -1);
  if (!name.endsWith(SUFFIX)) return OUTSIDE;
  // Most significant nibble first.
  const labels = name.slice(0, -SUFFIX.length).split(".").reverse();
  // Longest prefix first, so a /96 inside a /32 gets its own names.
  const prefixes = uniquePrefixes(rules).sort((a, b) => b.length - a.length);
  for (const prefix of prefixes) {
    const prefixNibbles = prefix.length / 4;
    if (labels.length < prefixNibbles) continue;
    let inside = true;
    for (let i = 0; i < prefixNibbles; i++) {
      if (labels[i] !== nibble(prefix.addr, i)) {
        inside = false;
        break;
      }
    }
    if (!inside) continue;
    const zone = zoneName(prefix);
    return answerInside(labels, prefix, zone, rules, accept);
  }
  return OUTSIDE;
}

function answerInside(
  labels: string[],
  prefix: Prefix,
  zone: string,
  rules: SynthesisRules,
  accept: (v4: Uint8Array) => boolean,
): ReverseAnswer {
  if (labels.length > 32) return { kind: "nxdomain", zone };
  const addr = new Uint8Array(16);
  for (let i = 0; i < labels.length; i++) {
    if (!/^[0-9a-f]$/.test(labels[i])) return { kind: "nxdomain", zone };
    const v = parseInt(labels[i], 16);
    addr[i >> 1] |= i & 1 ? v : v << 4;
  }
  // RFC 6052 §2.2: the u-octet (bits 64-71) and the suffix are zero in every synthesized
  // address; a name that sets them, even partially, names no such address.
  const v4Mask = embedIPv4({ ...prefix, addr: new Uint8Array(16) }, ALL_ONES);
  for (let byte = prefix.length / 8; byte < 16; byte++) {
    if (v4Mask[byte] === 0 && addr[byte] !== 0) return { kind: "nxdomain", zone };
  }
  if (labels.length < 32) return { kind: "nodata", zone };
  const v4 = extractIPv4(prefix, addr);
  const chosen = prefixFor(rules, v4);
  if (!(chosen && samePrefix(chosen, prefix)) && !accept(v4)) return { kind: "nxdomain", zone };
  return { kind: "cname", target: `${v4[3]}.${v4[2]}.${v4[1]}.${v4[0]}.in-addr.arpa`, zone };
}

function nibble(addr: Uint8Array, i: number): string {
  const byte = addr[i >> 1];
  return ((i & 1 ? byte : byte >> 4) & 0xf).toString(16);
}

/** The ip6.arpa zone of a prefix (its nibbles reversed, RFC 3596 §2.5), no trailing dot. */
export function zoneName(prefix: Prefix): string {
  const nibbles: string[] = [];
  for (let i = 0; i < prefix.length / 4; i++) nibbles.push(nibble(prefix.addr, i));
  return nibbles.reverse().join(".") + SUFFIX;
}

function uniquePrefixes(rules: SynthesisRules): Prefix[] {
  const out: Prefix[] = [];
  for (const r of rules.prefixes) if (!out.some((p) => samePrefix(p, r.prefix))) out.push(r.prefix);
  return out;
}

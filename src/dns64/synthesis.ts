/**
 * The RFC 6147 §5 rules as pure functions over dns-packet messages: which prefix an IPv4
 * address is synthesized with, which real AAAA records count, how a CNAME/DNAME chain is
 * followed, the TTL of a synthesized record, and the answer built from an A response.
 *
 * @module
 */

import {
  embedIPv4,
  formatIPv6,
  isGlobalIPv4,
  parseIPv4,
  parseIPv6,
  type Prefix,
  prefixContains,
  samePrefix,
  WELL_KNOWN_PREFIX,
} from "../net/ip.ts";
import { canonicalName, type DnsMessage, type DnsRecord, rcodeOf, rrsigCovers, type SoaData } from "./message.ts";
import type { PrefixRule } from "./options.ts";
import { Rcode } from "./wire.ts";

/** The configuration the synthesis rules read. */
export interface SynthesisRules {
  readonly prefixes: readonly PrefixRule[];
  readonly excludeAaaa: readonly Prefix[];
  readonly excludeA: readonly Prefix[];
  readonly synthesizeOnServfail: boolean;
}

/** RFC 6147 §5.1.7: the TTL cap when the negative AAAA answer carried no SOA. */
export const NO_SOA_TTL = 600;

/** The most links of a CNAME/DNAME chain followed; longer chains are loops or abuse. */
const MAX_CHAIN = 16;

/**
 * The prefix `v4` is synthesized with, or null when it must not be: the first rule whose
 * IPv4 range holds it (rules without a range hold everything; RFC 6147 §5.2 "separate
 * prefixes for separate IPv4 ranges"), skipping the Well-Known Prefix for non-global IPv4
 * (RFC 6052 §3.1 MUST NOT) and every address in the A exclusion list.
 */
export function prefixFor(rules: SynthesisRules, v4: Uint8Array): Prefix | null {
  if (rules.excludeA.some((p) => prefixContains(p, v4))) return null;
  for (const rule of rules.prefixes) {
    if (rule.v4Range && !prefixContains(rule.v4Range, v4)) continue;
    if (samePrefix(rule.prefix, WELL_KNOWN_PREFIX) && !isGlobalIPv4(v4)) continue;
    return rule.prefix;
  }
  return null;
}

/** True when a real AAAA address is in the exclusion list (RFC 6147 §5.1.4). */
export function isExcludedAaaa(rules: SynthesisRules, v6: Uint8Array): boolean {
  return rules.excludeAaaa.some((p) => prefixContains(p, v6));
}

/**
 * Follows the CNAME and DNAME records of `answers` from `qname` (RFC 6147 §5.1.5, RFC
 * 6672 §2.2 for the DNAME substitution) and returns the canonical terminal name.
 */
export function followChain(answers: readonly DnsRecord[], qname: string): string {
  let current = canonicalName(qname);
  for (let hop = 0; hop < MAX_CHAIN; hop++) {
    const cname = answers.find((r) => r.type === "CNAME" && canonicalName(r.name) === current);
    if (cname) {
      current = canonicalName(String(cname.data));
      continue;
    }
    const dname = answers.find((r) => {
      const owner = canonicalName(r.name);
      return r.type === "DNAME" && current.endsWith("." + owner);
    });
    if (!dname) break;
    const owner = canonicalName(dname.name);
    current = canonicalName(current.slice(0, current.length - owner.length) + canonicalName(String(dname.data)));
  }
  return current;
}

/**
 * The negative-answer TTL of a message (RFC 2308 §5): min(SOA TTL, SOA MINIMUM) of the
 * SOA in its authority section, or null without one.
 */
export function negativeTtl(message: DnsMessage): number | null {
  const soa = message.authorities.find((r) => r.type === "SOA");
  if (!soa) return null;
  return Math.min(soa.ttl ?? 0, (soa.data as SoaData).minimum);
}

/** What the AAAA response means for the client's answer. */
export type AaaaOutcome =
  /** Use the response as it is: real, non-excluded AAAA; NXDOMAIN; or an error kept (§5.1.1, §5.1.2). */
  | { readonly kind: "pass" }
  /** Real AAAA remain after dropping `excluded` excluded ones: answer with `answers` (§5.1.4). */
  | { readonly kind: "filtered"; readonly answers: DnsRecord[]; readonly excluded: number }
  /** No usable AAAA: look up A and synthesize, capping TTLs at `negativeTtl` (§5.1.6, §5.1.7). */
  | { readonly kind: "synthesize"; readonly negativeTtl: number | null; readonly excluded: number };

/**
 * Classifies the upstream AAAA response (RFC 6147 §5.1.1-5.1.5). NXDOMAIN is returned as
 * it is. Other error RCODEs count as an empty answer only when `synthesizeOnServfail` is
 * set, because synthesizing on SERVFAIL hides outages. Excluded AAAA records are dropped
 * one by one, with the RRSIGs over their RRset, which no longer validate.
 */
export function classifyAaaaResponse(message: DnsMessage, qname: string, rules: SynthesisRules): AaaaOutcome {
  const rcode = rcodeOf(message);
  if (rcode === Rcode.NXDOMAIN) return { kind: "pass" };
  if (rcode !== Rcode.NOERROR) {
    return rules.synthesizeOnServfail
      ? { kind: "synthesize", negativeTtl: negativeTtl(message), excluded: 0 }
      : { kind: "pass" };
  }
  const terminal = followChain(message.answers, qname);
  const atTerminal = (r: DnsRecord) => canonicalName(r.name) === terminal;
  const aaaa = message.answers.filter((r) => r.type === "AAAA" && atTerminal(r));
  const kept = aaaa.filter((r) => !isExcludedAaaa(rules, parseIPv6(String(r.data))));
  const excluded = aaaa.length - kept.length;
  if (kept.length === 0) return { kind: "synthesize", negativeTtl: negativeTtl(message), excluded };
  if (excluded === 0) return { kind: "pass" };
  const answers = message.answers.filter((r) => {
    if (r.type === "AAAA" && atTerminal(r)) return kept.includes(r);
    return !(rrsigCovers(r) === "AAAA" && atTerminal(r));
  });
  return { kind: "filtered", answers, excluded };
}

/** What the A response yields. */
export type AOutcome =
  /** Synthesized AAAA records after the kept chain (§5.1.7, §5.4). */
  | { readonly kind: "synthesized"; readonly answers: DnsRecord[]; readonly count: number; readonly excluded: number }
  /** A records exist but none may be synthesized (all excluded). */
  | { readonly kind: "unsynthesizable"; readonly excluded: number }
  /** No A records or an error: the A response is the basis of the answer (§5.1.6); `answers` is its chain. */
  | { readonly kind: "basis"; readonly answers: DnsRecord[] };

/**
 * Builds the answer section from the A response (RFC 6147 §5.1.6, §5.1.7): the CNAME/DNAME
 * chain is kept, each A record at the terminal name becomes one AAAA with the same owner
 * and class, RDATA by RFC 6052 and TTL min(A TTL, negative AAAA TTL or 600). RRSIGs over
 * the A RRset are dropped with it.
 */
export function synthesizeFromA(
  aResponse: DnsMessage,
  qname: string,
  negTtl: number | null,
  rules: SynthesisRules,
): AOutcome {
  const terminal = followChain(aResponse.answers, qname);
  const atTerminal = (r: DnsRecord) => canonicalName(r.name) === terminal;
  const chain = aResponse.answers.filter((r) => !((r.type === "A" || rrsigCovers(r) === "A") && atTerminal(r)));
  const aRecords = aResponse.answers.filter((r) => r.type === "A" && atTerminal(r));
  if (rcodeOf(aResponse) !== Rcode.NOERROR || aRecords.length === 0) return { kind: "basis", answers: chain };
  const cap = negTtl ?? NO_SOA_TTL;
  const synthesized: DnsRecord[] = [];
  for (const a of aRecords) {
    const v4 = parseIPv4(String(a.data));
    const prefix = prefixFor(rules, v4);
    if (!prefix) continue;
    synthesized.push({
      name: a.name,
      type: "AAAA",
      class: "IN",
      ttl: Math.min(a.ttl ?? 0, cap),
      data: formatIPv6(embedIPv4(prefix, v4)),
    });
  }
  const excluded = aRecords.length - synthesized.length;
  if (synthesized.length === 0) return { kind: "unsynthesizable", excluded };
  return { kind: "synthesized", answers: [...chain, ...synthesized], count: synthesized.length, excluded };
}

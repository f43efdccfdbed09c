/**
 * Local answers for the special-use name ipv4only.arpa and its reverse names (RFC 7050
 * §2.2, RFC 8880 §7.2): a DNS64 answers them itself and never forwards them, so clients
 * discover the NAT64 prefix from the answer even when upstream cannot see the name.
 *
 * @module
 */

import { embedIPv4, formatIPv4, formatIPv6, parseIPv4 } from "../net/ip.ts";
import { canonicalName, type DnsRecord, syntheticSoa } from "./message.ts";
import type { SynthesisRules } from "./synthesis.ts";
import { Rcode } from "./wire.ts";

/** The special name (RFC 7050 §2.2). */
export const IPV4ONLY_NAME = "ipv4only.arpa";

/** Its two IPv4 addresses (RFC 7050 §2.2). */
export const IPV4ONLY_ADDRESSES: readonly Uint8Array[] = [parseIPv4("192.0.0.170"), parseIPv4("192.0.0.171")];

const REVERSE_ZONE = "0.0.192.in-addr.arpa";
const REVERSE_NAMES = IPV4ONLY_ADDRESSES.map((a) => `${a[3]}.${a[2]}.${a[1]}.${a[0]}.in-addr.arpa`);

/**
 * TTL of the local records. RFC 7050 §3 has clients repeat discovery ten minutes before
 * the synthetic AAAA expires, so this must be well above 600 s; an hour lets a prefix
 * change reach clients within the hour.
 */
export const IPV4ONLY_TTL = 3600;

/** TTL and SOA MINIMUM of the local negative answers. */
const NEGATIVE_TTL = 600;

/** A complete local answer. */
export interface LocalAnswer {
  readonly rcode: number;
  readonly answers: DnsRecord[];
  readonly authorities: DnsRecord[];
}

/** True for the two ipv4only.arpa IPv4 addresses. */
export function isIpv4onlyAddress(v4: Uint8Array): boolean {
  return IPV4ONLY_ADDRESSES.some((a) => a.every((b, i) => b === v4[i]));
}

/**
 * The local answer for a class IN question, or null when the name is not one of ours.
 * `qname` is as the client wrote it and is used as the owner of the records.
 */
export function ipv4onlyAnswer(qname: string, qtype: string, rules: SynthesisRules): LocalAnswer | null {
  const name = canonicalName(qname);
  if (name === IPV4ONLY_NAME) {
    if (qtype === "A") {
      return positive(IPV4ONLY_ADDRESSES.map((a) => record(qname, "A", formatIPv4(a))));
    }
    if (qtype === "AAAA") {
      // RFC 7050 §3: the client finds the prefix by locating the well-known addresses in
      // the answer, so every prefix is given, the Well-Known Prefix included: these are
      // discovery markers, not destinations, so RFC 6052 §3.1's non-global rule does not apply.
      const records = rules.prefixes.flatMap((rule) =>
        IPV4ONLY_ADDRESSES.map((a) => record(qname, "AAAA", formatIPv6(embedIPv4(rule.prefix, a))))
      );
      return positive(dedupe(records));
    }
    return negative(Rcode.NOERROR, IPV4ONLY_NAME);
  }
  if (name.endsWith("." + IPV4ONLY_NAME)) return negative(Rcode.NXDOMAIN, IPV4ONLY_NAME);
  if (REVERSE_NAMES.includes(name)) {
    if (qtype === "PTR") return positive([record(qname, "PTR", IPV4ONLY_NAME)]);
    return negative(Rcode.NOERROR, REVERSE_ZONE);
  }
  return null;
}

function record(name: string, type: string, data: string): DnsRecord {
  return { name, type, class: "IN", ttl: IPV4ONLY_TTL, data };
}

function positive(answers: DnsRecord[]): LocalAnswer {
  return { rcode: Rcode.NOERROR, answers, authorities: [] };
}

function negative(rcode: number, zone: string): LocalAnswer {
  return { rcode, answers: [], authorities: [syntheticSoa(zone, NEGATIVE_TTL)] };
}

function dedupe(records: DnsRecord[]): DnsRecord[] {
  return records.filter((r, i) => records.findIndex((o) => o.data === r.data) === i);
}

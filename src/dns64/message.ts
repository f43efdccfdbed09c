/**
 * Typed access to the npm package `dns-packet` for messages that are taken apart and
 * rebuilt (synthesized answers, local answers, filtered answers). Only the fields the
 * listener reads are typed; record data of other types travels through untouched.
 *
 * @module
 */

import dnsPacket from "dns-packet";
import { Buffer } from "node:buffer";

/** A resource record as dns-packet represents it. `data` depends on the type. */
export interface DnsRecord {
  name: string;
  type: string;
  class?: string;
  ttl?: number;
  data?: any;
  /** Set on OPT records only. */
  udpPayloadSize?: number;
  extendedRcode?: number;
  ednsVersion?: number;
  flags?: number;
  options?: unknown[];
}

/** A question as dns-packet represents it. */
export interface DnsQuestion {
  name: string;
  type: string;
  class: string;
}

/** A whole message as dns-packet represents it; `flags` holds every header bit but QR, rcode included. */
export interface DnsMessage {
  id: number;
  type: "query" | "response";
  flags: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

/** SOA record data (RFC 1035 §3.3.13). */
export interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

/** Decodes a message; throws when dns-packet cannot read it. */
export function decodeMessage(wire: Uint8Array): DnsMessage {
  const buf = Buffer.from(wire.buffer, wire.byteOffset, wire.byteLength);
  const m = dnsPacket.decode(buf);
  return {
    id: m.id,
    type: m.type,
    flags: m.flags,
    questions: m.questions,
    answers: m.answers,
    authorities: m.authorities,
    additionals: m.additionals,
  };
}

/** Encodes a message (names uncompressed, as dns-packet writes them). */
export function encodeMessage(message: DnsMessage): Uint8Array {
  const buf: Uint8Array = dnsPacket.encode(message);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** The RCODE in a dns-packet flags word (its low four bits, RFC 1035 §4.1.1). */
export function rcodeOf(message: DnsMessage): number {
  return message.flags & 0xf;
}

/** Case-insensitive name equality without the trailing dot (RFC 4343 §3). */
export function sameName(a: string, b: string): boolean {
  return canonicalName(a) === canonicalName(b);
}

/** Lower-cases ASCII letters and drops a trailing dot, so names can be compared. */
export function canonicalName(name: string): string {
  const trimmed = name.length > 1 && name.endsWith(".") ? name.slice(0, -1) : name;
  return trimmed.toLowerCase();
}

/** The type an RRSIG covers (RFC 4034 §3.1.1), or null for other records. */
export function rrsigCovers(record: DnsRecord): string | null {
  if (record.type !== "RRSIG") return null;
  return (record.data as { typeCovered?: string } | undefined)?.typeCovered ?? null;
}

/**
 * A SOA for the authority section of a negative answer the listener makes itself, so the
 * client can cache it (RFC 2308 §3); `negativeTtl` is both its TTL and MINIMUM.
 */
export function syntheticSoa(zone: string, negativeTtl: number): DnsRecord {
  return {
    name: zone,
    type: "SOA",
    class: "IN",
    ttl: negativeTtl,
    data: {
      mname: zone,
      rname: "nobody.invalid",
      serial: 1,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: negativeTtl,
    } satisfies SoaData,
  };
}

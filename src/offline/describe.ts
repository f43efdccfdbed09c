/**
 * One-line, human-readable summaries of IP packets (for `translate --format text` and
 * the demo): addresses, protocol, ports or ICMP type, length.
 *
 * @module
 */

import { formatIP } from "../net/ip.ts";

const ICMP4: Record<number, string> = {
  0: "echo reply",
  3: "destination unreachable",
  8: "echo request",
  11: "time exceeded",
  12: "parameter problem",
};
const ICMP6: Record<number, string> = {
  1: "destination unreachable",
  2: "packet too big",
  3: "time exceeded",
  4: "parameter problem",
  128: "echo request",
  129: "echo reply",
};

/** Summarises one IPv4 or IPv6 packet in a line. */
export function describePacket(p: Uint8Array): string {
  const v6 = p[0] >> 4 === 6;
  let proto = v6 ? p[6] : p[9];
  let l4 = v6 ? 40 : (p[0] & 0xf) * 4;
  const src = formatIP(v6 ? p.subarray(8, 24) : p.subarray(12, 16));
  const dst = formatIP(v6 ? p.subarray(24, 40) : p.subarray(16, 20));
  let frag = "";
  if (v6 && proto === 44) {
    const offset = ((p[42] << 8) | p[43]) & 0xfff8;
    frag = ` fragment offset ${offset}${p[43] & 1 ? " MF" : ""}`;
    proto = p[40];
    l4 += 8;
  } else if (!v6) {
    const field = (p[6] << 8) | p[7];
    if (field & 0x3fff) frag = ` fragment offset ${(field & 0x1fff) * 8}${field & 0x2000 ? " MF" : ""}`;
  }
  const port = (o: number) => (p[l4 + o] << 8) | p[l4 + o + 1];
  let what: string;
  if (proto === 6) what = `TCP ${port(0)} → ${port(2)}`;
  else if (proto === 17) what = `UDP ${port(0)} → ${port(2)}`;
  else if (proto === 1 || proto === 58) {
    const names = proto === 1 ? ICMP4 : ICMP6;
    what = `${proto === 1 ? "ICMP" : "ICMPv6"} ${names[p[l4]] ?? `type ${p[l4]}`} (code ${p[l4 + 1]})`;
  } else what = `protocol ${proto}`;
  const hops = v6 ? `hop limit ${p[7]}` : `TTL ${p[8]}`;
  return `IPv${v6 ? 6 : 4} ${src} → ${dst} ${what}${frag}, ${p.length} bytes, ${hops}`;
}

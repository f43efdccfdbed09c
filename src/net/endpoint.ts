/**
 * Transport endpoints as text: `ADDR:PORT`, `[IPV6]:PORT`, or a bare address, with
 * literal IP addresses only (nothing is resolved). Shared by every key that names a
 * socket address (the metrics endpoint, the DNS64 listeners and upstreams).
 *
 * @module
 */

import { formatIP, parseIP } from "./ip.ts";

/** A literal address and a port; `port` is null when the text named none. */
export interface HostPort {
  /** Canonical text of the address, so it compares equal to socket addresses. */
  readonly host: string;
  readonly family: 4 | 6;
  readonly port: number | null;
}

/**
 * Splits and checks `ADDR`, `ADDR:PORT`, `[IPV6]` or `[IPV6]:PORT`. An unbracketed IPv6
 * address takes no port (its last group would be ambiguous). Throws a sentence quoting
 * the text.
 */
export function parseHostPort(text: string): HostPort {
  let host = text;
  let portText: string | null = null;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1];
    portText = bracketed[2] ?? null;
  } else if (text.startsWith("[")) {
    throw new Error(`"${text}" has "[" without a closing "]" (write [IPV6]:PORT)`);
  } else if ((text.match(/:/g) ?? []).length === 1) {
    [host, portText] = text.split(":");
  }
  let addr: Uint8Array;
  try {
    addr = parseIP(host);
  } catch {
    throw new Error(`"${text}" is not ADDR, ADDR:PORT or [IPV6]:PORT with a literal IP address`);
  }
  if (portText !== null && (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535)) {
    throw new Error(`"${text}" has a port outside 0-65535`);
  }
  return { host: formatIP(addr), family: addr.length === 4 ? 4 : 6, port: portText === null ? null : Number(portText) };
}

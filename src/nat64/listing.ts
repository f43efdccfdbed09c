/**
 * The engine's session and BIB records as the operator tools show them (`SessionRow`,
 * `BibRow` of `src/control/view.ts`: `[2001:db8::5]:2000`, `192.0.2.1:61000`, TCP state
 * names, seconds to expiry), and the control socket's list queries as engine filters.
 *
 * @module
 */

import type { BibRecord, ListFilter, SessionRecord } from "../engine/nat64_records.ts";
import type { BibRow, ListQuery, SessionRow } from "../control/view.ts";
import { embedIPv4, formatIPv4, formatIPv6, parseIP, type Prefix } from "../net/ip.ts";

/** `[v6]:port`. */
function at6(addr: Uint8Array, port: number): string {
  return `[${formatIPv6(addr)}]:${port}`;
}

/** `v4:port`. */
function at4(addr: Uint8Array, port: number): string {
  return `${formatIPv4(addr)}:${port}`;
}

/**
 * A session as a row. The peer's IPv6 form is its address inside `pool6` (RFC 6052);
 * an ICMP query session's "port" is the identifier on each side (RFC 6146 §3.5.3).
 */
export function sessionRow(r: SessionRecord, pool6: Prefix): SessionRow {
  const remotePort = r.proto === "icmp" ? r.port4 : r.remotePort;
  return {
    proto: r.proto,
    v6: at6(r.addr6, r.port6),
    v4: at4(r.addr4, r.port4),
    remote4: at4(r.remote4, remotePort),
    remote6: at6(embedIPv4(pool6, r.remote4), remotePort),
    ...(r.state ? { state: r.state } : {}),
    expiresInS: Math.ceil(r.remainingMs / 1000),
  };
}

/** A BIB entry as a row. */
export function bibRow(r: BibRecord): BibRow {
  return {
    proto: r.proto,
    v6: at6(r.addr6, r.port6),
    v4: at4(r.addr4, r.port4),
    static: r.static,
    sessions: r.sessions,
  };
}

/** The engine filter of a list query; throws one sentence for an address or cursor this gateway cannot use. */
export function listRequest(q: ListQuery): { filter: ListFilter; cursor: number } {
  const filter: ListFilter = { limit: q.limit };
  if (q.proto) filter.proto = q.proto;
  if (q.addr !== undefined) {
    try {
      filter.addr = parseIP(q.addr);
    } catch {
      throw new Error(`"${q.addr}" is neither an IPv4 nor an IPv6 address`);
    }
  }
  let cursor = 0;
  if (q.cursor !== undefined) {
    if (!/^\d{1,10}$/.test(q.cursor) || Number(q.cursor) > 0xfffffffe) {
      throw new Error(`cursor "${q.cursor}" is not one this gateway gave`);
    }
    cursor = Number(q.cursor);
  }
  return { filter, cursor };
}

/**
 * How a session or BIB event reads in the log (`log-sessions`). In text, the binding in
 * the notation of `nat64 sessions`, the IPv6 side first:
 *
 * ```
 * session created TCP [2001:db8:1::2]:40000 <-> 192.0.2.1:61000 cause=from-ipv6 state=V6_INIT
 * session removed UDP [2001:db8:1::2]:5353 <-> 192.0.2.1:1035 cause=expired
 * bib created TCP [2001:db8:1::80]:80 <-> 192.0.2.1:8080 cause=configured static=true
 * ```
 *
 * With `log-sessions-destinations`, each side also names the remote end, as the IPv6
 * host sees it (inside pool6) and as it is on IPv4:
 *
 * ```
 * session created TCP [2001:db8:1::2]:40000 [64:ff9b::c633:6402]:80 <-> 192.0.2.1:61000 198.51.100.2:80 cause=from-ipv6 state=V6_INIT
 * ```
 *
 * ICMP query sessions show their identifiers as ports and the remote without one
 * (RFC 6146 §3.5.3). In JSON the same is `msg` ("session created", …) and the fields
 * `event`, `proto`, `v6`, `v4`, `remote6`, `remote4`, `cause`, `state`, `static`.
 *
 * @module
 */

import type { SessionEvent } from "../engine/session_events.ts";
import { formatIPv4, formatIPv6 } from "../net/ip.ts";

/** Fields of a line, as the logger writes them. */
export type LineFields = Record<string, string | boolean>;

/** A session or BIB event as a log line. */
export interface SessionLine {
  /** "session created", "session removed", "bib created" or "bib removed". */
  msg: string;
  /** The binding in words, for text lines. */
  binding: string;
  /** The binding as fields, for JSON lines. */
  bindingFields: LineFields;
  /** Cause, TCP state, static: fields in both formats. */
  fields: LineFields;
}

function six(addr: Uint8Array, port?: number): string {
  return port === undefined ? formatIPv6(addr) : `[${formatIPv6(addr)}]:${port}`;
}

function four(addr: Uint8Array, port?: number): string {
  return port === undefined ? formatIPv4(addr) : `${formatIPv4(addr)}:${port}`;
}

/** The line of `ev`; the remote end only when `destinations` (RFC 6888 REQ-12 advises against logging it). */
export function sessionLine(ev: SessionEvent, destinations: boolean): SessionLine {
  const [what, done] = ev.kind.split("-");
  const bindingFields: LineFields = { v6: six(ev.addr6, ev.port6), v4: four(ev.addr4, ev.port4) };
  if (destinations && ev.remote6 && ev.remote4) {
    const port = ev.proto === "icmp" ? undefined : ev.remotePort;
    bindingFields.remote6 = six(ev.remote6, port);
    bindingFields.remote4 = four(ev.remote4, port);
  }
  const { v6, v4, remote6, remote4 } = bindingFields;
  const sides = remote6 ? `${v6} ${remote6} <-> ${v4} ${remote4}` : `${v6} <-> ${v4}`;
  const fields: LineFields = { cause: ev.cause };
  if (ev.state) fields.state = ev.state;
  if (ev.static) fields.static = true;
  return {
    msg: `${what} ${done}`,
    binding: `${ev.proto.toUpperCase()} ${sides}`,
    bindingFields: { event: ev.kind, proto: ev.proto, ...bindingFields },
    fields,
  };
}

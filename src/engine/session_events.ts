/**
 * The session and BIB events the engine records for the operator's log (record format
 * in `wasm/src/nat64/events.rs`, the calls in the ABI comment of `wasm/src/lib.rs`),
 * decoded into plain objects.
 *
 * @module
 */

import { NAT64_PROTOS, type Nat64Protocol, TCP_STATES } from "./nat64_records.ts";

/** Bytes of an event record. */
export const EVENT_RECORD = 64;

/** Event kinds in the engine's numbering, from 1 (`EventKind`). */
export const EVENT_KINDS = ["session-created", "session-removed", "bib-created", "bib-removed"] as const;
/** What happened. */
export type EventKind = typeof EVENT_KINDS[number];

/**
 * Causes in the engine's numbering, from 1 (`Cause`): a packet from either side, a
 * restore, a static entry; then the removals: a lifetime that ran out, a TCP connection
 * closed by both FINs, a TCP session in TRANS (reset, or idle and its probe not
 * answered) whose TCP_TRANS ran out, a reconfiguration, an undone restore.
 */
export const EVENT_CAUSES = [
  "from-ipv6",
  "from-ipv4",
  "restored",
  "configured",
  "expired",
  "tcp-closed",
  "tcp-trans",
  "reconfigured",
  "restore-undone",
] as const;
/** Why it happened. */
export type EventCause = typeof EVENT_CAUSES[number];

/** One session or BIB entry created or removed (RFC 6146 §3.1, §3.2). */
export interface SessionEvent {
  kind: EventKind;
  cause: EventCause;
  proto: Nat64Protocol;
  /** TCP state of a TCP session at the event; undefined otherwise. */
  state?: typeof TCP_STATES[number];
  /** The BIB entry is static. */
  static: boolean;
  /** X', the IPv6 host, and x' (ICMP: identifier). */
  addr6: Uint8Array;
  port6: number;
  /** X, its pool4 address, and x. */
  addr4: Uint8Array;
  port4: number;
  /** Y' (Y inside pool6), Y and y; undefined for BIB events. */
  remote6?: Uint8Array;
  remote4?: Uint8Array;
  remotePort?: number;
  /** The engine's clock (the host's monotonic milliseconds) when it happened. */
  nowMs: number;
}

function named<T>(list: readonly T[], n: number, what: string): T {
  const v = list[n - 1];
  if (v === undefined) throw new Error(`the engine recorded ${what} number ${n}, which this host does not know`);
  return v;
}

/** Decodes the 64-byte event record at `r[at..]`. */
export function decodeSessionEvent(r: Uint8Array, at = 0): SessionEvent {
  const v = new DataView(r.buffer, r.byteOffset + at, EVENT_RECORD);
  const b = (i: number) => r[at + i];
  const kind = named(EVENT_KINDS, b(8), "event kind");
  const proto = NAT64_PROTOS[b(10)];
  if (proto === undefined) throw new Error(`the engine recorded protocol number ${b(10)} in an event`);
  const session = kind === "session-created" || kind === "session-removed";
  return {
    kind,
    cause: named(EVENT_CAUSES, b(9), "event cause"),
    proto,
    ...(session && proto === "tcp" ? { state: TCP_STATES[b(11)] } : {}),
    static: (v.getUint16(18, true) & 1) !== 0,
    addr6: r.slice(at + 32, at + 48),
    port6: v.getUint16(12, true),
    addr4: r.slice(at + 20, at + 24),
    port4: v.getUint16(16, true),
    ...(session
      ? { remote6: r.slice(at + 48, at + 64), remote4: r.slice(at + 24, at + 28), remotePort: v.getUint16(14, true) }
      : {}),
    // Two 32-bit halves: exact below 2^53 ms, without a BigInt per record.
    nowMs: v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32,
  };
}

/**
 * The stateful NAT64 records the engine pages into its state buffer for `nat64
 * sessions` and `nat64 bib` (formats in `wasm/src/nat64/records.rs`, the filter and
 * page header in `wasm/src/engine/exchange.rs`), decoded into plain objects.
 *
 * @module
 */

/** Bytes of a session record. */
export const SESSION_RECORD = 40;
/** Bytes of a BIB record. */
export const BIB_RECORD = 32;
/** Bytes of a page header: records, next cursor, total, reserved. */
const PAGE_HEADER = 16;
/** The next cursor of the last page. */
const NO_MORE = 0xffffffff;

/** The transport protocols with state, in the engine's numbering (0, 1, 2). */
export const NAT64_PROTOS = ["tcp", "udp", "icmp"] as const;

/** A protocol with state (RFC 6146 §3). */
export type Nat64Protocol = typeof NAT64_PROTOS[number];

/** TCP states in the engine's numbering (`TcpState` in `wasm/src/nat64/tcp.rs`, RFC 6146 §3.5.2.2). */
export const TCP_STATES = [
  "CLOSED",
  "V4_INIT",
  "V6_INIT",
  "ESTABLISHED",
  "V4_FIN_RCV",
  "V6_FIN_RCV",
  "V4_FIN_V6_FIN_RCV",
  "TRANS",
] as const;

/** A session (RFC 6146 §3.2): (X', x') ↔ (X, x) with the IPv4 peer (Y, y). */
export interface SessionRecord {
  proto: Nat64Protocol;
  /** TCP state; undefined for UDP and ICMP. */
  state?: typeof TCP_STATES[number];
  /** The BIB entry is static. */
  static: boolean;
  addr6: Uint8Array;
  port6: number;
  addr4: Uint8Array;
  port4: number;
  remote4: Uint8Array;
  remotePort: number;
  /** Milliseconds until the session expires unless traffic refreshes it. */
  remainingMs: number;
}

/** A BIB entry (RFC 6146 §3.1). */
export interface BibRecord {
  proto: Nat64Protocol;
  static: boolean;
  addr6: Uint8Array;
  port6: number;
  addr4: Uint8Array;
  port4: number;
  /** Sessions using the entry. */
  sessions: number;
}

/** Which entries to list. */
export interface ListFilter {
  /** Only this protocol. */
  proto?: Nat64Protocol;
  /** Only entries with this address (4 or 16 bytes) on the IPv6 side, the pool4 side or (sessions) the peer. */
  addr?: Uint8Array;
  /** Most records in the page (the state buffer bounds it too). */
  limit?: number;
}

/** One page of a listing. */
export interface ListPage<T> {
  records: T[];
  /** The cursor of the next page; undefined on the last page. */
  next?: number;
  /** Entries matching the filter over all pages. */
  total: number;
}

/** Writes `filter` at the start of the state buffer. */
export function encodeListFilter(filter: ListFilter, buf: Uint8Array): void {
  buf.fill(0, 0, 20);
  buf[0] = filter.proto === undefined ? 255 : NAT64_PROTOS.indexOf(filter.proto);
  if (filter.addr) {
    if (filter.addr.length !== 4 && filter.addr.length !== 16) {
      throw new Error(`a listing filter address has ${filter.addr.length} bytes, neither 4 nor 16`);
    }
    buf[1] = filter.addr.length === 4 ? 4 : 6;
    buf.set(filter.addr, 4);
  }
  const limit = Math.min(filter.limit ?? 0, 0xffff);
  buf[2] = limit & 0xff;
  buf[3] = limit >> 8;
}

function view(buf: Uint8Array, at: number, len: number): DataView {
  return new DataView(buf.buffer, buf.byteOffset + at, len);
}

function protocol(n: number): Nat64Protocol {
  const p = NAT64_PROTOS[n];
  if (p === undefined) throw new Error(`the engine listed protocol number ${n}`);
  return p;
}

/** Decodes a 40-byte session record. */
export function decodeSession(r: Uint8Array): SessionRecord {
  const v = view(r, 0, SESSION_RECORD);
  const proto = protocol(r[0]);
  return {
    proto,
    ...(proto === "tcp" ? { state: TCP_STATES[r[1]] } : {}),
    static: (r[3] & 1) !== 0,
    addr6: r.slice(4, 20),
    port6: v.getUint16(20, true),
    port4: v.getUint16(22, true),
    addr4: r.slice(24, 28),
    remote4: r.slice(28, 32),
    remotePort: v.getUint16(32, true),
    remainingMs: v.getUint32(36, true),
  };
}

/** Decodes a 32-byte BIB record. */
export function decodeBib(r: Uint8Array): BibRecord {
  const v = view(r, 0, BIB_RECORD);
  return {
    proto: protocol(r[0]),
    static: (r[1] & 1) !== 0,
    addr6: r.slice(4, 20),
    port6: v.getUint16(20, true),
    port4: v.getUint16(22, true),
    addr4: r.slice(24, 28),
    sessions: v.getUint32(28, true),
  };
}

/** The page the engine wrote at the start of the state buffer: `n` records of `size` bytes. */
export function readPageHeader<T>(buf: Uint8Array, n: number, size: number, decode: (r: Uint8Array) => T): ListPage<T> {
  const h = view(buf, 0, PAGE_HEADER);
  const next = h.getUint32(4, true);
  const records: T[] = [];
  for (let i = 0; i < n; i++) records.push(decode(buf.subarray(PAGE_HEADER + i * size, PAGE_HEADER + (i + 1) * size)));
  return { records, ...(next === NO_MORE ? {} : { next }), total: h.getUint32(8, true) };
}

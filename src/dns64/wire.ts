/**
 * DNS wire-format helpers for the paths that must not re-encode a message: reading a
 * query's header, question and OPT record, walking a response to find its records (for
 * TTL rewriting and OPT replacement), and patching a stored response for another client.
 * Messages that need to be taken apart and rebuilt go through `message.ts` (dns-packet).
 *
 * Offsets follow RFC 1035 §4.1; OPT is RFC 6891 §6.1.2.
 *
 * @module
 */

/** RR type numbers used by the listener (RFC 1035 §3.2.2, RFC 3596, RFC 6672, RFC 6891, RFC 4034). */
export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  AAAA: 28,
  DNAME: 39,
  OPT: 41,
  RRSIG: 46,
} as const;

/** CLASS IN (RFC 1035 §3.2.4). */
export const CLASS_IN = 1;

/** RCODE values (RFC 1035 §4.1.1, RFC 6891 §9 for BADVERS, which needs the OPT extended bits). */
export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16,
} as const;

/** Bits of the 16-bit flags word (RFC 1035 §4.1.1, RFC 4035 §3.2 for AD and CD). */
export const Flag = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  AD: 0x0020,
  CD: 0x0010,
} as const;

/** The DO bit in the OPT record's flags (RFC 3225 §3). */
export const EDNS_DO = 0x8000;

/** The fixed DNS header size (RFC 1035 §4.1.1). */
export const HEADER_SIZE = 12;

/** A message that does not follow the wire format; the text says which part. */
export class WireError extends Error {}

/** One resource record's position in a message. */
export interface RecordLayout {
  /** Where the owner name starts. */
  readonly start: number;
  /** Where the record ends (first byte after RDATA). */
  readonly end: number;
  readonly type: number;
  readonly klass: number;
  /** Offset of the 32-bit TTL field. */
  readonly ttlOffset: number;
  readonly rdataOffset: number;
  readonly rdlength: number;
  /** 1 answer, 2 authority, 3 additional. */
  readonly section: 1 | 2 | 3;
}

/** Positions of every part of a message, as found by {@link scanMessage}. */
export interface MessageLayout {
  readonly id: number;
  readonly flags: number;
  readonly qdcount: number;
  /** First byte after the question section. */
  readonly questionEnd: number;
  readonly records: readonly RecordLayout[];
  /** The OPT pseudo-record, when present (at most one, RFC 6891 §6.1.1). */
  readonly opt: RecordLayout | null;
}

/** Size of the blocks that small outgoing messages are carved from. */
const POOL_SIZE = 65536;
let pool = new Uint8Array(POOL_SIZE);
let poolUsed = 0;

/**
 * A fresh zeroed byte array of `n` bytes. Small ones are views into a shared block, which
 * is far cheaper than an ArrayBuffer each; a block is never handed out twice (a new one
 * is taken when it is used up), so a view stays valid for as long as anyone holds it.
 */
export function allocate(n: number): Uint8Array {
  if (n > 4096) return new Uint8Array(n);
  if (poolUsed + n > POOL_SIZE) {
    pool = new Uint8Array(POOL_SIZE);
    poolUsed = 0;
  }
  const out = pool.subarray(poolUsed, poolUsed + n);
  poolUsed += (n + 7) & ~7;
  return out;
}

/** Reads a big-endian 16-bit value. */
export function u16(buf: Uint8Array, offset: number): number {
  return (buf[offset] << 8) | buf[offset + 1];
}

/** Writes a big-endian 16-bit value. */
export function setU16(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = (value >> 8) & 0xff;
  buf[offset + 1] = value & 0xff;
}

/** Reads a big-endian 32-bit unsigned value. */
export function u32(buf: Uint8Array, offset: number): number {
  return ((buf[offset] << 24) >>> 0) + (buf[offset + 1] << 16) + (buf[offset + 2] << 8) + buf[offset + 3];
}

/** Writes a big-endian 32-bit value. */
export function setU32(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = (value >>> 24) & 0xff;
  buf[offset + 1] = (value >>> 16) & 0xff;
  buf[offset + 2] = (value >>> 8) & 0xff;
  buf[offset + 3] = value & 0xff;
}

/**
 * Returns the offset just past the name at `offset`. Compression pointers must point
 * backwards (RFC 1035 §4.1.4 "a prior occurrence"), which also rules out loops; the
 * expanded name must stay within 255 octets (RFC 1035 §3.1).
 */
export function skipName(buf: Uint8Array, offset: number): number {
  let pos = offset;
  let end = -1;
  let total = 1;
  let limit = offset;
  for (;;) {
    if (pos >= buf.length) throw new WireError("a name runs past the end of the message");
    const len = buf[pos];
    if (len === 0) return end < 0 ? pos + 1 : end;
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= buf.length) throw new WireError("a name pointer runs past the end of the message");
      const target = ((len & 0x3f) << 8) | buf[pos + 1];
      if (target >= limit) throw new WireError("a name pointer does not point backwards");
      if (end < 0) end = pos + 2;
      pos = target;
      limit = target;
      continue;
    }
    if (kind !== 0) throw new WireError("a name has an unknown label type");
    total += len + 1;
    if (total > 255) throw new WireError("a name is longer than 255 octets");
    pos += len + 1;
  }
}

/**
 * Walks a whole message and returns where each record is. Throws {@link WireError} when
 * the counts do not match the bytes, so a truncated or padded message is refused.
 */
export function scanMessage(buf: Uint8Array): MessageLayout {
  if (buf.length < HEADER_SIZE) throw new WireError("the message is shorter than a DNS header");
  const qdcount = u16(buf, 4);
  const counts = [u16(buf, 6), u16(buf, 8), u16(buf, 10)];
  let pos = HEADER_SIZE;
  for (let i = 0; i < qdcount; i++) {
    pos = skipName(buf, pos) + 4;
    if (pos > buf.length) throw new WireError("a question runs past the end of the message");
  }
  const questionEnd = pos;
  const records: RecordLayout[] = [];
  let opt: RecordLayout | null = null;
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s]; i++) {
      const start = pos;
      const fixed = skipName(buf, pos);
      if (fixed + 10 > buf.length) throw new WireError("a record header runs past the end of the message");
      const rdlength = u16(buf, fixed + 8);
      const end = fixed + 10 + rdlength;
      if (end > buf.length) throw new WireError("a record's data runs past the end of the message");
      const rec: RecordLayout = {
        start,
        end,
        type: u16(buf, fixed),
        klass: u16(buf, fixed + 2),
        ttlOffset: fixed + 4,
        rdataOffset: fixed + 10,
        rdlength,
        section: (s + 1) as 1 | 2 | 3,
      };
      if (rec.type === RRType.OPT) {
        // RFC 6891 §6.1.1: one OPT at most, only in the additional section, owner is root.
        if (opt || s !== 2 || buf[start] !== 0) throw new WireError("the OPT record is misplaced or repeated");
        opt = rec;
      } else {
        checkRdataNames(buf, rec);
      }
      records.push(rec);
      pos = end;
    }
  }
  if (pos !== buf.length) throw new WireError("the message has bytes after its last record");
  return { id: u16(buf, 0), flags: u16(buf, 2), qdcount, questionEnd, records, opt };
}

/**
 * Where the domain names sit in the RDATA of the types that carry them: bytes before the
 * first name, how many names follow back to back, and the fixed bytes after them (null
 * when the rest is opaque, as for a signature). RFC 1035 §3.3, RFC 2782, RFC 6672,
 * RFC 4034 §3.1 and §4.1.
 */
const RDATA_NAMES: Record<number, readonly [number, number, number | null]> = {
  [RRType.NS]: [0, 1, 0],
  [RRType.CNAME]: [0, 1, 0],
  [RRType.PTR]: [0, 1, 0],
  [RRType.DNAME]: [0, 1, 0],
  [RRType.SOA]: [0, 2, 20],
  15: [2, 1, 0], // MX
  33: [6, 1, 0], // SRV
  [RRType.RRSIG]: [18, 1, null],
  47: [0, 1, null], // NSEC: next name, then the type bitmap
};

/** RDATA lengths fixed by the type: A and AAAA. */
const FIXED_RDATA: Record<number, number> = { [RRType.A]: 4, [RRType.AAAA]: 16 };

/**
 * Checks that the names inside a record's RDATA end inside it and, where the layout is
 * fixed, that nothing is missing or left over: a message relayed as bytes must be one a
 * client can read.
 */
function checkRdataNames(buf: Uint8Array, rec: RecordLayout): void {
  // RFC 1035 §3.4.1, RFC 3596 §2.2: an address record is exactly one address long.
  const fixed = FIXED_RDATA[rec.type];
  if (fixed !== undefined && rec.rdlength !== fixed) throw new WireError("an address record has the wrong length");
  const layout = RDATA_NAMES[rec.type];
  if (!layout) return;
  const [before, names, after] = layout;
  const end = rec.rdataOffset + rec.rdlength;
  let pos = rec.rdataOffset + before;
  for (let i = 0; i < names; i++) {
    if (pos >= end) throw new WireError("a record's data is shorter than its names");
    pos = skipName(buf, pos);
  }
  if (after === null ? pos > end : pos + after !== end) throw new WireError("a name runs past its record's data");
}

/** What a query asked for, read straight from its bytes without building strings (the hot path). */
export interface ParsedQuery {
  readonly id: number;
  readonly flags: number;
  readonly opcode: number;
  readonly qtype: number;
  readonly qclass: number;
  /** First byte after the question (HEADER_SIZE + name + 4). */
  readonly questionEnd: number;
  readonly edns: EdnsInfo | null;
}

/** The requester's OPT record (RFC 6891 §6.1.2, §6.1.3). */
export interface EdnsInfo {
  readonly udpSize: number;
  readonly version: number;
  readonly dnssecOk: boolean;
}

/** Why a query cannot be answered normally. */
export type QueryProblem = "drop" | "formerr";

/**
 * Reads a query's header, single question and OPT record, and checks that the rest of
 * the message is well formed. Returns "drop" when not even a header is there to answer
 * (RFC 1035 §4.1.1 needs the ID) or the message is a response, and "formerr" for
 * anything else that does not parse.
 */
export function parseQuery(buf: Uint8Array): ParsedQuery | QueryProblem {
  const length = buf.length;
  if (length < HEADER_SIZE) return "drop";
  const flags = (buf[2] << 8) | buf[3];
  if (flags & Flag.QR) return "drop";
  if (buf[4] !== 0 || buf[5] !== 1) return "formerr";
  // The question name is the first name, so a compression pointer could only point into the header.
  let pos = HEADER_SIZE;
  for (;;) {
    if (pos >= length) return "formerr";
    const len = buf[pos];
    if (len === 0) break;
    if (len & 0xc0) return "formerr";
    pos += len + 1;
  }
  if (pos - HEADER_SIZE + 1 > 255 || pos + 5 > length) return "formerr";
  const qtype = (buf[pos + 1] << 8) | buf[pos + 2];
  const qclass = (buf[pos + 3] << 8) | buf[pos + 4];
  const questionEnd = pos + 5;
  let edns: EdnsInfo | null = null;
  const answersAndAuthority = u16(buf, 6) + u16(buf, 8);
  const total = answersAndAuthority + u16(buf, 10);
  pos = questionEnd;
  for (let i = 0; i < total; i++) {
    const start = pos;
    try {
      pos = skipName(buf, pos);
    } catch {
      return "formerr";
    }
    if (pos + 10 > length) return "formerr";
    const type = u16(buf, pos);
    const end = pos + 10 + u16(buf, pos + 8);
    if (end > length) return "formerr";
    if (type === RRType.OPT) {
      // RFC 6891 §6.1.1: one OPT at most, in the additional section, owned by the root.
      if (edns || i < answersAndAuthority || buf[start] !== 0) return "formerr";
      edns = { udpSize: u16(buf, pos + 2), version: buf[pos + 5], dnssecOk: (buf[pos + 6] & 0x80) !== 0 };
    }
    pos = end;
  }
  if (pos !== length) return "formerr";
  return { id: (buf[0] << 8) | buf[1], flags, opcode: (flags >> 11) & 0xf, qtype, qclass, questionEnd, edns };
}

/** The question's owner name in text. */
export interface QuestionName {
  /**
   * Presentation form without the final dot ("." for the root), as sent: letter case
   * kept, "." and "\\" inside labels and bytes outside printable ASCII escaped
   * (RFC 1035 §5.1), so different wire names never give the same text.
   */
  readonly name: string;
  /** True when nothing had to be escaped, so dns-packet can carry the name unchanged. */
  readonly plain: boolean;
}

/** Reads the name of the question of a message that {@link parseQuery} accepted. */
export function questionName(buf: Uint8Array): QuestionName {
  let pos = HEADER_SIZE;
  let name = "";
  let plain = true;
  while (buf[pos] !== 0) {
    const len = buf[pos];
    if (name.length) name += ".";
    for (let i = pos + 1; i <= pos + len; i++) {
      const c = buf[i];
      if (c <= 0x20 || c >= 0x7f) {
        plain = false;
        name += "\\" + String(c).padStart(3, "0");
      } else if (c === 0x2e || c === 0x5c) {
        plain = false;
        name += "\\" + String.fromCharCode(c);
      } else {
        name += String.fromCharCode(c);
      }
    }
    pos += len + 1;
  }
  return { name: name === "" ? "." : name, plain };
}

/**
 * FNV-1a over the question bytes with ASCII letters folded to lower case (RFC 4343),
 * mixed with `variant`: the cache's hash, computed without allocating.
 */
export function questionHash(buf: Uint8Array, questionEnd: number, variant: number): number {
  let h = 0x811c9dc5 ^ variant;
  for (let i = HEADER_SIZE; i < questionEnd; i++) {
    const c = buf[i];
    h = Math.imul(h ^ (c >= 0x41 && c <= 0x5a ? c + 0x20 : c), 0x01000193);
  }
  return h >>> 0;
}

/** True when the questions of `a` and `b` (both ending at `questionEnd`) are equal up to letter case. */
export function sameQuestion(a: Uint8Array, b: Uint8Array, questionEnd: number): boolean {
  for (let i = HEADER_SIZE; i < questionEnd; i++) {
    let x = a[i];
    let y = b[i];
    if (x === y) continue;
    if (x >= 0x41 && x <= 0x5a) x += 0x20;
    if (y >= 0x41 && y <= 0x5a) y += 0x20;
    if (x !== y) return false;
  }
  return true;
}

/** Encodes an OPT pseudo-record with no options (RFC 6891 §6.1.2). */
export function encodeOpt(udpSize: number, dnssecOk: boolean, extendedRcode = 0): Uint8Array {
  const opt = new Uint8Array(11);
  setU16(opt, 1, RRType.OPT);
  setU16(opt, 3, udpSize);
  opt[5] = extendedRcode;
  setU16(opt, 7, dnssecOk ? EDNS_DO : 0);
  return opt;
}

/**
 * Builds a query for `questionName` (wire-format name bytes) and `qtype`/`qclass`, with an
 * OPT record so the upstream may answer up to `udpSize` bytes and sees the client's DO bit.
 */
export function buildQuery(
  id: number,
  questionName: Uint8Array,
  qtype: number,
  qclass: number,
  flags: number,
  udpSize: number,
  dnssecOk: boolean,
): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + questionName.length + 4 + 11);
  setU16(out, 0, id);
  setU16(out, 2, flags);
  setU16(out, 4, 1);
  setU16(out, 10, 1);
  out.set(questionName, HEADER_SIZE);
  let pos = HEADER_SIZE + questionName.length;
  setU16(out, pos, qtype);
  setU16(out, pos + 2, qclass);
  pos += 4;
  out.set(encodeOpt(udpSize, dnssecOk), pos);
  return out;
}

/** The wire-format name of the question in `query` (bytes 12 up to the type field). */
export function questionNameBytes(query: Uint8Array, questionEnd: number): Uint8Array {
  return query.subarray(HEADER_SIZE, questionEnd - 4);
}

/** Lower-cased question bytes of a message, in the same form as {@link ParsedQuery.questionKey}. */
export function questionKeyOf(buf: Uint8Array, questionEnd: number): string {
  let key = "";
  let pos = HEADER_SIZE;
  const nameEnd = questionEnd - 4;
  while (pos < nameEnd) {
    const len = buf[pos];
    if (len === 0 || len & 0xc0) break;
    key += String.fromCharCode(len);
    for (let i = pos + 1; i <= pos + len; i++) {
      const c = buf[i];
      key += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
    }
    pos += len + 1;
  }
  return key + "\0" + String.fromCharCode(buf[nameEnd], buf[nameEnd + 1], buf[nameEnd + 2], buf[nameEnd + 3]);
}

/**
 * Replaces the OPT record of a response with `opt` (or removes it when `opt` is null) and
 * sets the additional count. The OPT must be the last record: removing a record from the
 * middle would move the names that later compression pointers refer to. Returns null when
 * the OPT is elsewhere, so the caller can rebuild the message instead.
 */
export function replaceOpt(buf: Uint8Array, layout: MessageLayout, opt: Uint8Array | null): Uint8Array | null {
  const cut = layout.opt ? layout.opt.start : buf.length;
  if (layout.opt && layout.opt.end !== buf.length) return null;
  const extra = opt ? opt.length : 0;
  const out = new Uint8Array(cut + extra);
  out.set(buf.subarray(0, cut));
  if (opt) out.set(opt, cut);
  const arcount = u16(buf, 10) - (layout.opt ? 1 : 0) + (opt ? 1 : 0);
  setU16(out, 10, arcount);
  return out;
}

/**
 * A response made of `src`'s header and question only, with `flags` and the OPT record
 * `opt`: error answers (RFC 1035 §4.1.1) and the smallest answer that tells a UDP client
 * to retry over TCP (RFC 1035 §4.2.1, RFC 2181 §9).
 */
export function questionOnly(src: Uint8Array, questionEnd: number, flags: number, opt: Uint8Array | null): Uint8Array {
  const out = new Uint8Array(questionEnd + (opt ? opt.length : 0));
  out.set(src.subarray(0, questionEnd));
  setU16(out, 2, flags);
  setU16(out, 6, 0);
  setU16(out, 8, 0);
  setU16(out, 10, opt ? 1 : 0);
  if (opt) out.set(opt, questionEnd);
  return out;
}

/**
 * A header-only error response to a query whose question could not be read (RFC 1035
 * §4.1.1): the ID, opcode and RD are echoed, QDCOUNT is zero.
 */
export function headerOnlyResponse(query: Uint8Array, rcode: number): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE);
  out[0] = query[0];
  out[1] = query[1];
  setU16(out, 2, Flag.QR | (u16(query, 2) & (0x7800 | Flag.RD)) | Flag.RA | (rcode & 0xf));
  return out;
}

/**
 * Compresses the owner names of a message written without compression (dns-packet
 * writes none): each owner becomes a pointer to the longest earlier name suffix it
 * shares (RFC 1035 §4.1.4). RDATA is copied as it is, so names inside it stay whole,
 * which is always valid. Synthesized AAAA records then cost 28 bytes each instead of the
 * full name again, and fewer answers need TC.
 */
export function compressOwnerNames(wire: Uint8Array): Uint8Array {
  const layout = scanMessage(wire);
  const out = new Uint8Array(wire.length);
  out.set(wire.subarray(0, layout.questionEnd));
  const suffixes = new Map<string, number>();
  remember(out, HEADER_SIZE, suffixes);
  let pos = layout.questionEnd;
  for (const r of layout.records) {
    const labels = labelOffsets(wire, r.start);
    if (!labels) return wire;
    let i = 0;
    let pointer = -1;
    for (; i < labels.length; i++) {
      const at = suffixes.get(suffixKey(wire, labels[i]));
      if (at !== undefined) {
        pointer = at;
        break;
      }
    }
    const nameStart = pos;
    for (let j = 0; j < i; j++) {
      const len = wire[labels[j]];
      out.set(wire.subarray(labels[j], labels[j] + len + 1), pos);
      pos += len + 1;
    }
    if (pointer >= 0) {
      out[pos++] = 0xc0 | (pointer >> 8);
      out[pos++] = pointer & 0xff;
    } else {
      out[pos++] = 0;
    }
    if (i > 0) remember(out, nameStart, suffixes);
    const fixed = r.rdataOffset - 10;
    out.set(wire.subarray(fixed, r.end), pos);
    pos += r.end - fixed;
  }
  return out.slice(0, pos);
}

/** Offsets of the labels of an uncompressed name, or null when it holds a pointer. */
function labelOffsets(buf: Uint8Array, offset: number): number[] | null {
  const out: number[] = [];
  let pos = offset;
  while (buf[pos] !== 0) {
    if (buf[pos] & 0xc0) return null;
    out.push(pos);
    pos += buf[pos] + 1;
  }
  return out;
}

/** The lower-cased labels from `offset` to the end of the name, following pointers. */
function suffixKey(buf: Uint8Array, offset: number): string {
  let key = "";
  let pos = offset;
  for (;;) {
    const len = buf[pos];
    if (len === 0) return key;
    if ((len & 0xc0) === 0xc0) {
      pos = ((len & 0x3f) << 8) | buf[pos + 1];
      continue;
    }
    key += String.fromCharCode(len);
    for (let i = pos + 1; i <= pos + len; i++) {
      const c = buf[i];
      key += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
    }
    pos += len + 1;
  }
}

/** Records where each suffix of the name at `offset` (in `buf`) starts, for later pointers (which reach 0x3fff at most). */
function remember(buf: Uint8Array, offset: number, suffixes: Map<string, number>): void {
  let pos = offset;
  while (pos < 0x4000) {
    const len = buf[pos];
    if (len === 0 || (len & 0xc0) === 0xc0) return;
    const key = suffixKey(buf, pos);
    if (!suffixes.has(key)) suffixes.set(key, pos);
    pos += len + 1;
  }
}

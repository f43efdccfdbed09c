/**
 * The response cache: finished responses in wire format, kept for as long as their
 * records live (RFC 1035 §3.2.1 TTL; RFC 2308 §5 for negative answers) and served to
 * later clients with their own ID, question case and RD bit, and TTLs lowered by the
 * time spent in the cache. Keys include a number for the configuration (see
 * `Dns64Config.fingerprint`), so a prefix change never serves a stale synthesis.
 *
 * @module
 */

import { allocate, Flag, HEADER_SIZE, type MessageLayout, Rcode, RRType, sameQuestion, setU32, u32 } from "./wire.ts";

/** The longest time anything is kept, whatever its TTL says (RFC 8767 §4 suggests a week at most; a day is common). */
export const MAX_CACHE_TTL = 86400;

/** A finished response and what is needed to hand it to another client. */
export interface StoredResponse {
  readonly wire: Uint8Array;
  readonly questionEnd: number;
  /** Offsets of the TTL fields of all records but OPT, and their values when stored. */
  readonly ttlOffsets: readonly number[];
  readonly ttls: readonly number[];
  readonly storedAt: number;
  /** Seconds it may be served for; 0 means it is not cached. */
  readonly lifetime: number;
}

/** Wraps a finished response; `now` in milliseconds. */
export function storedResponse(wire: Uint8Array, layout: MessageLayout, now: number): StoredResponse {
  const ttlOffsets: number[] = [];
  const ttls: number[] = [];
  for (const r of layout.records) {
    if (r.type === RRType.OPT) continue;
    ttlOffsets.push(r.ttlOffset);
    ttls.push(u32(wire, r.ttlOffset));
  }
  return { wire, questionEnd: layout.questionEnd, ttlOffsets, ttls, storedAt: now, lifetime: lifetimeOf(wire, layout) };
}

/**
 * How long a response may be cached, in seconds: the smallest TTL of its records when it
 * has an answer, min(SOA TTL, SOA MINIMUM) for a negative answer (RFC 2308 §5), and 0
 * for errors, truncated answers and negative answers without a SOA (RFC 2308 §5 SHOULD NOT).
 */
function lifetimeOf(wire: Uint8Array, layout: MessageLayout): number {
  const rcode = layout.flags & 0xf;
  if (layout.flags & Flag.TC || (rcode !== Rcode.NOERROR && rcode !== Rcode.NXDOMAIN)) return 0;
  const records = layout.records.filter((r) => r.type !== RRType.OPT);
  const hasAnswer = rcode === Rcode.NOERROR && records.some((r) => r.section === 1);
  let ttl: number;
  if (hasAnswer) {
    ttl = Math.min(...records.map((r) => u32(wire, r.ttlOffset)));
  } else {
    const soa = records.find((r) => r.section === 2 && r.type === RRType.SOA);
    if (!soa) return 0;
    ttl = Math.min(u32(wire, soa.ttlOffset), u32(wire, soa.end - 4));
  }
  return Math.min(ttl, MAX_CACHE_TTL);
}

/**
 * Copies `stored` for the client that sent `query`: its ID, its question bytes (so 0x20
 * letter case is echoed), its RD bit, and each TTL lowered by the whole seconds stored.
 */
export function renderForClient(stored: StoredResponse, query: Uint8Array, now: number): Uint8Array {
  const out = allocate(stored.wire.length);
  out.set(stored.wire);
  out[0] = query[0];
  out[1] = query[1];
  out[2] = (out[2] & ~(Flag.RD >> 8)) | (query[2] & (Flag.RD >> 8));
  // The client's own question bytes (letter case), copied without making a view of them.
  for (let i = HEADER_SIZE; i < stored.questionEnd; i++) out[i] = query[i];
  const age = Math.floor((now - stored.storedAt) / 1000);
  if (age > 0) {
    for (let i = 0; i < stored.ttlOffsets.length; i++) {
      setU32(out, stored.ttlOffsets[i], Math.max(0, stored.ttls[i] - age));
    }
  }
  return out;
}

/** A cache entry; entries whose hashes collide are chained. */
interface Entry {
  readonly variant: number;
  readonly stored: StoredResponse;
  next: Entry | null;
}

/**
 * A bounded map of stored responses, looked up by question (letter case folded) and a
 * variant number (configuration and the client's EDNS, DO and CD bits) without building
 * a string key per query. The oldest bucket goes first when it is full.
 */
export class ResponseCache {
  readonly #max: number;
  readonly #buckets = new Map<number, Entry>();
  #count = 0;

  /** `maxEntries` 0 disables the cache. */
  constructor(maxEntries: number) {
    this.#max = maxEntries;
  }

  /** The live entry for the question of `query` and `variant` (hashed to `hash` by `questionHash`), or null. */
  get(query: Uint8Array, questionEnd: number, variant: number, hash: number, now: number): StoredResponse | null {
    for (let e = this.#buckets.get(hash) ?? null; e; e = e.next) {
      if (e.variant !== variant || e.stored.questionEnd !== questionEnd) continue;
      if (!sameQuestion(e.stored.wire, query, questionEnd)) continue;
      if (now >= e.stored.storedAt + e.stored.lifetime * 1000) {
        this.#remove(hash, e);
        return null;
      }
      return e.stored;
    }
    return null;
  }

  /** Stores `stored` (whose own question is the key) when it has a lifetime. */
  set(variant: number, hash: number, stored: StoredResponse): void {
    if (this.#max === 0 || stored.lifetime <= 0) return;
    for (let e = this.#buckets.get(hash) ?? null; e; e = e.next) {
      if (
        e.variant === variant && e.stored.questionEnd === stored.questionEnd &&
        sameQuestion(e.stored.wire, stored.wire, stored.questionEnd)
      ) {
        this.#remove(hash, e);
        break;
      }
    }
    while (this.#count >= this.#max) this.#evictOldest();
    this.#buckets.set(hash, { variant, stored, next: this.#buckets.get(hash) ?? null });
    this.#count++;
  }

  /** Number of entries, live or not yet found expired. */
  get size(): number {
    return this.#count;
  }

  /** Drops everything. */
  clear(): void {
    this.#buckets.clear();
    this.#count = 0;
  }

  #remove(hash: number, entry: Entry): void {
    let head = this.#buckets.get(hash) ?? null;
    if (head === entry) {
      head = entry.next;
      if (head) this.#buckets.set(hash, head);
      else this.#buckets.delete(hash);
    } else {
      for (let e = head; e; e = e.next) {
        if (e.next === entry) {
          e.next = entry.next;
          break;
        }
      }
    }
    this.#count--;
  }

  #evictOldest(): void {
    const [hash, head] = this.#buckets.entries().next().value!;
    this.#buckets.delete(hash);
    for (let e: Entry | null = head; e; e = e.next) this.#count--;
  }
}

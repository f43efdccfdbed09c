/**
 * Who may ask: clients inside the allowed networks are answered, others get REFUSED, so
 * the listener is not an open resolver (RFC 5358 §4); and a per-client token bucket
 * drops queries beyond the configured rate.
 *
 * @module
 */

import { parseIP, type Prefix, prefixContains } from "../net/ip.ts";

/** What to do with a query. */
export type AccessVerdict = "allow" | "refuse" | "limit";

/** Bounds the per-address memory; past it, idle entries are dropped. */
const MAX_TRACKED = 65536;

interface Bucket {
  tokens: number;
  last: number;
}

/** Allowed networks and the per-client rate limit. */
export class ClientAccess {
  readonly #allowed: readonly Prefix[];
  readonly #rate: number;
  readonly #verdicts = new Map<string, boolean>();
  readonly #buckets = new Map<string, Bucket>();

  /** `rate` is queries per second per client address, with one second's worth of burst; 0 for no limit. */
  constructor(allowed: readonly Prefix[], rate: number) {
    this.#allowed = allowed;
    this.#rate = rate;
  }

  /** The verdict for a query from `address` (socket text form) at `now` (ms). */
  check(address: string, now: number): AccessVerdict {
    let allowed = this.#verdicts.get(address);
    if (allowed === undefined) {
      allowed = this.#isAllowed(address);
      if (this.#verdicts.size >= MAX_TRACKED) this.#verdicts.clear();
      this.#verdicts.set(address, allowed);
    }
    if (!allowed) return "refuse";
    return this.#rate > 0 && !this.#take(address, now) ? "limit" : "allow";
  }

  #isAllowed(address: string): boolean {
    let addr: Uint8Array;
    try {
      addr = parseIP(address.split("%")[0]);
    } catch {
      return false;
    }
    // An IPv4 client seen through a dual-stack socket is judged as IPv4 (RFC 4291 §2.5.5.2).
    if (addr.length === 16 && addr.subarray(0, 10).every((b) => b === 0) && addr[10] === 0xff && addr[11] === 0xff) {
      addr = addr.slice(12);
    }
    return this.#allowed.some((p) => prefixContains(p, addr));
  }

  #take(address: string, now: number): boolean {
    let bucket = this.#buckets.get(address);
    if (!bucket) {
      if (this.#buckets.size >= MAX_TRACKED) this.#forgetIdle(now);
      bucket = { tokens: this.#rate, last: now };
      this.#buckets.set(address, bucket);
    }
    bucket.tokens = Math.min(this.#rate, bucket.tokens + ((now - bucket.last) / 1000) * this.#rate);
    bucket.last = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Drops buckets that have refilled: their clients have been quiet for a second or more. */
  #forgetIdle(now: number): void {
    for (const [address, b] of this.#buckets) {
      if (now - b.last >= 1000) this.#buckets.delete(address);
    }
    if (this.#buckets.size >= MAX_TRACKED) this.#buckets.clear();
  }
}

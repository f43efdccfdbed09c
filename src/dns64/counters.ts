/**
 * Counters of the DNS64 listener, read by the gateway's stats.
 *
 * @module
 */

/** A snapshot of the counters. */
export interface Dns64Counters {
  /** Every message received, malformed ones included. */
  readonly queries: number;
  /** AAAA answers synthesized (an answer served again from the cache counts as a cache hit). */
  readonly synthesized: number;
  /** Records left out by the exclusion rules: real AAAA (RFC 6147 §5.1.4) and A never synthesized. */
  readonly excluded: number;
  /** Upstream attempts that got no usable answer (timeout, network error, garbage). */
  readonly upstreamErrors: number;
  /** Queries from clients outside the allowed networks, answered REFUSED. */
  readonly refused: number;
  /** Queries dropped by the per-client rate limit. */
  readonly rateLimited: number;
  /** Messages answered FORMERR or dropped because they did not parse. */
  readonly malformed: number;
  /** Answers served from the cache. */
  readonly cacheHits: number;
  /** Answers that had to be worked out. */
  readonly cacheMisses: number;
  /** UDP answers cut down to TC=1 because they did not fit the client's size. */
  readonly truncated: number;
  /** SERVFAIL answers sent because no upstream answered or an internal error happened. */
  readonly servfail: number;
}

/** The mutable counters behind {@link Dns64Counters}. */
export class CounterSet {
  queries = 0;
  synthesized = 0;
  excluded = 0;
  upstreamErrors = 0;
  refused = 0;
  rateLimited = 0;
  malformed = 0;
  cacheHits = 0;
  cacheMisses = 0;
  truncated = 0;
  servfail = 0;

  /** A copy that does not change afterwards. */
  snapshot(): Dns64Counters {
    return { ...this };
  }
}

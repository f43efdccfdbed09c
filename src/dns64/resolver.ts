/**
 * One query in, one answer out, whatever the transport: access control, the cache, the
 * local answers (ipv4only.arpa, reverse names of synthesized addresses), forwarding, and
 * the RFC 6147 §5 synthesis for class IN AAAA questions. Never throws: an internal error
 * becomes SERVFAIL.
 *
 * @module
 */

import { ClientAccess } from "./access.ts";
import { renderForClient, type ResponseCache, type StoredResponse, storedResponse } from "./cache.ts";
import type { CounterSet } from "./counters.ts";
import { ipv4onlyAnswer, isIpv4onlyAddress } from "./ipv4only.ts";
import { decodeMessage, type DnsMessage, type DnsRecord, encodeMessage, rcodeOf, syntheticSoa } from "./message.ts";
import type { Dns64Config } from "./options.ts";
import { reverseAnswer } from "./ptr.ts";
import { classifyAaaaResponse, synthesizeFromA } from "./synthesis.ts";
import type { UpstreamClient, UpstreamReply } from "./upstream.ts";
import {
  CLASS_IN,
  compressOwnerNames,
  encodeOpt,
  Flag,
  headerOnlyResponse,
  type ParsedQuery,
  parseQuery,
  questionHash,
  type QuestionName,
  questionName,
  questionNameBytes,
  questionOnly,
  Rcode,
  replaceOpt,
  RRType,
  scanMessage,
  u16,
} from "./wire.ts";

/** A query on the slow path: the parsed header and question plus the name in text. */
type Question = ParsedQuery & QuestionName;

/** Who sent a query and how. */
export interface ClientInfo {
  /** The source address in socket text form. */
  readonly address: string;
  /** TCP answers may be up to 65535 bytes; UDP answers are bounded by the client's EDNS size. */
  readonly tcp: boolean;
}

/** TTL of the CNAME that maps a synthesized address's reverse name to in-addr.arpa, and of negative answers there. */
const REVERSE_TTL = 600;

/** RFC 1035 §4.2.1: the UDP size without EDNS. */
const CLASSIC_UDP_SIZE = 512;

/** Small numbers for configuration fingerprints, so cache keys stay short. */
const fingerprintIds = new Map<string, number>();

function fingerprintId(fingerprint: string): number {
  let id = fingerprintIds.get(fingerprint);
  if (id === undefined) {
    id = fingerprintIds.size + 1;
    fingerprintIds.set(fingerprint, id);
  }
  return id;
}

/** A query that passed every check but is not in the cache: what {@link Dns64Resolver.answerLater} needs. */
export class UpstreamNeeded {
  constructor(
    readonly query: ParsedQuery,
    readonly client: ClientInfo,
    readonly variant: number,
    readonly hash: number,
  ) {}
}

/** What the resolver needs from its surroundings. */
export interface ResolverParts {
  readonly upstream: UpstreamClient;
  readonly cache: ResponseCache;
  readonly counters: CounterSet;
}

/** Answers queries; see the module comment. */
export class Dns64Resolver {
  readonly #config: Dns64Config;
  readonly #upstream: UpstreamClient;
  readonly #cache: ResponseCache;
  readonly #counters: CounterSet;
  readonly #access: ClientAccess;
  readonly #fingerprint: number;
  readonly #inflight = new Map<string, Promise<StoredResponse>>();

  constructor(config: Dns64Config, parts: ResolverParts) {
    this.#config = config;
    this.#upstream = parts.upstream;
    this.#cache = parts.cache;
    this.#counters = parts.counters;
    this.#access = new ClientAccess(config.allowClient, config.rateLimit);
    this.#fingerprint = fingerprintId(config.fingerprint);
  }

  /**
   * The answer to `query`, or null when nothing should be sent back. Answers that need no
   * upstream (cache hits, errors, local refusals) come back at once, without a promise,
   * so the listener can send them in the same turn of the event loop.
   */
  handle(query: Uint8Array, client: ClientInfo): Uint8Array | null | Promise<Uint8Array | null> {
    const now = this.answerNow(query, client);
    return now instanceof UpstreamNeeded ? this.answerLater(now, query) : now;
  }

  /**
   * The answer when it needs no upstream (a cache hit, an error, a local refusal), null
   * when nothing should be sent back, or {@link UpstreamNeeded}, to be handed to
   * {@link answerLater} with the query. `query` is read during this call only, so it may
   * be a view into a receive buffer that is refilled afterwards.
   */
  answerNow(query: Uint8Array, client: ClientInfo): Uint8Array | null | UpstreamNeeded {
    const counters = this.#counters;
    counters.queries++;
    try {
      const now = Date.now();
      const q = parseQuery(query);
      if (q === "drop" || q === "formerr") {
        counters.malformed++;
        return q === "drop" ? null : headerOnlyResponse(query, Rcode.FORMERR);
      }
      const verdict = this.#access.check(client.address, now);
      if (verdict === "limit") {
        counters.rateLimited++;
        return null;
      }
      if (verdict === "refuse") {
        counters.refused++;
        return this.#errorAnswer(query, q, Rcode.REFUSED);
      }
      if (q.opcode !== 0) return this.#errorAnswer(query, q, Rcode.NOTIMP);
      // RFC 6891 §6.1.3: only EDNS version 0 exists; others get BADVERS.
      if (q.edns && q.edns.version > 0) return this.#errorAnswer(query, q, Rcode.BADVERS);
      const variant = this.#fingerprint * 8 + (q.edns ? 4 : 0) + (q.edns?.dnssecOk ? 2 : 0) +
        (q.flags & Flag.CD ? 1 : 0);
      const hash = questionHash(query, q.questionEnd, variant);
      const stored = this.#cache.get(query, q.questionEnd, variant, hash, now);
      if (stored) {
        counters.cacheHits++;
        return this.#deliver(stored, query, q, client, now);
      }
      counters.cacheMisses++;
      return new UpstreamNeeded(q, client, variant, hash);
    } catch (e) {
      return this.#internalError(query, e);
    }
  }

  /**
   * The answer worked out with the upstream resolvers for a query {@link answerNow} could
   * not answer. `query` must hold the same bytes until the promise settles; never rejects.
   */
  answerLater(pending: UpstreamNeeded, query: Uint8Array): Promise<Uint8Array | null> {
    const q = pending.query;
    return this.#coalesced(query, { ...q, ...questionName(query) }, pending.variant, pending.hash)
      .then((fresh) => this.#deliver(fresh, query, q, pending.client, Date.now()))
      .catch((e) => this.#internalError(query, e));
  }

  /** A stored answer made ready for one client: its ID and case, and TC when it does not fit. */
  #deliver(stored: StoredResponse, query: Uint8Array, q: ParsedQuery, client: ClientInfo, now: number): Uint8Array {
    if (stored.questionEnd !== q.questionEnd) return this.#errorAnswer(query, q, Rcode.SERVFAIL);
    const full = renderForClient(stored, query, now);
    const limit = client.tcp
      ? 65535
      : q.edns
      ? Math.min(Math.max(q.edns.udpSize, CLASSIC_UDP_SIZE), this.#config.ednsUdpSize)
      : CLASSIC_UDP_SIZE;
    if (full.length <= limit) return full;
    this.#counters.truncated++;
    return questionOnly(full, q.questionEnd, u16(full, 2) | Flag.TC, this.#clientOpt(q));
  }

  #internalError(query: Uint8Array, e: unknown): Uint8Array | null {
    console.error(`dns64: internal error answering a query: ${(e as Error).message}`);
    this.#counters.servfail++;
    const q = parseQuery(query);
    return typeof q === "string" ? null : this.#errorAnswer(query, q, Rcode.SERVFAIL);
  }

  /** Concurrent misses for one question share the work (and the upstream queries). */
  #coalesced(query: Uint8Array, q: Question, variant: number, hash: number): Promise<StoredResponse> {
    const key = `${variant} ${q.qtype} ${q.qclass} ${q.name.toLowerCase()}`;
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = this.#answer(query, q).then((wire) => {
        const stored = storedResponse(wire, scanMessage(wire), Date.now());
        this.#cache.set(variant, hash, stored);
        return stored;
      }).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  async #answer(query: Uint8Array, q: Question): Promise<Uint8Array> {
    if (q.qclass === CLASS_IN && q.plain) {
      const local = ipv4onlyAnswer(q.name, typeName(q.qtype), this.#config);
      if (local) return this.#compose(q, local.rcode, local.answers, local.authorities, []);
      const reverse = reverseAnswer(q.name, this.#config, isIpv4onlyAddress);
      if (reverse.kind !== "outside") return await this.#reverse(query, q, reverse);
      // RFC 6147 §5.5: CD=1 asks for the real data, which synthesis would not be.
      if (q.qtype === RRType.AAAA && !(q.flags & Flag.CD)) return await this.#synthesis(query, q);
    }
    return this.#relay(query, q, await this.#ask(query, q, q.qtype));
  }

  #ask(
    query: Uint8Array,
    q: ParsedQuery,
    qtype: number,
    nameWire = questionNameBytes(query, q.questionEnd),
  ): Promise<UpstreamReply> {
    return this.#upstream.resolve({
      nameWire,
      qtype,
      qclass: q.qclass,
      dnssecOk: q.edns?.dnssecOk ?? false,
      checkingDisabled: (q.flags & Flag.CD) !== 0,
    });
  }

  /**
   * An upstream answer as it is, but for the header bits this server owns (RA set, AA
   * cleared, the client's RD and CD) and the OPT record, which is hop-by-hop (RFC 6891
   * §6.1.1): the client's own EDNS state decides whether one is sent.
   */
  #relay(query: Uint8Array, q: Question, reply: UpstreamReply): Uint8Array {
    if (!reply.ok || !isAnswerRcode(reply.layout.flags & 0xf)) return this.#servfail(query, q);
    const opt = this.#clientOpt(q);
    const wire = replaceOpt(reply.wire, reply.layout, opt);
    if (!wire) {
      const m = decodeMessage(reply.wire);
      return this.#compose(q, rcodeOf(m), m.answers, m.authorities, m.additionals, (m.flags & Flag.AD) !== 0);
    }
    const upstreamFlags = u16(wire, 2);
    const flags = Flag.QR | (q.flags & 0x7800) | (upstreamFlags & (Flag.AD | 0xf)) | Flag.RA |
      (q.flags & (Flag.RD | Flag.CD));
    wire[2] = flags >> 8;
    wire[3] = flags & 0xff;
    return wire;
  }

  /** RFC 6147 §5.1: the AAAA question, answered with real AAAA when there are any, else synthesized. */
  async #synthesis(query: Uint8Array, q: Question): Promise<Uint8Array> {
    const aaaaReply = await this.#ask(query, q, RRType.AAAA);
    let negTtl: number | null = null;
    let aaaa: DnsMessage | null = null;
    if (aaaaReply.ok) {
      aaaa = decodeMessage(aaaaReply.wire);
      const outcome = classifyAaaaResponse(aaaa, q.name, this.#config);
      if (outcome.kind === "pass") return this.#relay(query, q, aaaaReply);
      this.#counters.excluded += outcome.excluded;
      if (outcome.kind === "filtered") {
        return this.#compose(q, Rcode.NOERROR, outcome.answers, aaaa.authorities, aaaa.additionals);
      }
      negTtl = outcome.negativeTtl;
    } else if (!this.#config.synthesizeOnServfail) {
      // RFC 6147 §5.1.3 would synthesize after a timeout; by default an outage stays visible.
      return this.#servfail(query, q);
    }
    const aReply = await this.#ask(query, q, RRType.A);
    if (!aReply.ok) return this.#servfail(query, q);
    const a = decodeMessage(aReply.wire);
    const result = synthesizeFromA(a, q.name, negTtl, this.#config);
    if (result.kind === "synthesized") {
      this.#counters.synthesized++;
      this.#counters.excluded += result.excluded;
      // RFC 6147 §5.3.2 and §5.4: authority and additional come from the A response, untouched.
      return this.#compose(q, Rcode.NOERROR, result.answers, a.authorities, a.additionals);
    }
    if (result.kind === "unsynthesizable") {
      this.#counters.excluded += result.excluded;
      // Nothing to synthesize: the negative AAAA answer (with its SOA) is the truth to tell.
      if (aaaa && rcodeOf(aaaa) === Rcode.NOERROR) {
        return this.#compose(
          q,
          Rcode.NOERROR,
          aaaa.answers.filter((r) => r.type !== "AAAA"),
          aaaa.authorities,
          aaaa.additionals,
        );
      }
      return this.#compose(q, Rcode.NOERROR, [], a.authorities, a.additionals);
    }
    // RFC 6147 §5.1.6: an empty or failed A lookup is the basis of the answer.
    if (!isAnswerRcode(rcodeOf(a))) return this.#servfail(query, q);
    return this.#compose(q, rcodeOf(a), result.answers, a.authorities, a.additionals);
  }

  /**
   * RFC 6147 §5.3.1 option 2: a CNAME to the in-addr.arpa name, followed here so the
   * client gets the PTR (or the NXDOMAIN) in the same answer.
   */
  async #reverse(query: Uint8Array, q: Question, reverse: ReturnType<typeof reverseAnswer>): Promise<Uint8Array> {
    if (reverse.kind === "outside") throw new Error("reverse answer asked for an outside name");
    if (reverse.kind !== "cname") {
      const rcode = reverse.kind === "nxdomain" ? Rcode.NXDOMAIN : Rcode.NOERROR;
      return this.#compose(q, rcode, [], [syntheticSoa(reverse.zone, REVERSE_TTL)], []);
    }
    const cname: DnsRecord = { name: q.name, type: "CNAME", class: "IN", ttl: REVERSE_TTL, data: reverse.target };
    const target = ipv4onlyAnswer(reverse.target, typeName(q.qtype), this.#config);
    if (target) return this.#compose(q, target.rcode, [cname, ...target.answers], target.authorities, []);
    if (q.qtype === RRType.CNAME) return this.#compose(q, Rcode.NOERROR, [cname], [], []);
    const reply = await this.#ask(query, q, q.qtype, nameToWire(reverse.target));
    if (!reply.ok) return this.#servfail(query, q);
    const m = decodeMessage(reply.wire);
    if (!isAnswerRcode(rcodeOf(m))) return this.#servfail(query, q);
    return this.#compose(q, rcodeOf(m), [cname, ...m.answers], m.authorities, m.additionals);
  }

  /**
   * Encodes an answer to `q` with dns-packet: header bits as a recursive server sets them
   * (RFC 6147 §5.4: RA set, AA clear), AD only when `authenticated` (never for data this
   * server made, RFC 6147 §5.5), and the upstream's OPT replaced by the client's.
   */
  #compose(
    q: Question,
    rcode: number,
    answers: DnsRecord[],
    authorities: DnsRecord[],
    additionals: DnsRecord[],
    authenticated = false,
  ): Uint8Array {
    const extra = additionals.filter((r) => r.type !== "OPT");
    if (q.edns) {
      extra.push({
        name: ".",
        type: "OPT",
        udpPayloadSize: this.#config.ednsUdpSize,
        extendedRcode: rcode >> 4,
        flags: q.edns.dnssecOk ? 0x8000 : 0,
        options: [],
      });
    }
    const flags = (q.flags & (0x7800 | Flag.RD | Flag.CD)) | Flag.RA | (authenticated ? Flag.AD : 0) | (rcode & 0xf);
    const message: DnsMessage = {
      id: q.id,
      type: "response",
      flags,
      questions: [{ name: q.name, type: typeName(q.qtype), class: "IN" }],
      answers,
      authorities,
      additionals: extra,
    };
    return compressOwnerNames(encodeMessage(message));
  }

  #servfail(query: Uint8Array, q: Question): Uint8Array {
    this.#counters.servfail++;
    return this.#errorAnswer(query, q, Rcode.SERVFAIL);
  }

  /** The question echoed with an error RCODE (extended RCODEs through the OPT, RFC 6891 §6.1.3). */
  #errorAnswer(query: Uint8Array, q: ParsedQuery, rcode: number): Uint8Array {
    const flags = Flag.QR | (q.flags & (0x7800 | Flag.RD | Flag.CD)) | Flag.RA | (rcode & 0xf);
    const opt = q.edns ? encodeOpt(this.#config.ednsUdpSize, q.edns.dnssecOk, rcode >> 4) : null;
    return questionOnly(query, q.questionEnd, flags, opt);
  }

  #clientOpt(q: ParsedQuery): Uint8Array | null {
    return q.edns ? encodeOpt(this.#config.ednsUdpSize, q.edns.dnssecOk) : null;
  }
}

/**
 * True for the RCODEs that describe the name (NOERROR, NXDOMAIN) and so may reach the
 * client. The others (SERVFAIL, FORMERR, NOTIMP, REFUSED, the UPDATE codes) describe the
 * upstream exchange; the client is told SERVFAIL, as a recursive server would.
 */
function isAnswerRcode(rcode: number): boolean {
  return rcode === Rcode.NOERROR || rcode === Rcode.NXDOMAIN;
}

/** Type numbers by their dns-packet names (RRType's keys are those names). */
const TYPE_NAMES = new Map<number, string>(Object.entries(RRType).map(([name, value]) => [value, name]));

/** The dns-packet name of a type number; its "UNKNOWN_n" form encodes back to n. */
function typeName(qtype: number): string {
  return TYPE_NAMES.get(qtype) ?? `UNKNOWN_${qtype}`;
}

/** A plain dotted name (letters, digits, hyphens) in wire format. */
function nameToWire(name: string): Uint8Array {
  const labels = name.split(".").filter((l) => l.length);
  const out = new Uint8Array(labels.reduce((n, l) => n + l.length + 1, 1));
  let pos = 0;
  for (const label of labels) {
    out[pos++] = label.length;
    for (let i = 0; i < label.length; i++) out[pos++] = label.charCodeAt(i);
  }
  return out;
}

/**
 * Queries for the DNS64 fuzzer, each with what a correct listener must do with it, and
 * the check of an answer against that expectation:
 * - well-formed queries (dns-packet) get an answer with their ID and question, RCODE
 *   NOERROR, NXDOMAIN, SERVFAIL or REFUSED; opcode ≠ 0 gets NOTIMP (RFC 1035 §4.1.1),
 *   EDNS version > 0 gets BADVERS (RFC 6891 §6.1.3); UDP answers fit the client's size;
 * - queries broken on purpose (question cut short, counts of 65535, a compression loop
 *   in the question, a name past 255 octets, bytes after the last record, QDCOUNT ≠ 1)
 *   get FORMERR;
 * - randomly damaged queries get some answer with their ID;
 * - messages shorter than a header, and responses (QR=1), get no answer.
 */

import dnsPacket from "dns-packet";
import { Buffer } from "node:buffer";
import { FUZZ_ZONE } from "./hostile_upstream.ts";
import { damage, HEADER, longName, pointerTrap, questionEnd } from "./dns_mutate.ts";
import type { Prng } from "./prng.ts";

/** What a correct listener does with a query. */
export interface Expect {
  answer: boolean;
  rcode: "formerr" | "notimp" | "badvers" | "resolved" | "any";
  /** The largest UDP answer allowed, when the query is known well enough to say. */
  udpLimit: number | null;
}

/** One generated query. */
export interface FuzzQuery {
  bytes: Uint8Array;
  expect: Expect;
  /** How it was made, for findings. */
  how: string;
}

/** The listener's `edns-udp-size` in the fuzz runs. */
export const SERVER_EDNS_SIZE = 1232;

const NAMES = ["v4only", "dual", "many", "alias", "nothing-here"];
const TYPES = ["AAAA", "AAAA", "AAAA", "A", "PTR", "TXT", "ANY", "MX"];

/** The listener's synthesis prefix in the fuzz runs (network-specific: documentation IPv4 may be synthesized). */
export const FUZZ_PREFIX = "2001:db8:64::/96";

/** The ip6.arpa name of 2001:db8:64::c000:2xx (RFC 3596 §2.5), which the listener answers itself (RFC 6147 §5.3.1). */
function reverseName(x: number): string {
  const hex = "20010db8006400000000000000000000".slice(0, 24) + "c00002" + x.toString(16).padStart(2, "0");
  return [...hex].reverse().join(".") + ".ip6.arpa";
}

/** A well-formed query and its expectation. */
function wellFormed(rng: Prng): FuzzQuery {
  const label = rng.pick(NAMES);
  const reverse = rng.chance(0.1);
  const name = reverse
    ? reverseName(rng.below(256))
    : rng.chance(0.5)
    ? `q${rng.u32().toString(36)}.${label}.${FUZZ_ZONE}`
    : `${label}.${FUZZ_ZONE}`;
  const edns = rng.chance(0.6)
    ? {
      udp: rng.pick([512, 1232, 4096, 100, 65535]),
      version: rng.chance(0.1) ? 1 + rng.below(3) : 0,
      dnssecOk: rng.chance(0.3),
    }
    : null;
  const opcode = rng.chance(0.05) ? rng.pick([1, 2, 4, 5]) : 0;
  const bytes = new Uint8Array(dnsPacket.encode({
    type: "query",
    id: 0,
    flags: (opcode << 11) | dnsPacket.RECURSION_DESIRED | (rng.chance(0.1) ? dnsPacket.CHECKING_DISABLED : 0),
    questions: [{ name, type: reverse ? "PTR" : rng.pick(TYPES), class: rng.chance(0.95) ? "IN" : "CH" }],
    additionals: edns
      ? [{
        name: ".",
        type: "OPT",
        udpPayloadSize: edns.udp,
        ednsVersion: edns.version,
        flags: edns.dnssecOk ? dnsPacket.DNSSEC_OK : 0,
        options: [],
      }]
      : [],
  }));
  // RFC 6891 §6.2.5: below 512 counts as 512; the listener never sends more than its own size.
  const udpLimit = edns ? Math.min(Math.max(edns.udp, 512), SERVER_EDNS_SIZE) : 512;
  const rcode = opcode !== 0 ? "notimp" : edns && edns.version > 0 ? "badvers" : "resolved";
  return { bytes, expect: { answer: true, rcode, udpLimit }, how: `well-formed ${name}` };
}

/** A query broken on purpose in a way RFC 1035 makes a format error. */
function broken(rng: Prng): FuzzQuery {
  const base = wellFormed(rng).bytes;
  const qEnd = questionEnd(base);
  const formerr = (bytes: Uint8Array, how: string): FuzzQuery => ({
    bytes,
    expect: { answer: true, rcode: "formerr", udpLimit: null },
    how,
  });
  switch (rng.below(6)) {
    case 0:
      return formerr(base.slice(0, rng.range(HEADER, qEnd - 1)), "question cut short");
    case 1: {
      const out = base.slice();
      const field = rng.pick([6, 8]);
      out[field] = 0xff;
      out[field + 1] = 0xff;
      return formerr(out, `count at offset ${field} set to 65535`);
    }
    case 2:
      return formerr(pointerTrap(base, HEADER, rng), "compression pointer trap in the question name");
    case 3: {
      const name = longName(5, 63);
      return formerr(
        Uint8Array.from([...base.subarray(0, HEADER), ...name, 0, 28, 0, 1]),
        "question name of 321 octets",
      );
    }
    case 4:
      return formerr(Uint8Array.from([...base, ...rng.bytes(rng.range(1, 20))]), "bytes after the last record");
    default: {
      const out = base.slice();
      out[5] = rng.pick([0, 2, 255]);
      return formerr(out, `QDCOUNT ${out[5]}`);
    }
  }
}

/** Draws one query: well-formed, broken, damaged at random, too short, or a response. */
export function drawQuery(rng: Prng): FuzzQuery {
  const roll = rng.below(100);
  if (roll < 35) return wellFormed(rng);
  if (roll < 60) return broken(rng);
  if (roll < 90) {
    const bytes = damage(wellFormed(rng).bytes, rng);
    const answer = bytes.length >= HEADER && (bytes[2] & 0x80) === 0;
    return { bytes, expect: { answer, rcode: "any", udpLimit: null }, how: "damaged" };
  }
  if (roll < 95) {
    return {
      bytes: rng.bytes(rng.below(HEADER)),
      expect: { answer: false, rcode: "any", udpLimit: null },
      how: "shorter than a header",
    };
  }
  const bytes = wellFormed(rng).bytes;
  bytes[2] |= 0x80;
  return { bytes, expect: { answer: false, rcode: "any", udpLimit: null }, how: "a response (QR=1)" };
}

/** Writes a query ID (bytes 0–1) when the message has room for one. */
export function stampId(bytes: Uint8Array, id: number): void {
  if (bytes.length >= 2) {
    bytes[0] = id >> 8;
    bytes[1] = id & 0xff;
  }
}

const RESOLVED = new Set([0, 2, 3, 5]);
const WANTED: Record<Exclude<Expect["rcode"], "resolved" | "any">, number> = { formerr: 1, notimp: 4, badvers: 16 };

/** The problems of `answer` to `q` (null: nothing came back), over `transport`. */
export function checkAnswer(q: FuzzQuery, answer: Uint8Array | null, transport: "udp" | "tcp"): string[] {
  const { expect } = q;
  if (!answer) return expect.answer ? ["no answer"] : [];
  if (!expect.answer) return ["an answer to a message that must be dropped"];
  const problems: string[] = [];
  if (answer.length < HEADER) return [`an answer of ${answer.length} bytes`];
  if (answer[0] !== q.bytes[0] || answer[1] !== q.bytes[1]) problems.push("the answer's ID is not the query's");
  if (!(answer[2] & 0x80)) problems.push("the answer has QR=0");
  if (((answer[2] >> 3) & 0xf) !== ((q.bytes[2] >> 3) & 0xf)) problems.push("the answer's opcode is not the query's");
  // deno-lint-ignore no-explicit-any
  let decoded: any;
  try {
    decoded = dnsPacket.decode(Buffer.from(answer));
  } catch (e) {
    return [...problems, `the answer does not decode: ${(e as Error).message}`];
  }
  // deno-lint-ignore no-explicit-any
  const opt = decoded.additionals.find((r: any) => r.type === "OPT");
  const rcode = (answer[3] & 0xf) | ((opt?.extendedRcode ?? 0) << 4);
  if (expect.rcode === "resolved" && !RESOLVED.has(rcode)) problems.push(`a well-formed query got RCODE ${rcode}`);
  if (expect.rcode !== "resolved" && expect.rcode !== "any" && rcode !== WANTED[expect.rcode]) {
    problems.push(`expected ${expect.rcode.toUpperCase()}, got RCODE ${rcode}`);
  }
  if (transport === "udp" && expect.udpLimit !== null && answer.length > expect.udpLimit) {
    problems.push(`a ${answer.length}-byte UDP answer exceeds the ${expect.udpLimit} bytes the client can take`);
  }
  if (expect.rcode === "resolved" && decoded.questions.length === 1) {
    const asked = dnsPacket.decode(Buffer.from(q.bytes)).questions[0];
    const got = decoded.questions[0];
    if (got.name.toLowerCase() !== asked.name.toLowerCase() || got.type !== asked.type || got.class !== asked.class) {
      problems.push(`the answer's question ${got.name}/${got.type}/${got.class} is not the query's`);
    }
  }
  return problems;
}

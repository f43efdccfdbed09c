import { deepStrictEqual as eq, ok, throws } from "node:assert/strict";
import dnsPacket from "dns-packet";
import { Buffer } from "node:buffer";
import {
  buildQuery,
  compressOwnerNames,
  encodeOpt,
  parseQuery,
  questionHash,
  questionKeyOf,
  questionName,
  questionOnly,
  replaceOpt,
  sameQuestion,
  scanMessage,
  WireError,
} from "../../src/dns64/wire.ts";

const header = (qd: number, an = 0, ns = 0, ar = 0) => [0x12, 0x34, 0x01, 0x00, 0, qd, 0, an, 0, ns, 0, ar];
const name = (...labels: string[]) => labels.flatMap((l) => [l.length, ...new TextEncoder().encode(l)]).concat(0);

Deno.test("scanMessage refuses forward pointers, loops, overruns and trailing bytes", () => {
  throws(() => scanMessage(Uint8Array.from([...header(1), 0xc0, 12, 0, 1, 0, 1])), WireError);
  throws(() => scanMessage(Uint8Array.from([...header(1), 3, 0x61])), WireError);
  throws(() => scanMessage(Uint8Array.from([...header(1), ...name("a"), 0, 1, 0, 1, 9])), WireError);
  throws(
    () => scanMessage(Uint8Array.from([...header(0, 1), ...name("a"), 0, 1, 0, 1, 0, 0, 0, 1, 0, 9, 1])),
    WireError,
  );
  const ok1 = scanMessage(
    Uint8Array.from([...header(1, 1), ...name("a"), 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 7, 0, 4, 1, 2, 3, 4]),
  );
  eq([ok1.records.length, ok1.records[0].ttlOffset], [1, 25]);
});

Deno.test("parseQuery: too short is dropped, responses dropped, garbage is FORMERR", () => {
  eq(parseQuery(Uint8Array.from([1, 2, 3])), "drop");
  eq(parseQuery(Uint8Array.from([0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0])), "drop");
  eq(parseQuery(Uint8Array.from(header(2))), "formerr");
  eq(parseQuery(Uint8Array.from([...header(1), 5, 0x61])), "formerr");
});

Deno.test("parseQuery reads the question and the OPT record; the name is read on demand", () => {
  const q = buildQuery(7, Uint8Array.from(name("WwW", "Example")), 28, 1, 0x0110, 1400, true);
  const p = parseQuery(q);
  if (typeof p === "string") throw new Error(p);
  eq([p.id, p.qtype, p.qclass, p.questionEnd], [7, 28, 1, 12 + 13 + 4]);
  eq(p.edns, { udpSize: 1400, version: 0, dnssecOk: true });
  eq(questionName(q), { name: "WwW.Example", plain: true });
  eq(questionName(Uint8Array.from([...header(1), ...name("a.b", "c"), 0, 1, 0, 1])), { name: "a\\.b.c", plain: false });
  eq(questionName(Uint8Array.from([...header(1), 2, 0x41, 0xff, 0, 0, 1, 0, 1])), { name: "A\\255", plain: false });
  eq(
    parseQuery(
      Uint8Array.from([...header(1, 0, 0, 1), ...name("a"), 0, 1, 0, 1, 1, 0x61, 0, 0, 41, 2, 0, 0, 0, 0, 0, 0, 0]),
    ),
    "formerr",
  );
});

Deno.test("questionHash and sameQuestion fold letter case only", () => {
  const lower = buildQuery(1, Uint8Array.from(name("www", "example")), 28, 1, 0, 512, false);
  const upper = buildQuery(2, Uint8Array.from(name("WWW", "EXAMPLE")), 28, 1, 0, 512, false);
  const other = buildQuery(3, Uint8Array.from(name("wwx", "example")), 28, 1, 0, 512, false);
  const end = 12 + 13 + 4;
  eq(questionHash(lower, end, 5), questionHash(upper, end, 5));
  eq(questionHash(lower, end, 5) === questionHash(lower, end, 6), false);
  eq([sameQuestion(lower, upper, end), sameQuestion(lower, other, end)], [true, false]);
  eq(questionKeyOf(lower, end), questionKeyOf(upper, end));
});

Deno.test("owner-name compression keeps the message equal and makes it smaller", () => {
  const message = {
    type: "response",
    id: 5,
    flags: 0x0180,
    questions: [{ name: "h.dns64.example", type: "AAAA", class: "IN" }],
    answers: [
      { name: "h.dns64.example", type: "CNAME", ttl: 9, data: "t.dns64.example" },
      { name: "t.dns64.example", type: "AAAA", ttl: 9, data: "2001:db8::1" },
      { name: "T.dns64.example", type: "AAAA", ttl: 9, data: "2001:db8::2" },
    ],
    authorities: [{ name: "dns64.example", type: "NS", ttl: 9, data: "ns.dns64.example" }],
    additionals: [{ name: ".", type: "OPT", udpPayloadSize: 1232, flags: 0, options: [] }],
  };
  const plain = new Uint8Array(dnsPacket.encode(message));
  const packed = compressOwnerNames(plain);
  ok(packed.length < plain.length - 20);
  const a = dnsPacket.decode(Buffer.from(plain));
  const b = dnsPacket.decode(Buffer.from(packed));
  eq(b.answers.map((r: { data: string }) => r.data), a.answers.map((r: { data: string }) => r.data));
  eq(
    b.answers.map((r: { name: string }) => r.name.toLowerCase()),
    a.answers.map((r: { name: string }) => r.name.toLowerCase()),
  );
  eq(b.authorities[0].data, "ns.dns64.example");
});

Deno.test("replaceOpt swaps a trailing OPT and refuses one in the middle", () => {
  const base = [...header(1, 0, 0, 1), ...name("a"), 0, 1, 0, 1];
  const withOpt = Uint8Array.from([...base, ...encodeOpt(4096, false)]);
  const replaced = replaceOpt(withOpt, scanMessage(withOpt), encodeOpt(1232, true));
  ok(replaced);
  eq(scanMessage(replaced).opt?.klass, 1232);
  const removed = replaceOpt(withOpt, scanMessage(withOpt), null);
  ok(removed);
  eq([removed.length, removed[11]], [base.length, 0]);
  const middle = Uint8Array.from([
    ...header(1, 0, 0, 2),
    ...name("a"),
    0,
    1,
    0,
    1,
    ...encodeOpt(512, false),
    ...name("a"),
    0,
    1,
    0,
    1,
    0,
    0,
    0,
    1,
    0,
    4,
    192,
    0,
    2,
    1,
  ]);
  eq(replaceOpt(middle, scanMessage(middle), null), null);
});

Deno.test("questionOnly keeps header and question, sets flags and counts", () => {
  const q = buildQuery(3, Uint8Array.from(name("x")), 1, 1, 0x0100, 512, false);
  const p = parseQuery(q);
  if (typeof p === "string") throw new Error(p);
  const out = questionOnly(q, p.questionEnd, 0x8385, null);
  eq(Array.from(out.subarray(0, 12)), [0, 3, 0x83, 0x85, 0, 1, 0, 0, 0, 0, 0, 0]);
});

Deno.test("scanMessage checks the names inside RDATA of the types that carry them", () => {
  const rr = (type: number, rdata: number[]) => [0xc0, 12, 0, type, 0, 1, 0, 0, 0, 60, 0, rdata.length, ...rdata];
  const msg = (rdata: number[], type: number) =>
    Uint8Array.from([...header(1, 1), ...name("a"), 0, 1, 0, 1, ...rr(type, rdata)]);
  // CNAME: a 5-octet label with 3 octets inside a 4-octet RDATA.
  throws(() => scanMessage(msg([5, 0x61, 0x62, 0x63], 5)), WireError);
  // CNAME with a byte left over after the name.
  throws(() => scanMessage(msg([...name("b"), 9], 5)), WireError);
  // SOA missing its five counters.
  throws(() => scanMessage(msg([...name("b"), ...name("c")], 6)), WireError);
  // MX: preference, then a name that points back to the question.
  eq(scanMessage(msg([0, 10, 0xc0, 12], 15)).records.length, 1);
  eq(scanMessage(msg([...name("b"), ...name("c"), ...new Array(20).fill(0)], 6)).records.length, 1);
});

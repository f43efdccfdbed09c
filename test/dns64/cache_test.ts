import { deepStrictEqual as eq } from "node:assert/strict";
import dnsPacket from "dns-packet";
import { Buffer } from "node:buffer";
import { renderForClient, ResponseCache, storedResponse } from "../../src/dns64/cache.ts";
import { questionHash, scanMessage } from "../../src/dns64/wire.ts";

const SOA = { mname: "ns.x", rname: "h.x", serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 60 };

function wire(flags: number, answers: object[], authorities: object[] = []): Uint8Array {
  return new Uint8Array(dnsPacket.encode({
    type: "response",
    id: 1,
    flags,
    questions: [{ name: "h.x", type: "AAAA", class: "IN" }],
    answers,
    authorities,
  }));
}

const stored = (w: Uint8Array, now = 0) => storedResponse(w, scanMessage(w), now);

Deno.test("lifetime: min record TTL; negative answers by SOA; errors and TC not cached", () => {
  eq(
    stored(
      wire(0, [{ name: "h.x", type: "AAAA", ttl: 300, data: "2001:db8::1" }, {
        name: "h.x",
        type: "AAAA",
        ttl: 30,
        data: "2001:db8::2",
      }]),
    ).lifetime,
    30,
  );
  eq(stored(wire(3, [], [{ name: "x", type: "SOA", ttl: 900, data: SOA }])).lifetime, 60);
  eq(stored(wire(0, [], [{ name: "x", type: "SOA", ttl: 20, data: SOA }])).lifetime, 20);
  eq(stored(wire(0, [])).lifetime, 0);
  eq(stored(wire(2, [])).lifetime, 0);
  eq(stored(wire(0x0200, [{ name: "h.x", type: "AAAA", ttl: 300, data: "2001:db8::1" }])).lifetime, 0);
  eq(stored(wire(0, [{ name: "h.x", type: "AAAA", ttl: 9999999, data: "2001:db8::1" }])).lifetime, 86400);
});

Deno.test("a stored answer is rendered with the client's ID, case and RD, and aged TTLs", () => {
  const s = stored(wire(0x0180, [{ name: "h.x", type: "AAAA", ttl: 300, data: "2001:db8::1" }]), 1000);
  const query = new Uint8Array(
    dnsPacket.encode({ type: "query", id: 77, flags: 0, questions: [{ name: "H.X", type: "AAAA" }] }),
  );
  const out = dnsPacket.decode(Buffer.from(renderForClient(s, query, 1000 + 42_500)));
  eq([out.id, out.questions[0].name, out.flag_rd, out.answers[0].ttl], [77, "H.X", false, 258]);
  const late = dnsPacket.decode(Buffer.from(renderForClient(s, query, 1000 + 999_000)));
  eq(late.answers[0].ttl, 0);
});

Deno.test("entries expire with their lifetime and the oldest goes first when full", () => {
  const entry = (label: string) => {
    const w = new Uint8Array(dnsPacket.encode({
      type: "response",
      id: 1,
      questions: [{ name: `${label}.x`, type: "AAAA" }],
      answers: [{ name: `${label}.x`, type: "AAAA", ttl: 10, data: "2001:db8::1" }],
    }));
    return {
      stored: stored(w),
      hash: questionHash(w, 12 + label.length + 4 + 4, 1),
      end: 12 + label.length + 4 + 4,
      wire: w,
    };
  };
  const cache = new ResponseCache(2);
  const [a, b, c] = ["a", "b", "c"].map(entry);
  cache.set(1, a.hash, a.stored);
  eq(cache.get(a.wire, a.end, 1, a.hash, 9_999) === a.stored, true);
  eq(cache.get(a.wire, a.end, 2, a.hash, 0), null);
  eq(cache.get(a.wire, a.end, 1, a.hash, 10_000), null);
  cache.set(1, a.hash, a.stored);
  cache.set(1, b.hash, b.stored);
  cache.set(1, c.hash, c.stored);
  eq([cache.get(a.wire, a.end, 1, a.hash, 0), cache.get(c.wire, c.end, 1, c.hash, 0) === c.stored, cache.size], [
    null,
    true,
    2,
  ]);
  // Entries whose hashes collide are told apart by their questions.
  cache.set(1, 7, b.stored);
  cache.set(1, 7, c.stored);
  eq([cache.get(b.wire, b.end, 1, 7, 0) === b.stored, cache.get(c.wire, c.end, 1, 7, 0) === c.stored], [true, true]);
  const off = new ResponseCache(0);
  off.set(1, a.hash, a.stored);
  eq(off.size, 0);
});

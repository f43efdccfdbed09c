import { deepStrictEqual as eq } from "node:assert/strict";
import { resolveOptions } from "../../src/dns64/options.ts";
import type { DnsMessage, DnsRecord } from "../../src/dns64/message.ts";
import {
  classifyAaaaResponse,
  followChain,
  negativeTtl,
  prefixFor,
  synthesizeFromA,
} from "../../src/dns64/synthesis.ts";
import { formatIPv6, parseIPv4 } from "../../src/net/ip.ts";

const rules = (prefix: string[], extra: { excludeA?: string[]; excludeAaaa?: string[] } = {}) =>
  resolveOptions({ listen: ["127.0.0.1:53"], upstream: ["127.0.0.1"], prefix, ...extra });

const soa = (ttl: number, minimum: number): DnsRecord => ({
  name: "example",
  type: "SOA",
  ttl,
  data: { mname: "ns.example", rname: "h.example", serial: 1, refresh: 1, retry: 1, expire: 1, minimum },
});

function response(rcode: number, answers: DnsRecord[], authorities: DnsRecord[] = []): DnsMessage {
  return { id: 1, type: "response", flags: rcode, questions: [], answers, authorities, additionals: [] };
}

Deno.test("RFC 6052 §2.4: 192.0.2.33 at every prefix length", () => {
  const table: [string, string][] = [
    ["2001:db8::/32", "2001:db8:c000:221::"],
    ["2001:db8:100::/40", "2001:db8:1c0:2:21::"],
    ["2001:db8:122::/48", "2001:db8:122:c000:2:2100::"],
    ["2001:db8:122:300::/56", "2001:db8:122:3c0:0:221::"],
    ["2001:db8:122:344::/64", "2001:db8:122:344:c0:2:2100:0"],
    ["2001:db8:122:344::/96", "2001:db8:122:344::c000:221"],
  ];
  for (const [prefix, expected] of table) {
    const out = synthesizeFromA(
      response(0, [{ name: "h.example", type: "A", ttl: 100, data: "192.0.2.33" }]),
      "h.example",
      null,
      rules([prefix]),
    );
    eq(out.kind === "synthesized" ? out.answers.map((r) => r.data) : out.kind, [expected], prefix);
  }
});

Deno.test("prefix choice: IPv4 ranges in order, the WKP skipped for non-global, exclude-a first", () => {
  const r = rules(["2001:db8:1::/96=198.51.100.0/24", "64:ff9b::/96", "2001:db8:2::/96"], {
    excludeA: ["203.0.113.0/24"],
  });
  const pick = (v4: string) => {
    const p = prefixFor(r, parseIPv4(v4));
    return p ? formatIPv6(p.addr) : null;
  };
  eq(pick("198.51.100.1"), "2001:db8:1::");
  eq(pick("192.0.0.9"), "64:ff9b::");
  eq(pick("10.1.2.3"), "2001:db8:2::");
  eq(pick("203.0.113.9"), null);
});

Deno.test("CNAME and DNAME chains are followed; loops end", () => {
  const chain: DnsRecord[] = [
    { name: "a.example", type: "CNAME", ttl: 1, data: "b.example" },
    { name: "b.example", type: "CNAME", ttl: 1, data: "x.sub.example" },
    { name: "sub.example", type: "DNAME", ttl: 1, data: "other.example" },
  ];
  eq(followChain(chain, "A.Example."), "x.other.example");
  const loop: DnsRecord[] = [
    { name: "a.example", type: "CNAME", ttl: 1, data: "b.example" },
    { name: "b.example", type: "CNAME", ttl: 1, data: "a.example" },
  ];
  eq(["a.example", "b.example"].includes(followChain(loop, "a.example")), true);
});

Deno.test("negative TTL is min(SOA TTL, SOA MINIMUM), null without a SOA", () => {
  eq(negativeTtl(response(0, [], [soa(300, 60)])), 60);
  eq(negativeTtl(response(0, [], [soa(30, 60)])), 30);
  eq(negativeTtl(response(0, [])), null);
});

Deno.test("AAAA classification: pass, filtered (with the AAAA RRSIG dropped), synthesize", () => {
  const r = rules(["2001:db8:64::/96"]);
  const aaaa = (data: string): DnsRecord => ({ name: "h.example", type: "AAAA", ttl: 50, data });
  const sig = (covered: string): DnsRecord => ({
    name: "h.example",
    type: "RRSIG",
    ttl: 50,
    data: { typeCovered: covered },
  });
  eq(classifyAaaaResponse(response(0, [aaaa("2001:db8::1")]), "h.example", r).kind, "pass");
  eq(classifyAaaaResponse(response(3, []), "h.example", r).kind, "pass");
  eq(classifyAaaaResponse(response(2, []), "h.example", r).kind, "pass");
  eq(classifyAaaaResponse(response(2, []), "h.example", { ...r, synthesizeOnServfail: true }).kind, "synthesize");
  const mixed = classifyAaaaResponse(
    response(0, [aaaa("::ffff:192.0.2.1"), aaaa("2001:db8::1"), sig("AAAA"), sig("TXT")]),
    "h.example",
    r,
  );
  eq(mixed.kind === "filtered" ? [mixed.answers.map((a) => a.type), mixed.excluded] : mixed.kind, [
    ["AAAA", "RRSIG"],
    1,
  ]);
  const onlyExcluded = classifyAaaaResponse(response(0, [aaaa("2001:db8:64::c000:201")]), "h.example", r);
  eq(onlyExcluded, { kind: "synthesize", negativeTtl: null, excluded: 1 });
});

Deno.test("synthesis keeps the chain, drops A and its RRSIG, caps the TTL", () => {
  const a = response(0, [
    { name: "w.example", type: "CNAME", ttl: 900, data: "h.example" },
    { name: "h.example", type: "A", ttl: 900, data: "192.0.2.1" },
    { name: "h.example", type: "RRSIG", ttl: 900, data: { typeCovered: "A" } },
  ]);
  const out = synthesizeFromA(a, "w.example", 120, rules(["2001:db8:64::/96"]));
  eq(out.kind === "synthesized" ? out.answers.map((r) => [r.type, r.ttl, r.data]) : out.kind, [
    ["CNAME", 900, "h.example"],
    ["AAAA", 120, "2001:db8:64::c000:201"],
  ]);
  const none = synthesizeFromA(a, "w.example", 120, rules(["64:ff9b::/96"]));
  eq(none, { kind: "unsynthesizable", excluded: 1 });
  eq(synthesizeFromA(response(3, []), "w.example", null, rules(["64:ff9b::/96"])), { kind: "basis", answers: [] });
});

import { deepStrictEqual as eq } from "node:assert/strict";
import { resolveOptions } from "../../src/dns64/options.ts";
import { reverseAnswer, zoneName } from "../../src/dns64/ptr.ts";
import { embedIPv4, parseIPv4, parseIPv6, parsePrefix, RFC6052_LENGTHS } from "../../src/net/ip.ts";

const rules = (prefix: string[]) => resolveOptions({ listen: ["127.0.0.1:53"], upstream: ["127.0.0.1"], prefix });

function reverseOf(addr: Uint8Array, nibbles = 32): string {
  const hex = Array.from(addr, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, nibbles);
  return [...hex].reverse().join(".") + ".ip6.arpa";
}

Deno.test("§5.3.1: reverse names round-trip at every RFC 6052 prefix length", () => {
  const bases = [
    "2001:db8::",
    "2001:db8:100::",
    "2001:db8:122::",
    "2001:db8:122:300::",
    "2001:db8:122:344::",
    "2001:db8:122:344::",
  ];
  RFC6052_LENGTHS.forEach((length, i) => {
    const prefix = parsePrefix(`${bases[i]}/${length}`);
    const addr = embedIPv4(prefix, parseIPv4("192.0.2.33"));
    const r = rules([`${bases[i]}/${length}`]);
    eq(reverseAnswer(reverseOf(addr), r), { kind: "cname", target: "33.2.0.192.in-addr.arpa", zone: zoneName(prefix) });
    eq(reverseAnswer(reverseOf(addr).toUpperCase() + ".", r).kind, "cname");
  });
});

Deno.test("§5.3.1: partial names, names above the prefix, and impossible names", () => {
  const r = rules(["2001:db8:64::/96"]);
  const addr = parseIPv6("2001:db8:64::c000:201");
  eq(reverseAnswer(reverseOf(addr, 24), r).kind, "nodata");
  eq(reverseAnswer(reverseOf(addr, 28), r).kind, "nodata");
  eq(reverseAnswer(reverseOf(addr, 20), r).kind, "outside");
  eq(reverseAnswer("1." + reverseOf(addr), r).kind, "nxdomain");
  eq(reverseAnswer("zz." + reverseOf(addr, 31), r).kind, "nxdomain");
  eq(reverseAnswer(reverseOf(parseIPv6("2001:db8:65::1")), r).kind, "outside");
  eq(reverseAnswer("1.0.0.127.in-addr.arpa", r).kind, "outside");
});

Deno.test("§5.3.1: only addresses the forward rules would synthesize have names", () => {
  const r = rules(["64:ff9b::/96"]);
  // RFC 6052 §3.1: 192.0.2.1 is never synthesized with the WKP, so its name does not exist...
  eq(reverseAnswer(reverseOf(parseIPv6("64:ff9b::c000:201")), r).kind, "nxdomain");
  // ...unless the caller admits it (the ipv4only.arpa addresses).
  eq(reverseAnswer(reverseOf(parseIPv6("64:ff9b::c000:201")), r, () => true).kind, "cname");
  eq(reverseAnswer(reverseOf(parseIPv6("64:ff9b::c000:9")), r).kind, "cname");
});

Deno.test("§5.3.1: the u-octet and suffix must be zero", () => {
  const r = rules(["2001:db8:122::/48"]);
  eq(reverseAnswer(reverseOf(parseIPv6("2001:db8:122:c000:2:2100::")), r).kind, "cname");
  eq(reverseAnswer(reverseOf(parseIPv6("2001:db8:122:c000:102:2100::")), r).kind, "nxdomain");
  eq(reverseAnswer(reverseOf(parseIPv6("2001:db8:122:c000:2:2100::1")), r).kind, "nxdomain");
  eq(reverseAnswer(reverseOf(parseIPv6("2001:db8:122:c000:100::"), 18), r).kind, "nxdomain");
});

Deno.test("the longest matching prefix answers", () => {
  const r = rules(["2001:db8::/32=198.51.100.0/24", "2001:db8:64::/96"]);
  eq(reverseAnswer(reverseOf(parseIPv6("2001:db8:64::c000:201")), r).kind, "cname");
  eq(reverseAnswer(reverseOf(parseIPv6("2001:db8:c633:6401::")), r).kind, "cname");
});

import { deepStrictEqual as eq, throws } from "node:assert/strict";
import {
  embedIPv4,
  extractIPv4,
  formatIPv6,
  isGlobalIPv4,
  parseIPv4,
  parseIPv6,
  parsePrefix,
  prefixContains,
} from "../../src/net/ip.ts";

Deno.test("IPv6 text round-trips in RFC 5952 canonical form", () => {
  for (
    const [input, canonical] of [
      ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
      ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
      ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
      ["::", "::"],
      ["::ffff:192.0.2.1", "::ffff:c000:201"],
      ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
      ["2001:db8::1:0:0:1", "2001:db8::1:0:0:1"],
    ]
  ) eq(formatIPv6(parseIPv6(input)), canonical);
});

Deno.test("malformed addresses and prefixes are refused with the text named", () => {
  for (const bad of ["1.2.3", "1.2.3.256", "01.2.3.4", "1.2.3.4.5"]) throws(() => parseIPv4(bad), /is not an IPv4/);
  for (const bad of ["1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "g::", ":", "1:2:3:4:5:6:7"]) {
    throws(() => parseIPv6(bad), /is not an IPv6/);
  }
  throws(() => parsePrefix("2001:db8::/129"), /prefix length/);
  throws(() => parsePrefix("192.0.2.1/24"), /bits set after/);
  throws(() => parsePrefix("192.0.2.0/24", 6), /not an IPv6 prefix/);
});

Deno.test("RFC 6052 §2.4 examples embed and extract at every length", () => {
  const v4 = parseIPv4("192.0.2.33");
  for (
    const [prefix, expected] of [
      ["2001:db8::/32", "2001:db8:c000:221::"],
      ["2001:db8:100::/40", "2001:db8:1c0:2:21::"],
      ["2001:db8:122::/48", "2001:db8:122:c000:2:2100::"],
      ["2001:db8:122:300::/56", "2001:db8:122:3c0:0:221::"],
      ["2001:db8:122:344::/64", "2001:db8:122:344:c0:2:2100:0"],
      ["2001:db8:122:344::/96", "2001:db8:122:344::c000:221"],
    ]
  ) {
    const p = parsePrefix(prefix);
    const v6 = embedIPv4(p, v4);
    eq(formatIPv6(v6), expected);
    eq(extractIPv4(p, v6), v4);
  }
});

Deno.test("extraction ignores a non-zero u-octet and suffix (RFC 6052 §2.2)", () => {
  const p = parsePrefix("2001:db8:122:344::/64");
  eq(extractIPv4(p, parseIPv6("2001:db8:122:344:ffc0:2:21ff:ffff")), parseIPv4("192.0.2.33"));
});

Deno.test("prefix containment and the non-global IPv4 ranges of RFC 6052 §3.1", () => {
  const p = parsePrefix("64:ff9b:1::/48");
  eq(prefixContains(p, parseIPv6("64:ff9b:1:ffff::1")), true);
  eq(prefixContains(p, parseIPv6("64:ff9b:2::1")), false);
  eq(prefixContains(parsePrefix("10.0.0.0/7"), parseIPv4("11.255.0.1")), true);
  eq(isGlobalIPv4(parseIPv4("8.8.8.8")), true);
  for (const a of ["10.1.2.3", "192.168.1.1", "172.31.0.1", "127.0.0.1", "192.0.2.1", "100.64.0.1", "224.0.0.1"]) {
    eq(isGlobalIPv4(parseIPv4(a)), false, a);
  }
  eq(isGlobalIPv4(parseIPv4("192.0.0.9")), true);
});

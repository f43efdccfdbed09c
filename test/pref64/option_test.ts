/** The PREF64 option encoder (RFC 8781 §4) at every RFC 6052 length and every lifetime edge. */

import { deepStrictEqual as eq, throws } from "node:assert/strict";
import { parsePrefix } from "../../src/net/ip.ts";
import { encodePref64Option, prefixLengthCode, scaledLifetime } from "../../src/pref64/option.ts";

const LENGTHS: [string, number][] = [
  ["2001:db8::/32", 5],
  ["2001:db8:100::/40", 4],
  ["2001:db8:122::/48", 3],
  ["2001:db8:122:300::/56", 2],
  ["2001:db8:122:344::/64", 1],
  ["64:ff9b::/96", 0],
];

Deno.test("PLC: 0..5 for /96 /64 /56 /48 /40 /32, and nothing else", () => {
  for (const [text, plc] of LENGTHS) eq(prefixLengthCode(parsePrefix(text).length), plc, text);
  for (const bad of [0, 24, 33, 80, 128]) throws(() => prefixLengthCode(bad), new RegExp(`not /${bad}$`));
});

Deno.test("scaled lifetime: rounded up to 8 s units, non-zero never becomes 0, 65528 s is the most", () => {
  const cases: [number, number][] = [
    [0, 0],
    [1, 1],
    [7, 1],
    [8, 1],
    [9, 2],
    [600, 75],
    [1800, 225],
    [65520, 8190],
    [65521, 8191],
    [65527, 8191],
    [65528, 8191],
  ];
  for (const [s, scaled] of cases) eq(scaledLifetime(s), scaled, `${s} s`);
  for (const bad of [-1, 65529, 65536, 1.5, NaN]) throws(() => scaledLifetime(bad), /from 0 to 65528/);
});

Deno.test("the option: type 38, length 2, lifetime and PLC in one word, the prefix's first 96 bits", () => {
  for (const [text, plc] of LENGTHS) {
    const prefix = parsePrefix(text);
    for (const [lifetime, scaled] of [[0, 0], [1, 1], [1800, 225], [65528, 8191]]) {
      const option = encodePref64Option(prefix, lifetime);
      eq(option.length, 16);
      eq([option[0], option[1]], [38, 2]);
      const word = (option[2] << 8) | option[3];
      eq(word >> 3, scaled, `${text} ${lifetime} s: scaled lifetime`);
      eq(word & 7, plc, `${text}: PLC`);
      eq([...option.subarray(4)], [...prefix.addr.subarray(0, 12)], `${text}: prefix bits`);
    }
  }
});

Deno.test("the option's bytes for 64:ff9b::/96 and 2001:db8::/32 at 1800 s", () => {
  eq(
    [...encodePref64Option(parsePrefix("64:ff9b::/96"), 1800)],
    [38, 2, 0x07, 0x08, 0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0],
  );
  eq(
    [...encodePref64Option(parsePrefix("2001:db8::/32"), 1800)],
    [38, 2, 0x07, 0x0d, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0],
  );
});

Deno.test("an IPv4 prefix or a non-RFC 6052 length is refused", () => {
  throws(() => encodePref64Option(parsePrefix("192.0.2.0/24"), 600), /must be an IPv6 prefix/);
  throws(() => encodePref64Option(parsePrefix("2001:db8::/44"), 600), /not \/44/);
});

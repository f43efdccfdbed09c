/** Router Advertisement layout and Router Solicitation validation (RFC 4861 §4.1, §4.2, §6.1.1). */

import { deepStrictEqual as eq, ok, throws } from "node:assert/strict";
import { parsePrefix } from "../../src/net/ip.ts";
import { encodePref64Option } from "../../src/pref64/option.ts";
import { buildRouterAdvertisement, isValidRouterSolicitation } from "../../src/pref64/ra.ts";

const MAC = new Uint8Array([0x02, 0, 0x5e, 0x10, 0x20, 0x30]);

Deno.test("an RA: type 134, zero checksum for the kernel, router lifetime, then SLLA and PREF64", () => {
  const pref64 = encodePref64Option(parsePrefix("64:ff9b::/96"), 1800);
  const ra = buildRouterAdvertisement({ routerLifetimeS: 1800, linkAddress: MAC, options: [pref64] });
  eq(ra.length, 16 + 8 + 16);
  eq([...ra.subarray(0, 16)], [134, 0, 0, 0, 0, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0]);
  eq([...ra.subarray(16, 24)], [1, 1, ...MAC]);
  eq([...ra.subarray(24)], [...pref64]);
});

Deno.test("an RA without a MAC (a TUN) has no SLLA option; router lifetime 0 means not a default router", () => {
  const pref64 = encodePref64Option(parsePrefix("2001:db8::/32"), 600);
  const ra = buildRouterAdvertisement({ routerLifetimeS: 0, options: [pref64] });
  eq(ra.length, 32);
  eq([ra[6], ra[7]], [0, 0]);
  eq(ra[16], 38);
});

Deno.test("router lifetimes outside 0..9000 and MACs of the wrong size are refused", () => {
  throws(() => buildRouterAdvertisement({ routerLifetimeS: 9001, options: [] }), /from 0 to 9000/);
  throws(() => buildRouterAdvertisement({ routerLifetimeS: -1, options: [] }), /from 0 to 9000/);
  throws(
    () => buildRouterAdvertisement({ routerLifetimeS: 0, linkAddress: new Uint8Array(8), options: [] }),
    /6-byte MAC/,
  );
});

Deno.test("RS validation: hop limit 255, code 0, 8 bytes, options with length, no SLLA from ::", () => {
  const rs = new Uint8Array([133, 0, 0, 0, 0, 0, 0, 0]);
  const withSlla = new Uint8Array([133, 0, 0, 0, 0, 0, 0, 0, 1, 1, ...MAC]);
  ok(isValidRouterSolicitation(rs, 255, false));
  ok(isValidRouterSolicitation(rs, 255, true));
  ok(isValidRouterSolicitation(withSlla, 255, false));
  ok(!isValidRouterSolicitation(withSlla, 255, true), "SLLA from the unspecified address");
  ok(!isValidRouterSolicitation(rs, 254, false), "forwarded from another link");
  ok(!isValidRouterSolicitation(rs, -1, false), "hop limit unknown");
  ok(!isValidRouterSolicitation(new Uint8Array([133, 1, 0, 0, 0, 0, 0, 0]), 255, false), "code 1");
  ok(!isValidRouterSolicitation(rs.subarray(0, 7), 255, false), "short");
  ok(
    !isValidRouterSolicitation(new Uint8Array([133, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]), 255, false),
    "option length 0",
  );
  ok(
    !isValidRouterSolicitation(new Uint8Array([133, 0, 0, 0, 0, 0, 0, 0, 1, 2, ...MAC]), 255, false),
    "option past the end",
  );
  ok(!isValidRouterSolicitation(new Uint8Array([133, 0, 0, 0, 0, 0, 0, 0, 1]), 255, false), "truncated option header");
  ok(!isValidRouterSolicitation(new Uint8Array([134, 0, 0, 0, 0, 0, 0, 0]), 255, false), "not an RS");
});

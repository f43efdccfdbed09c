/** Reading the advertising interface's link-local address and MAC from `ip -j addr` output. */

import { deepStrictEqual as eq, throws } from "node:assert/strict";
import { formatIPv6 } from "../../src/net/ip.ts";
import { parseLinkFacts } from "../../src/pref64/link.ts";

const link = (linkType: string, address: string | undefined, addrInfo: object[]) =>
  JSON.stringify([{ ifname: "lan0", link_type: linkType, address, addr_info: addrInfo }]);

Deno.test("the first link-local address that passed DAD, and the Ethernet MAC", () => {
  const facts = parseLinkFacts(link("ether", "02:00:5e:10:20:30", [
    { family: "inet", local: "192.0.2.1", scope: "global" },
    { family: "inet6", local: "2001:db8::1", scope: "global" },
    { family: "inet6", local: "fe80::1", scope: "link", tentative: true },
    { family: "inet6", local: "fe80::2", scope: "link", dadfailed: true, tentative: true },
    { family: "inet6", local: "fe80::3", scope: "link" },
    { family: "inet6", local: "fe80::4", scope: "link" },
  ]));
  eq(formatIPv6(facts.linkLocal!), "fe80::3");
  eq([...facts.mac!], [0x02, 0, 0x5e, 0x10, 0x20, 0x30]);
});

Deno.test("a TUN has no MAC; an interface still in DAD has no usable link-local yet", () => {
  eq(parseLinkFacts(link("none", undefined, [])), {});
  eq(
    parseLinkFacts(
      link("ether", "02:00:5e:10:20:30", [{ family: "inet6", local: "fe80::1", scope: "link", tentative: true }]),
    ).linkLocal,
    undefined,
  );
});

Deno.test("output that is not ip's JSON is a sentence", () => {
  throws(() => parseLinkFacts('Device "lan9" does not exist.'), /ip -j addr printed something that is not JSON/);
});

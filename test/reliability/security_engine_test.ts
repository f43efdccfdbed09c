/**
 * Security defaults of the translator, checked on the engine itself (no lab, no root):
 * which IPv4 destinations an IPv6 client may reach through it (issue 8). By default the
 * Well-Known Prefix 64:ff9b::/96 carries no non-global IPv4 address either way (RFC 6052
 * §3.1) unless `allow-nonglobal-wkp` says so. With any prefix the translator should never
 * reach loopback, link-local, multicast, broadcast or "this network" addresses, nor its
 * own IPv4 address, and honours an operator's deny list (`deny-v4`).
 */

import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { Engine, OutputKind } from "../../src/engine/engine.ts";
import { parseFlags } from "../../src/config/flags.ts";
import { buildPacket } from "../util/packets.ts";

/** What the engine did with one packet. */
interface Verdict {
  /** Translated packets out (ICMP errors it generated not included). */
  translated: number;
  /** The drop counters that grew. */
  drops: string[];
}

function translateOne(flags: string[], src: string, dst: string): Verdict {
  const engine = Engine.create({ slotCount: 4 });
  engine.configure(parseFlags(flags).config);
  engine.load(0, buildPacket({ src, dst, proto: "udp", sport: 40000, dport: 53 }));
  const outputs = engine.translate(1, 1000);
  let translated = 0;
  for (let j = 0; j < outputs; j++) if (engine.outputKind(j) !== OutputKind.ICMP_ERROR) translated++;
  const drops = Object.entries(engine.counters()).filter(([k, v]) => k.startsWith("drop_") && v > 0n).map(([k]) => k);
  return { translated, drops };
}

const CLIENT6 = "2001:db8:1::2";
const EAMT = ["--eamt", "2001:db8:1::/120=192.0.2.0/24"];
const WKP = ["--pool6", "64:ff9b::/96", ...EAMT];
/** The lab's network-specific prefix (RFC 6052 §2.2), where RFC 6052 §3.1 does not apply. */
const NSP = ["--pool6", "2001:db8:64::/96", ...EAMT, "--ipv4", "203.0.113.1", "--ipv6", "2001:db8:ff::1"];

/** Non-global IPv4 ranges of the IANA special-purpose registry, one address each. */
const NON_GLOBAL = [
  "10.1.2.3", // RFC 1918
  "172.16.0.1", // RFC 1918
  "192.168.1.1", // RFC 1918
  "100.64.0.1", // RFC 6598 shared address space
  "127.0.0.1", // loopback
  "169.254.1.1", // link-local
  "0.0.0.1", // "this network"
  "198.18.0.1", // benchmarking
  "198.51.100.2", // documentation
];

Deno.test("security, engine: the Well-Known Prefix reaches no non-global IPv4 address (RFC 6052 §3.1)", () => {
  for (const v4 of NON_GLOBAL) {
    eq(translateOne(WKP, CLIENT6, `64:ff9b::${v4}`), { translated: 0, drops: ["drop_wkp_nonglobal"] }, v4);
  }
  // Just past 100.64.0.0/10: global, so translated.
  eq(translateOne(WKP, CLIENT6, "64:ff9b::100.128.0.1"), { translated: 1, drops: [] });
});

Deno.test("security, engine: a non-global IPv4 source is not brought in under the Well-Known Prefix", () => {
  eq(translateOne(WKP, "10.1.2.3", "192.0.2.2"), { translated: 0, drops: ["drop_wkp_nonglobal"] });
  eq(translateOne(WKP, "100.128.0.1", "192.0.2.2"), { translated: 1, drops: [] });
});

Deno.test("security, engine: allow-nonglobal-wkp lets private IPv4 addresses under the Well-Known Prefix", () => {
  eq(translateOne([...WKP, "--allow-nonglobal-wkp"], CLIENT6, "64:ff9b::10.1.2.3"), { translated: 1, drops: [] });
});

/** Destinations no prefix may reach: what an IPv6 client must not aim at through the translator. */
const NEVER = [
  "127.0.0.1", // the gateway's own loopback services (control, metrics)
  "169.254.169.254", // link-local, e.g. a cloud metadata service
  "224.0.0.1", // multicast
  "239.255.255.250", // multicast (SSDP)
  "255.255.255.255", // limited broadcast
  "0.0.0.1", // "this network"
];

Deno.test({
  name: "security, engine: no prefix reaches loopback, link-local, multicast, broadcast or this-network IPv4",
  fn: () => {
    for (const v4 of NEVER) {
      for (const [flags, prefix] of [[NSP, "2001:db8:64::"], [WKP, "64:ff9b::"]] as const) {
        const v = translateOne([...flags], CLIENT6, `${prefix}${v4}`);
        eq(v.translated, 0, `${prefix}${v4} was translated`);
        ok(v.drops.length === 1, `${prefix}${v4}: dropped without a counter (${v.drops})`);
      }
    }
  },
});

Deno.test({
  name: "security, engine: the translator's own IPv4 address is not a destination",
  fn: () => {
    const v = translateOne(NSP, CLIENT6, "2001:db8:64::203.0.113.1");
    eq(v.translated, 0, "a packet to the translator's own IPv4 address was translated");
    ok(v.drops.length === 1, `dropped without a counter (${v.drops})`);
  },
});

Deno.test({
  name: "security, engine: a deny list of IPv4 destinations (proposed key deny-v4) drops and counts",
  fn: () => {
    const flags = [...NSP, "--deny-v4", "198.51.100.0/28"];
    const denied = translateOne(flags, CLIENT6, "2001:db8:64::198.51.100.2");
    eq(denied.translated, 0, "a denied destination was translated");
    ok(denied.drops.length === 1, `dropped without a counter (${denied.drops})`);
    eq(translateOne(flags, CLIENT6, "2001:db8:64::198.51.100.20"), { translated: 1, drops: [] });
  },
});

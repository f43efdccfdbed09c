/**
 * pool4 sized for the configured pool: the host counts the (protocol, address) pairs of
 * its pool4 and the engine lays out that many port sets, from 48 up to 12288; a
 * configuration beyond what was laid out is refused with a sentence that asks for a
 * restart.
 */

import { deepStrictEqual as eq, ok, throws } from "node:assert/strict";
import { Engine, MAX_POOL4_PAIRS, MIN_POOL4_PAIRS, pool4Pairs } from "../../src/engine/engine.ts";
import { parseFlags } from "../../src/config/flags.ts";
import type { TranslatorConfig } from "../../src/config/schema.ts";
import { formatIP } from "../../src/net/ip.ts";
import { buildPacket } from "../util/packets.ts";
import { withTcpFlags } from "../nat64/tcp_flags.ts";

const SERVER = "198.51.100.9";

/** A stateful NAT64 config with `pool4` entries (`[tcp|udp|icmp,]ADDR[/LEN][:FIRST-LAST]`). */
function nat64Config(...pool4: string[]): TranslatorConfig {
  return parseFlags([
    "--mode",
    "nat64",
    "--pool6",
    "64:ff9b::/96",
    "--allow-nonglobal-wkp",
    ...pool4.flatMap((p) => ["--pool4", p]),
  ]).config;
}

/** An engine laid out for `config`'s pool4, as the gateway makes it. */
function engineFor(config: TranslatorConfig, slotCount = 16): Engine {
  const e = Engine.create({ slotCount, sessionCapacity: 8192, pool4Pairs: pool4Pairs(config.nat64.pool4) });
  e.configure(config);
  return e;
}

Deno.test("pool4Pairs counts the distinct addresses of each protocol, nested and repeated prefixes once", () => {
  const pairs = (...pool4: string[]) => pool4Pairs(nat64Config(...pool4).nat64.pool4);
  eq(pairs("192.0.2.0/24"), 768);
  eq(pairs("192.0.0.0/22"), 3072);
  eq(pairs("tcp,192.0.2.0/24", "tcp,192.0.2.128/25:2000-3000", "tcp,192.0.2.0/24:5-6", "udp,192.0.2.7"), 257);
  eq(pairs("udp,192.0.2.0/26", "udp,192.0.2.64/26", "icmp,198.51.100.0/30"), 132);
  eq(pairs("0.0.0.0/0"), 3 * 2 ** 32);
});

Deno.test("an engine laid out for a /22 pool4 spreads TCP SYNs from many hosts over its addresses", () => {
  const e = engineFor(nat64Config("198.18.0.0/22"));
  eq(e.counters().pool4_size_tcp, 1024n * 64512n);
  const firstAddress = new Map<number, string>();
  for (const round of [0, 1]) {
    for (let batch = 0; batch < 1024 / 16; batch++) {
      const hosts = Array.from({ length: 16 }, (_, i) => batch * 16 + i);
      hosts.forEach((h, i) => {
        const syn = buildPacket({
          src: `2001:db8:1::${h.toString(16)}`,
          dst: `64:ff9b::${SERVER}`,
          proto: "tcp",
          sport: 40000 + round,
          dport: 443,
        });
        e.load(i, withTcpFlags(syn, 0x02));
      });
      eq(e.translate(hosts.length, 1000 + round), hosts.length);
      hosts.forEach((h, j) => {
        const out = e.output(j);
        const src = formatIP(out.subarray(12, 16));
        ok(src.startsWith("198.18.") && out[14] < 4, `host ${h} translated from ${src}, outside 198.18.0.0/22`);
        // RFC 6146 §3.5.1.1 paired pooling: a host keeps its address for new connections.
        if (round === 0) firstAddress.set(h, src);
        else eq(src, firstAddress.get(h), `host ${h} changed address`);
      });
    }
  }
  // 1024 hosts drawn at random over 1024 addresses land on about 650 of them.
  const used = new Set(firstAddress.values()).size;
  ok(used > 550, `1024 hosts share only ${used} of 1024 addresses`);
  eq(e.counters().sessions_tcp, 2048n);
});

Deno.test("a configuration beyond the pairs laid out at start is refused with the restart sentence", () => {
  const e = engineFor(nat64Config("192.0.2.0/29"));
  throws(
    () => e.configure(nat64Config("192.0.2.0/29", "udp,198.18.0.0/24")),
    new RegExp(
      `stateful NAT64 pool4 entry 3 brings pool4 to 280 \\(protocol, address\\) pairs, beyond the ${MIN_POOL4_PAIRS} ` +
        "laid out at start: a larger pool4 needs a restart",
    ),
  );
  eq(e.counters().pool4_size_udp, 8n * 64512n, "the running pool4 stays");
  // Up to the 48 laid out, growing is fine.
  e.configure(nat64Config("192.0.2.0/29", "udp,198.18.0.0/28", "tcp,198.18.0.0/29"));
  eq(e.counters().pool4_size_udp, 24n * 64512n);
});

Deno.test("the engine lays out at most 12288 pairs (a /20 for three protocols) and names the count beyond", () => {
  const started = performance.now();
  const e = engineFor(nat64Config("198.18.0.0/20"), 1);
  const ms = performance.now() - started;
  eq(pool4Pairs(nat64Config("198.18.0.0/20").nat64.pool4), MAX_POOL4_PAIRS);
  eq(e.counters().pool4_size_icmp, 4096n * 65536n);
  console.log(`a /20 pool4 (${MAX_POOL4_PAIRS} pairs): engine created and configured in ${ms.toFixed(0)} ms`);
  throws(
    () => engineFor(nat64Config("198.18.0.0/20", "tcp,198.19.0.0/32")),
    /engine start-up failed: pool4 has 12289 \(protocol, address\) pairs, more than the 12288 the engine lays out at most/,
  );
  throws(() => engineFor(nat64Config("0.0.0.0/0")), /pool4 has 12884901888 \(protocol, address\) pairs/);
});

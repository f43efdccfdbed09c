/**
 * A packet's whole trip through the datapath, in a namespace the test makes: a UDP
 * socket sends to an address routed into the TUN, the loop reads it into engine memory,
 * the echo engine turns it around, the loop writes it back, and the socket receives it.
 * Then the TUN is deleted under the running loop, which must end cleanly and say so.
 * Skipped, with the reason printed, when not root or without /dev/net/tun.
 */

import { deepStrictEqual as eq, match, ok } from "node:assert/strict";
import { ignoreUnlessTun, Netns } from "./netns.ts";

const ignore = ignoreUnlessTun("TUN round-trip tests");

const GATEWAY_ARGS = [
  "--name",
  "t0",
  "--address",
  "2001:db8:1::1/128",
  "--address",
  "192.0.2.1/32",
  "--route",
  "2001:db8:64::/96",
  "--route",
  "198.51.100.0/24",
];

async function withGateway(fn: (ns: Netns) => Promise<void>): Promise<void> {
  const ns = await Netns.create("rt");
  try {
    await fn(ns);
  } finally {
    await ns.delete();
  }
}

function probe(ns: Netns, to: string): Promise<Record<string, unknown>> {
  return ns.runDenoJson("udp_probe.ts", ["--to", to, "--count", "3"], ["--allow-net"]);
}

Deno.test({
  name: "UDP over IPv6 and IPv4 goes kernel → TUN → loop → engine → TUN → kernel and back to its socket",
  ignore,
  fn: () =>
    withGateway(async (ns) => {
      const gw = ns.spawnDeno("echo_gateway.ts", GATEWAY_ARGS);
      try {
        eq(await gw.line(10_000), "ready t0");
        eq(await probe(ns, "2001:db8:64::c633:6402"), { sent: 3, received: 3 });
        eq(await probe(ns, "198.51.100.2"), { sent: 3, received: 3 });
        const exit = await gw.stop();
        eq(exit.reason, "stopped");
        const stats = exit.stats as Record<string, number>;
        eq(exit.replies, 6);
        eq(stats.packetsOut, 6);
        ok(stats.packetsIn >= 6, "the kernel's own packets (router solicitations, MLD) may come too");
        eq([stats.readErrors, stats.writeErrors, stats.pollErrors], [0, 0, 0]);
        eq(await gw.status(), 0);
      } finally {
        await gw.kill();
      }
    }),
});

Deno.test({
  name: "deleting the TUN under the running loop ends it with a clear message and a clean exit",
  ignore,
  fn: () =>
    withGateway(async (ns) => {
      const gw = ns.spawnDeno("echo_gateway.ts", GATEWAY_ARGS);
      try {
        eq(await gw.line(10_000), "ready t0");
        await ns.ip(["link", "delete", "t0"]);
        const exit = await gw.finalJson();
        eq(exit.reason, "device-lost");
        match(String(exit.message), /^TUN "t0" went away \(.*\); the datapath stopped$/);
        eq(await gw.status(), 0);
      } finally {
        await gw.kill();
      }
    }),
});

/**
 * The lab (scripts/lab) with the datapath in its gateway namespace: `up` twice (it is
 * idempotent), the echo gateway's TUN routes the NAT64 prefix and pool4, the IPv6-only
 * client and the IPv4-only server each get their datagrams back through the gateway's
 * forwarding and TUN, and `down` leaves nothing behind. The lab gets a prefix of its
 * own, so it never touches the demo's namespaces.
 * Skipped, with the reason printed, when not root or without /dev/net/tun.
 */

import { deepStrictEqual as eq, match } from "node:assert/strict";
import { ignoreUnlessTun, Netns } from "../tun/netns.ts";

const ignore = ignoreUnlessTun("lab end-to-end tests");
const LAB = new URL("../../scripts/lab", import.meta.url).pathname;
const PREFIX = `n64e2e${Deno.pid}`;

async function lab(verb: string): Promise<{ code: number; out: string }> {
  const out = await new Deno.Command(LAB, { args: [verb], env: { NAT64_LAB_PREFIX: PREFIX } }).output();
  const dec = new TextDecoder();
  return { code: out.code, out: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

function probe(ns: Netns, to: string): Promise<Record<string, unknown>> {
  return ns.runDenoJson("udp_probe.ts", ["--to", to, "--count", "3"], ["--allow-net"]);
}

Deno.test({
  name: "lab up (twice), client and server reach the gateway's TUN through it, lab down removes everything",
  ignore,
  fn: async () => {
    try {
      const first = await lab("up");
      eq(first.code, 0, first.out);
      match(first.out, new RegExp(`\\+ ip netns add ${PREFIX}-gw`));
      const again = await lab("up");
      eq(again.code, 0, again.out);
      eq(again.out.includes("ip netns add"), false, "a second up creates nothing");
      const status = await lab("status");
      eq(status.code, 0, status.out);
      match(status.out, /2001:db8:1::2\/64/);
      match(status.out, /198\.51\.100\.2\/24/);

      const gw = Netns.existing(`${PREFIX}-gw`).spawnDeno("echo_gateway.ts", [
        "--name",
        "nat64",
        "--route",
        "2001:db8:64::/96",
        "--route",
        "192.0.2.0/24",
      ]);
      try {
        eq(await gw.line(10_000), "ready nat64");
        eq(await probe(Netns.existing(`${PREFIX}-client`), "2001:db8:64::c633:6402"), { sent: 3, received: 3 });
        eq(await probe(Netns.existing(`${PREFIX}-server`), "192.0.2.7"), { sent: 3, received: 3 });
        const exit = await gw.stop();
        eq([exit.reason, exit.replies], ["stopped", 6]);
      } finally {
        await gw.kill();
      }
    } finally {
      const down = await lab("down");
      eq(down.code, 0, down.out);
    }
    const gone = await lab("status");
    eq(gone.code, 1);
    eq(gone.out.trim().split("\n"), ["client", "gw", "server"].map((n) => `${PREFIX}-${n}: absent`));
  },
});

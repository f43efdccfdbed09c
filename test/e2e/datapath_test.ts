/**
 * The datapath's speed-ups, end to end with real kernel peers: TUN offloads (TCP
 * super-packets translated once, in both directions, and none with `no-offloads`), and
 * a multi-queue TUN with a worker per queue (SIIT), which must carry many flows and a
 * restart like one queue does. Skipped, with the reason printed, when not root or
 * without /dev/net/tun.
 */

import { deepStrictEqual as eq, match, ok } from "node:assert/strict";
import { NAT64, SIIT } from "./addresses.ts";
import { labSkipReason, withGateway } from "./harness.ts";
import { nat64ModeSkipReason } from "./nat64_probe.ts";
import { clientPingsServer, iperf, manyFlows } from "./scenarios.ts";

const reason = labSkipReason() ?? await nat64ModeSkipReason();
if (reason) console.log(`skipping the datapath end-to-end tests: ${reason}`);
const ignore = reason !== null;

Deno.test({
  name: "offloads: TCP both ways moves as GSO super-packets translated once, checksums left to the kernel",
  ignore,
  fn: () =>
    withGateway("dp-gso", NAT64, async (lab, gw) => {
      match(gw.log, /offloads=csum,tso4,tso6/);
      const up = await iperf(lab, ["--time", "2"]);
      const down = await iperf(lab, ["--time", "2", "--reverse"]);
      ok(
        up.bytesReceived > 10_000_000 && down.bytesReceived > 10_000_000,
        `${up.bytesReceived} / ${down.bytesReceived}`,
      );
      const { counters: c } = await gw.stats();
      // Many 1440-byte segments per read: far fewer packets read than MTU-sized segments moved.
      ok(c.offload_gso_packets > 100, `offload_gso_packets ${c.offload_gso_packets}`);
      ok(c.datapath_packets_read * 1500 < up.bytesReceived + down.bytesReceived, `${c.datapath_packets_read} reads`);
      for (const drop of ["drop_bad_vnet_header", "drop_gso_mismatch", "drop_gso_too_long", "drop_gso_no_csum"]) {
        eq(c[drop], 0, drop);
      }
    }),
});

Deno.test({
  name: "no-offloads: the same traffic arrives segment by segment, with no virtio-net header",
  ignore,
  fn: () =>
    withGateway("dp-nogso", NAT64, async (lab, gw) => {
      match(gw.log, /offloads=off/);
      const up = await iperf(lab, ["--time", "2"]);
      ok(up.bytesReceived > 1_000_000, `${up.bytesReceived} bytes`);
      const { counters: c } = await gw.stats();
      eq([c.offload_gso_packets, c.offload_csum_partial], [0, 0]);
      ok(c.datapath_packets_read * 1500 >= up.bytesReceived, `${c.datapath_packets_read} reads`);
    }, () => ["--no-offloads"]),
});

Deno.test({
  name: "multi-queue SIIT: a worker per queue; pings, 256 flows and 8 parallel streams all get through",
  ignore,
  fn: () =>
    withGateway("dp-mq", SIIT, async (lab, gw) => {
      match(gw.log, /queues=2/);
      match(await lab.must("gw", ["ip", "-d", "link", "show", "nat64"]), /multi_queue numqueues 2 /);
      await clientPingsServer(lab, gw);
      await manyFlows(lab, SIIT);
      const streams = await iperf(lab, ["--time", "2", "--parallel", "8"]);
      ok(streams.bytesReceived > 10_000_000, `${streams.bytesReceived} bytes`);
      const { counters: c } = await gw.stats();
      ok(c.translated_6to4 > 0 && c.translated_4to6 > 0);
    }, () => ["--queues", "2"]),
});

/**
 * The gateway in SIIT mode (RFC 7915, client mapped by EAMT, RFC 7757) with real kernel
 * clients: each test builds its own lab, runs `nat64 run` in its gw namespace, and tears
 * everything down. Being stateless, SIIT lets the IPv4 side start exchanges too, and a
 * TCP connection outlives a gateway restart without any saved state.
 * Skipped, with the reason printed, when not root or without /dev/net/tun.
 */

import { deepStrictEqual as eq } from "node:assert/strict";
import { CLIENT4_EAMT, GW6_AS4, SIIT, TRANSLATOR4 } from "./addresses.ts";
import { labSkipReason, withGateway } from "./harness.ts";
import { mtuReport, pingCount, traceHops } from "./parse.ts";
import {
  clientFetchesPage,
  clientPingsServer,
  clientTraceroute,
  connectionSurvivesRestart,
  iperfTcpAndUdp,
  manyFlows,
  ping,
  pmtuFromClient,
  pmtuFromServer,
  SMALL_MTU,
} from "./scenarios.ts";

const reason = labSkipReason();
if (reason) console.log(`skipping the SIIT end-to-end tests: ${reason}`);
const ignore = reason !== null;

Deno.test({
  name: "SIIT: ping both ways, the client to the server and the server to the client's EAMT address",
  ignore,
  fn: () =>
    withGateway("siit-ping", SIIT, async (lab, gw) => {
      await clientPingsServer(lab, gw);
      eq(pingCount(await ping(lab, "server", CLIENT4_EAMT)), { transmitted: 3, received: 3 });
    }),
});

Deno.test({
  name: "SIIT: curl in the IPv6-only client fetches a page from the IPv4-only server",
  ignore,
  fn: () => withGateway("siit-http", SIIT, (lab) => clientFetchesPage(lab, SIIT)),
});

Deno.test({
  name: "SIIT: traceroute both ways shows every hop, the Time Exceeded errors translated",
  ignore,
  fn: () =>
    withGateway("siit-trace", SIIT, async (lab) => {
      await clientTraceroute(lab);
      // From the IPv4 side: the gw's kernel, the translator's own ICMPv4 error (RFC 7915
      // §4.1), the gw kernel's ICMPv6 Time Exceeded translated with its source mapped by
      // the EAMT (RFC 7915 §5.2), and the client.
      const out = await lab.must("server", ["traceroute", "-n", "-q", "1", "-w", "2", "-m", "6", CLIENT4_EAMT], 20_000);
      eq(traceHops(out), ["198.51.100.1", TRANSLATOR4, GW6_AS4, CLIENT4_EAMT], out);
    }),
});

Deno.test({
  name: "SIIT: path-MTU discovery through a smaller MTU both ways (Packet Too Big and Fragmentation Needed translated)",
  ignore,
  fn: () =>
    withGateway("siit-pmtu", SIIT, async (lab) => {
      await pmtuFromClient(lab);
      await pmtuFromServer(lab, SIIT);
      await lab.ip("server", ["route", "flush", "cache"]);
      const out = await ping(lab, "server", CLIENT4_EAMT, ["-M", "do", "-s", "1400"]);
      eq(mtuReport(out), { from: GW6_AS4, mtu: SMALL_MTU - 20 }, out);
    }),
});

Deno.test({
  name: "SIIT: iperf3 TCP and UDP through the gateway",
  ignore,
  fn: () => withGateway("siit-iperf", SIIT, (lab) => iperfTcpAndUdp(lab)),
});

Deno.test({
  name: "SIIT: many concurrent TCP flows, all echoed, each with its own port",
  ignore,
  fn: () => withGateway("siit-flows", SIIT, (lab) => manyFlows(lab, SIIT)),
});

Deno.test({
  name: "SIIT: a TCP connection survives a gateway restart (stateless: nothing to restore)",
  ignore,
  fn: () => withGateway("siit-restart", SIIT, (lab, _gw, restart) => connectionSurvivesRestart(lab, restart)),
});

/**
 * The gateway in stateful NAT64 mode (RFC 6146, pool4 192.0.2.1) with real kernel
 * clients, each test in a lab of its own. Unlike SIIT, only the IPv6 side opens
 * exchanges, every flow shares the pool4 address with a port of its own, the sessions
 * show on the control socket, and a connection outlives a restart only through the
 * state file.
 * Skipped, with the reason printed, when not root, without /dev/net/tun, or while
 * `nat64 run --mode nat64` cannot start (see nat64_probe.ts).
 */

import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { CLIENT6, NAT64, POOL4, SERVER4 } from "./addresses.ts";
import { labSkipReason, withGateway } from "./harness.ts";
import { nat64ModeSkipReason } from "./nat64_probe.ts";
import { pingCount } from "./parse.ts";
import {
  clientFetchesPage,
  clientPingsServer,
  clientTraceroute,
  connectionSurvivesRestart,
  FLOWS,
  iperfTcpAndUdp,
  manyFlows,
  ping,
  pmtuFromClient,
  pmtuFromServer,
} from "./scenarios.ts";

const reason = labSkipReason() ?? await nat64ModeSkipReason();
if (reason) console.log(`skipping the stateful NAT64 end-to-end tests: ${reason}`);
const ignore = reason !== null;

Deno.test({
  name: "NAT64: the client pings the server; the server cannot ping into the pool4 address unasked",
  ignore,
  fn: () =>
    withGateway("n64-ping", NAT64, async (lab, gw) => {
      await clientPingsServer(lab, gw);
      // RFC 6146 §3.5: an IPv4 packet with no BIB entry for it is not translated.
      eq(pingCount(await ping(lab, "server", POOL4)).received, 0);
    }),
});

Deno.test({
  name: "NAT64: curl in the IPv6-only client fetches a page; the server sees the pool4 address",
  ignore,
  fn: () => withGateway("n64-http", NAT64, (lab) => clientFetchesPage(lab, NAT64)),
});

Deno.test({
  name: "NAT64: traceroute from the client shows every hop, the Time Exceeded errors translated",
  ignore,
  fn: () => withGateway("n64-trace", NAT64, (lab) => clientTraceroute(lab)),
});

Deno.test({
  name: "NAT64: path-MTU discovery through a smaller MTU both ways",
  ignore,
  fn: () =>
    withGateway("n64-pmtu", NAT64, async (lab) => {
      await pmtuFromClient(lab);
      await pmtuFromServer(lab, NAT64);
    }),
});

Deno.test({
  name: "NAT64: iperf3 TCP and UDP through the gateway",
  ignore,
  fn: () => withGateway("n64-iperf", NAT64, (lab) => iperfTcpAndUdp(lab)),
});

Deno.test({
  name: "NAT64: many concurrent TCP flows share the pool4 address, one session each",
  ignore,
  fn: () =>
    withGateway("n64-flows", NAT64, async (lab, gw) => {
      await manyFlows(lab, NAT64);
      const tcp = await gw.sessions("tcp");
      eq(tcp.total, FLOWS);
      for (const s of tcp.items) {
        ok(String(s.v6).startsWith(`[${CLIENT6}]:`), `session ${JSON.stringify(s)}`);
        ok(String(s.v4).startsWith(`${POOL4}:`), `session ${JSON.stringify(s)}`);
        eq(s.remote4, `${SERVER4}:7000`);
      }
    }),
});

Deno.test({
  name: "NAT64: a TCP connection survives a gateway restart through the state file",
  ignore,
  fn: () =>
    withGateway(
      "n64-restart",
      NAT64,
      async (lab, _gw, restart) => {
        await connectionSurvivesRestart(lab, async () => {
          const gw = await restart();
          const tcp = await gw.sessions("tcp");
          eq(tcp.total, 1, "the restored session");
          return gw;
        });
      },
      (dir) => ["--state-file", `${dir}/state`, "--checkpoint-interval", "0"],
    ),
});

/**
 * The readers of tool output the lab tests rely on, against outputs captured from
 * iputils ping, traceroute, `ip route get` and iperf3 3.12 in the lab. These run
 * anywhere: no namespace, no root.
 */

import { deepStrictEqual as eq, throws } from "node:assert/strict";
import { iperfResult, mtuReport, pingCount, routeMtu, traceHops } from "./parse.ts";

Deno.test("pingCount reads the summary line, also when replies were lost", () => {
  eq(
    pingCount("--- 192.0.2.2 ping statistics ---\n3 packets transmitted, 3 received, 0% packet loss, time 401ms\n"),
    { transmitted: 3, received: 3 },
  );
  eq(pingCount("2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 1012ms"), {
    transmitted: 2,
    received: 0,
  });
  throws(() => pingCount("ping: connect: Network is unreachable"), /no ping summary/);
});

Deno.test("mtuReport reads ICMPv6 Packet Too Big and ICMPv4 Fragmentation Needed, null without either", () => {
  eq(
    mtuReport(
      "PING 2001:db8:64::c633:6402 1400 data bytes\nFrom 2001:db8:64::c633:6401 icmp_seq=1 Packet too big: mtu=1320\n",
    ),
    { from: "2001:db8:64::c633:6401", mtu: 1320 },
  );
  eq(mtuReport("From 192.0.2.1 icmp_seq=1 Frag needed and DF set (mtu = 1280)\n"), { from: "192.0.2.1", mtu: 1280 });
  eq(mtuReport("ping: local error: message too long, mtu=1280\n"), null);
});

Deno.test("traceHops lists the answering address per hop, * for silence, and refuses a gap", () => {
  const out = [
    "traceroute to 192.0.2.2 (192.0.2.2), 6 hops max, 60 byte packets",
    " 1  198.51.100.1  0.240 ms",
    " 2  *",
    " 3  192.0.2.1  0.525 ms",
    " 4  192.0.2.2  0.490 ms",
  ].join("\n");
  eq(traceHops(out), ["198.51.100.1", "*", "192.0.2.1", "192.0.2.2"]);
  throws(() => traceHops(" 1  198.51.100.1  0.2 ms\n 3  192.0.2.2  0.4 ms"), /hop 3 out of order/);
  throws(() => traceHops("traceroute: unknown host"), /no hops/);
});

Deno.test("routeMtu reads a cached path MTU, null when none is cached", () => {
  eq(
    routeMtu(
      "2001:db8:64::c633:6402 from :: via 2001:db8:1::1 dev to-gw src 2001:db8:1::2 metric 1024 expires 597sec mtu 1320 pref medium",
    ),
    1320,
  );
  eq(
    routeMtu("192.0.2.2 via 198.51.100.1 dev to-gw src 198.51.100.2 uid 0 \n    cache expires 599sec mtu 1280 "),
    1280,
  );
  eq(routeMtu("192.0.2.2 via 198.51.100.1 dev to-gw src 198.51.100.2 uid 0 \n    cache "), null);
});

Deno.test("iperfResult reads the receiver's summary; UDP adds datagrams and loss; errors are named", () => {
  const tcp = { end: { sum_received: { seconds: 1.007, bytes: 113576864, sender: true } } };
  eq(iperfResult(JSON.stringify(tcp)), { bytesReceived: 113576864, seconds: 1.007 });
  const udp = {
    end: { sum_received: { seconds: 1.0, bytes: 2498496, packets: 2002, lost_packets: 4, lost_percent: 0.2 } },
  };
  eq(iperfResult(JSON.stringify(udp)), { bytesReceived: 2498496, seconds: 1.0, packets: 2002, lostPercent: 0.2 });
  throws(() => iperfResult(JSON.stringify({ error: "unable to connect to server" })), /iperf3: unable to connect/);
  throws(() => iperfResult("iperf3: error"), /printed no JSON/);
  throws(() => iperfResult("{}"), /without an end summary/);
});

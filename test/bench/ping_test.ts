/** ping's command lines and its reply lines into round-trip times. */

import { deepStrictEqual as eq } from "node:assert/strict";
import { parsePingTimes, PING_WARMUP, pingArgs, probeArgs } from "../../scripts/bench/ping.ts";

const OUTPUT = `PING 2001:db8:64::c633:6402(2001:db8:64::c633:6402) 56 data bytes
64 bytes from 2001:db8:64::c633:6402: icmp_seq=1 ttl=62 time=1.52 ms
64 bytes from 2001:db8:64::c633:6402: icmp_seq=2 ttl=62 time=0.081 ms
64 bytes from 2001:db8:64::c633:6402: icmp_seq=4 ttl=62 time=0.095 ms
64 bytes from 2001:db8:64::c633:6402: icmp_seq=5 ttl=62 time=12.3 ms

--- 2001:db8:64::c633:6402 ping statistics ---
5 packets transmitted, 4 received, 20% packet loss, time 9ms
rtt min/avg/max/mdev = 0.081/3.499/12.300/5.097 ms
`;

Deno.test("reply times in µs, the warm-up sequence numbers and lost replies left out", () => {
  eq(parsePingTimes(OUTPUT, 0), [1520, 81, 95, 12300]);
  eq(parsePingTimes(OUTPUT, 1), [81, 95, 12300]);
  eq(parsePingTimes(OUTPUT, 5), []);
  eq(parsePingTimes("ping: connect: Network is unreachable\n", 0), []);
});

Deno.test("the timed run sends the warm-up on top of the count; the probe sends one", () => {
  eq(pingArgs("2001:db8:2::2", 200), [
    "ping",
    "-n",
    "-c",
    String(PING_WARMUP + 200),
    "-i",
    "0.002",
    "-W",
    "1",
    "2001:db8:2::2",
  ]);
  eq(probeArgs("2001:db8:2::2"), ["ping", "-n", "-c", "1", "-W", "1", "2001:db8:2::2"]);
});

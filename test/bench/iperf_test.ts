/**
 * iperf3 TCP reports (real `-J` output of iperf 3.12, captured in a lab) into the bench's
 * figures, and the sentences for reports that carry an error or lack a field.
 */

import { deepStrictEqual as eq, ok, throws } from "node:assert/strict";
import { parseTcpReport, tcpClientArgs } from "../../scripts/bench/iperf.ts";

const fixture = (name: string) => Deno.readTextFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const near = (a: number, b: number, what: string) =>
  ok(Math.abs(a - b) < 1e-6 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

Deno.test("TCP: the receiver's rate in Gbit/s and the sender's retransmits", () => {
  const t = parseTcpReport(fixture("iperf3-tcp.json"));
  near(t.gbps, 14.348014337548103, "gbps");
  eq(t.retransmits, 16691);
  near(t.seconds, 1.00045, "seconds");
});

Deno.test("iperf3's own error becomes the message", () => {
  throws(() => parseTcpReport(fixture("iperf3-error.json")), {
    message: "iperf3: unable to connect to server: Connection timed out",
  });
});

Deno.test("output that is not JSON, and a report without the needed field, are named", () => {
  throws(() => parseTcpReport("iperf3: error - unable to send control message\n"), {
    message: "iperf3 printed no JSON report: iperf3: error - unable to send control message",
  });
  throws(() => parseTcpReport("[1, 2]"), {
    message: "iperf3's report has no number at end.sum_received.bits_per_second",
  });
});

Deno.test("client command lines: streams and omitted seconds", () => {
  const opts = { target: "2001:db8:64::c633:6402", seconds: 8, omit: 1 };
  eq(tcpClientArgs(opts, 4), [
    "iperf3",
    "-c",
    "2001:db8:64::c633:6402",
    "-t",
    "8",
    "-O",
    "1",
    "-P",
    "4",
    "-J",
    "--connect-timeout",
    "3000",
  ]);
});

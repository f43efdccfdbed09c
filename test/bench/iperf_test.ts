/**
 * iperf3 reports (real `-J` output of iperf 3.12, captured in a lab) into the bench's
 * figures, and the sentences for reports that carry an error or lack a field.
 */

import { deepStrictEqual as eq, ok, throws } from "node:assert/strict";
import {
  parseTcpReport,
  parseUdpReport,
  searchLossless,
  tcpClientArgs,
  udpClientArgs,
  udpPacedArgs,
} from "../../scripts/bench/iperf.ts";

const fixture = (name: string) => Deno.readTextFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const near = (a: number, b: number, what: string) =>
  ok(Math.abs(a - b) < 1e-6 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

Deno.test("TCP: the receiver's rate in Gbit/s and the sender's retransmits", () => {
  const t = parseTcpReport(fixture("iperf3-tcp.json"));
  near(t.gbps, 14.348014337548103, "gbps");
  eq(t.retransmits, 16691);
  near(t.seconds, 1.00045, "seconds");
});

Deno.test("UDP: delivered = the receiver's packets less its losses; loss is counted against what was sent", () => {
  const u = parseUdpReport(fixture("iperf3-udp.json"), 64);
  const delivered = 283093 - 10929;
  near(u.deliveredPps, delivered / 1.000056, "deliveredPps");
  near(u.sentPps, 283100 / 1.000012, "sentPps");
  near(u.lossPercent, (100 * (283100 - delivered)) / 283100, "lossPercent");
  near(u.deliveredMbps, (delivered * 64 * 8) / 1.000056 / 1e6, "deliveredMbps");
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
  throws(() => parseUdpReport(fixture("iperf3-tcp.json"), 64), {
    message: "iperf3's report has no number at end.sum_sent.packets",
  });
  throws(() => parseTcpReport("[1, 2]"), {
    message: "iperf3's report has no number at end.sum_received.bits_per_second",
  });
});

Deno.test("client command lines: streams, omitted seconds, unlimited UDP rate and payload size", () => {
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
  eq(udpClientArgs(opts, 1400), [
    "iperf3",
    "-c",
    "2001:db8:64::c633:6402",
    "-u",
    "-b",
    "0",
    "-l",
    "1400",
    "-t",
    "8",
    "-J",
    "--connect-timeout",
    "3000",
  ]);
});

Deno.test("paced UDP: the rate in bits per second for the payload, a fine pacing timer", () => {
  const args = udpPacedArgs({ target: "2001:db8:64::c633:6402", seconds: 2, omit: 0 }, 64, 100);
  eq(args.slice(args.indexOf("-b"), args.indexOf("-b") + 2), ["-b", "51200000"]);
  eq(args.slice(-2), ["--pacing-timer", "50"]);
});

Deno.test("the lossless search bisects to the highest passing rate, and 0 when nothing passes", async () => {
  const tried: number[] = [];
  const capacity = (limit: number) => (kpps: number) => {
    tried.push(kpps);
    return Promise.resolve(kpps <= limit ? 0.05 : 3);
  };
  eq(await searchLossless(capacity(300), 400, 4, 0.1), 300);
  eq(tried, [200, 300, 350, 325]);
  eq(await searchLossless(capacity(-1), 400, 3, 0.1), 0);
});

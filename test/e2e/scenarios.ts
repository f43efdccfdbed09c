/**
 * The end-to-end checks both translation modes share, each run with real kernel clients
 * in a lab the test made: ping, an HTTP fetch, traceroute, path-MTU discovery, iperf3
 * TCP and UDP, many concurrent TCP flows, and a TCP connection held across a gateway
 * restart. Each takes the lab and the gateway `withGateway` started, and bounds every
 * command in time.
 *
 * @module
 */

import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { GW4_AS6, GW6, type LabMode, SERVER4, SERVER6, TRANSLATOR6 } from "./addresses.ts";
import { denoFixture, type Gateway, type Lab, type Side } from "./harness.ts";
import { type IperfResult, iperfResult, mtuReport, pingCount, routeMtu, traceHops } from "./parse.ts";

/** The MTU the tests put on one gw route to force path-MTU discovery. */
export const SMALL_MTU = 1300;
/** Flows opened at once by the concurrency check. */
export const FLOWS = 256;

/** `ping` from one side; returns its output (a lost reply is not an error here). */
export async function ping(lab: Lab, side: Side, to: string, extra: string[] = []): Promise<string> {
  const out = await lab.exec(side, ["ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", ...extra, to], 15_000);
  return out.stdout + out.stderr;
}

/** The client pings the server through the gateway: all three echoes come back, and the counters saw them. */
export async function clientPingsServer(lab: Lab, gw: Gateway): Promise<void> {
  eq(pingCount(await ping(lab, "client", SERVER6)), { transmitted: 3, received: 3 });
  const { counters } = await gw.stats();
  ok(counters.translated_6to4 >= 3, `translated_6to4 is ${counters.translated_6to4}`);
  ok(counters.translated_4to6 >= 3, `translated_4to6 is ${counters.translated_4to6}`);
}

/** Runs `body` with a fixture server started in the server namespace and ready. */
async function withServer<T>(lab: Lab, fixture: string, port: number, body: () => Promise<T>): Promise<
  { result: T; output: string }
> {
  const server = lab.spawn(
    "server",
    denoFixture(fixture, [`--allow-net=${SERVER4}:${port}`], ["--listen", SERVER4, "--port", String(port)]),
  );
  try {
    await server.waitFor(/^ready$/, 15_000);
    const result = await body();
    await server.stop();
    return { result, output: server.output };
  } finally {
    await server.stop();
  }
}

/**
 * curl in the client fetches the IPv4-only server's page at `address` (the server as the
 * client reaches it); the server saw the client's translated address.
 */
export async function clientFetchesPage(lab: Lab, mode: LabMode, address = SERVER6): Promise<void> {
  const { result } = await withServer(
    lab,
    "http_server.ts",
    8080,
    () => lab.must("client", ["curl", "-sS", "-g", "--max-time", "5", `http://[${address}]:8080/`], 15_000),
  );
  eq(result, `hello ${mode.clientAs4}\n`);
}

/**
 * traceroute from the client, UDP and ICMP probes: hop 1 is the gw's kernel, hop 2 the
 * translator's own ICMPv6 Time Exceeded (the hop limit reached 0 in it, RFC 7915 §5.1),
 * hop 3 the gw kernel's ICMPv4 Time Exceeded translated into ICMPv6 (RFC 7915 §4.2,
 * its source 198.51.100.1 embedded in the prefix), hop 4 the server.
 */
export async function clientTraceroute(lab: Lab): Promise<void> {
  for (const method of [[], ["-I"]]) {
    const out = await lab.must(
      "client",
      ["traceroute", "-n", "-q", "1", "-w", "2", "-m", "6", ...method, SERVER6],
      20_000,
    );
    eq(traceHops(out), [GW6, TRANSLATOR6, GW4_AS6, SERVER6], out);
  }
}

/** Runs an iperf3 client in the client against a one-off iperf3 server in the server namespace. */
export async function iperf(lab: Lab, args: string[]): Promise<IperfResult> {
  const server = lab.spawn("server", [
    "iperf3",
    "--server",
    "--one-off",
    "--forceflush",
    "--bind",
    SERVER4,
    "--port",
    "5201",
  ]);
  try {
    await server.waitFor(/Server listening/, 10_000);
    const out = await lab.exec(
      "client",
      ["iperf3", "--client", SERVER6, "--port", "5201", "--connect-timeout", "3000", "--json", ...args],
      20_000,
    );
    return iperfResult(out.stdout);
  } finally {
    await server.stop();
  }
}

/**
 * Path-MTU discovery from the client: with a 1300-byte route MTU on the gw's IPv4 side,
 * a TCP upload still completes because the gw kernel's Fragmentation Needed (1300)
 * comes back as an ICMPv6 Packet Too Big of 1320 (RFC 7915 §4.2: MTU plus the 20 bytes
 * IPv6 adds), which the client caches; `ping -M do -s 1400` gets the same report.
 */
export async function pmtuFromClient(lab: Lab): Promise<void> {
  await lab.ip("gw", ["route", "add", `${SERVER4}/32`, "dev", "to-server", "mtu", String(SMALL_MTU)]);
  const upload = await iperf(lab, ["--bytes", "1M"]);
  ok(upload.bytesReceived > 0, "the upload moved no bytes");
  eq(routeMtu(await lab.ip("client", ["-6", "route", "get", SERVER6])), SMALL_MTU + 20);

  await lab.ip("client", ["-6", "route", "flush", "cache"]);
  const out = await ping(lab, "client", SERVER6, ["-M", "do", "-s", "1400"]);
  eq(mtuReport(out), { from: GW4_AS6, mtu: SMALL_MTU + 20 }, out);
}

/**
 * Path-MTU discovery from the server: with a 1300-byte route MTU on the gw's IPv6 side,
 * a TCP download (iperf3 --reverse: the server sends) completes because the gw kernel's
 * Packet Too Big (1300) comes back as ICMPv4 Fragmentation Needed of 1280 (RFC 7915
 * §5.2: MTU minus 20), which the server caches for the client's address.
 */
export async function pmtuFromServer(lab: Lab, mode: LabMode): Promise<void> {
  await lab.ip("gw", ["-6", "route", "add", "2001:db8:1::2/128", "dev", "to-client", "mtu", String(SMALL_MTU)]);
  const download = await iperf(lab, ["--reverse", "--bytes", "1M"]);
  ok(download.bytesReceived > 0, "the download moved no bytes");
  eq(routeMtu(await lab.ip("server", ["route", "get", mode.clientAs4])), SMALL_MTU - 20);
}

/** iperf3 TCP and UDP, 2 s each: the data arrives (UDP at 20 Mbit/s with under 10% lost). */
export async function iperfTcpAndUdp(lab: Lab): Promise<void> {
  const tcp = await iperf(lab, ["--time", "2"]);
  ok(tcp.bytesReceived > 1_000_000, `TCP moved ${tcp.bytesReceived} bytes in ${tcp.seconds} s`);
  const udp = await iperf(lab, ["--udp", "--bitrate", "20M", "--time", "2"]);
  ok(udp.packets! > 0, "no UDP datagram was sent");
  ok(udp.lostPercent! < 10, `UDP lost ${udp.lostPercent}% of ${udp.packets} datagrams`);
}

/** What the echo server saw. */
export interface EchoSeen {
  connections: number;
  addresses: string[];
  distinct: number;
}

/**
 * {@link FLOWS} TCP connections open at once, each echoing its own line; the server saw
 * them all from the client's translated address, each from a port of its own.
 */
export async function manyFlows(lab: Lab, mode: LabMode): Promise<void> {
  const { result, output } = await withServer(lab, "echo_server.ts", 7000, async () => {
    const argv = denoFixture("tcp_flows.ts", [`--allow-net=[${SERVER6}]:7000`], [
      "--to",
      SERVER6,
      "--port",
      "7000",
      "--flows",
      String(FLOWS),
    ]);
    return JSON.parse(await lab.must("client", argv, 60_000));
  });
  eq(result, { connected: FLOWS, echoed: FLOWS });
  const seen: EchoSeen = JSON.parse(output.trim().split("\n").pop()!);
  eq(seen, { connections: FLOWS, addresses: [mode.clientAs4], distinct: FLOWS });
}

/**
 * One TCP connection across a gateway restart: a line echoes before, the gateway stops
 * (SIGTERM) and starts again, and the same connection echoes a line after, with the
 * server having seen a single connection.
 */
export async function connectionSurvivesRestart(lab: Lab, restart: () => Promise<Gateway>): Promise<void> {
  const { output } = await withServer(lab, "echo_server.ts", 7001, async () => {
    const held = lab.spawn(
      "client",
      denoFixture("held_connection.ts", [`--allow-net=[${SERVER6}]:7001`], ["--to", SERVER6, "--port", "7001"]),
      { stdin: true },
    );
    try {
      await held.waitFor(/^connected/, 10_000);
      await held.writeLine("before the restart");
      await held.waitFor(/"echoed":"before the restart"/, 10_000);
      const from = held.lines.length;
      await restart();
      await held.writeLine("after the restart");
      await held.waitFor(/"echoed":"after the restart"/, 15_000, from);
    } finally {
      await held.stop();
    }
  });
  const seen: EchoSeen = JSON.parse(output.trim().split("\n").pop()!);
  eq(seen.connections, 1);
}

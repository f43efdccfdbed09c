/**
 * The measurements one column goes through, in the lab it was set up in: UDP round
 * trips first (on an idle path), then iperf3 TCP with 1 and 4 streams (the translator's
 * CPU time metered during the first, `nat64 stats` probed during the second), then UDP
 * floods of 64- and 1400-byte payloads. Every run has a time limit. Figures land in
 * `metrics` as they are measured, so a column that fails half-way keeps what it got.
 *
 * @module
 */

import { CpuMeter } from "./cpu.ts";
import { type ClientOptions, parseTcpReport, parseUdpReport, tcpClientArgs, udpClientArgs } from "./iperf.ts";
import type { Lab } from "./lab.ts";
import { type Pinning, taskset } from "./pinning.ts";
import { Background, capture, type Output } from "./proc.ts";
import { probeStatsDuring } from "./control_probe.ts";
import type { ControlStatsResult, MetricKey } from "./report.ts";

/** How long and how much to measure. */
export interface SuiteOptions {
  /** Seconds per iperf3 run. */
  seconds: number;
  /** Leading TCP seconds left out of the figures. */
  omit: number;
  /** UDP round trips timed. */
  rttCount: number;
  /** Clock ticks per second, for the CPU meter. */
  hz: number;
}

/** Where the client sends and the server listens. */
export interface Endpoint {
  /** The server as the client addresses it. */
  target: string;
  /** The server's own address, which its listeners bind. */
  serverBind: string;
}

/** What the column runs besides iperf3: its translator process, if any, and its control socket. */
export interface Translator {
  pid: number | null;
  controlSocket: string | null;
}

const ECHO = new URL("./udp_echo.ts", import.meta.url).pathname;
const ECHO_PORT = "7007";
const UDP_PAYLOADS = [64, 1400] as const;
const REACH_ATTEMPTS = 5;
/** Slack on top of an iperf3 run's own length: connection set-up, the final exchange of results. */
const IPERF_SLACK_MS = 20_000;

async function startServers(lab: Lab, at: Endpoint, pin: Pinning): Promise<Background[]> {
  const iperf = new Background(
    "iperf3 server",
    lab.exec("server", [...taskset(pin.server), "iperf3", "-s", "-B", at.serverBind, "--forceflush"]),
  );
  const echo = new Background(
    "UDP echo server",
    lab.exec("server", [
      ...taskset(pin.server),
      Deno.execPath(),
      "run",
      "--allow-net",
      ECHO,
      "serve",
      "--listen",
      at.serverBind,
      "--port",
      ECHO_PORT,
    ]),
  );
  await iperf.waitUntil(() => iperf.stdout.includes("Server listening"), "listening socket");
  await echo.waitUntil(() => echo.stdout.includes("ready"), "listening socket");
  return [iperf, echo];
}

async function echoPing(lab: Lab, at: Endpoint, pin: Pinning, count: number, warmup: number) {
  const argv = lab.exec("client", [
    ...taskset(pin.client),
    Deno.execPath(),
    "run",
    "--allow-net",
    ECHO,
    "ping",
    "--to",
    at.target,
    "--port",
    ECHO_PORT,
    "--count",
    String(count),
    "--warmup",
    String(warmup),
  ]);
  const out = await capture(argv, 120_000);
  const last = out.stdout.trim().split("\n").at(-1) ?? "";
  if (out.code !== 0 || !last.startsWith("{")) {
    throw new Error(`UDP echo client: ${out.stderr.trim().split("\n").at(-1) || `exit ${out.code}`}`);
  }
  return JSON.parse(last) as { sent: number; received: number; medianUs: number | null; p99Us: number | null };
}

/**
 * Waits until a UDP echo comes back, REACH_ATTEMPTS times 3 datagrams at most: the
 * first packets of a fresh lab can wait on neighbour discovery (an address on an
 * interface whose IPv6 was just switched on answers only after a moment).
 */
async function waitForPath(lab: Lab, at: Endpoint, pin: Pinning): Promise<void> {
  for (let attempt = 0; attempt < REACH_ATTEMPTS; attempt++) {
    if ((await echoPing(lab, at, pin, 3, 0)).received > 0) return;
  }
  throw new Error(`the client gets no UDP echo from ${at.target}: nothing passes`);
}

/** Runs an iperf3 client; once more after a second if the server was still busy with the last test. */
async function iperfClient(lab: Lab, pin: Pinning, argv: string[], opts: ClientOptions): Promise<Output> {
  const limit = (opts.seconds + opts.omit) * 1000 + IPERF_SLACK_MS;
  const run = () => capture(lab.exec("client", [...taskset(pin.client), ...argv]), limit);
  let out = await run();
  if (/the server is busy/.test(out.stdout)) {
    await new Promise((r) => setTimeout(r, 1000));
    out = await run();
  }
  if (out.timedOut) throw new Error(`${argv.slice(0, 8).join(" ")}: no result within ${limit / 1000} s`);
  return out;
}

/**
 * Measures one column; `log` gets a line per figure. Returns the `nat64 stats` probe's
 * result when the translator has a control socket.
 */
export async function runSuite(
  lab: Lab,
  at: Endpoint,
  pin: Pinning,
  translator: Translator,
  opts: SuiteOptions,
  metrics: Partial<Record<MetricKey, number>>,
  log: (line: string) => void,
): Promise<ControlStatsResult | null> {
  const servers = await startServers(lab, at, pin);
  try {
    await waitForPath(lab, at, pin);

    const rtt = await echoPing(lab, at, pin, opts.rttCount, 20);
    if (rtt.medianUs === null || rtt.p99Us === null) throw new Error("no UDP round trip was answered");
    metrics.rttMedianUs = rtt.medianUs;
    metrics.rttP99Us = rtt.p99Us;
    log(`RTT median ${rtt.medianUs.toFixed(0)} µs, p99 ${rtt.p99Us.toFixed(0)} µs (${rtt.received}/${rtt.sent})`);

    const client: ClientOptions = { target: at.target, seconds: opts.seconds, omit: opts.omit };
    const meter = translator.pid === null ? null : new CpuMeter(translator.pid, opts.hz);
    meter?.start();
    const tcp1 = parseTcpReport((await iperfClient(lab, pin, tcpClientArgs(client, 1), client)).stdout);
    const cores = meter?.stop();
    metrics.tcp1Gbps = tcp1.gbps;
    if (cores !== undefined && tcp1.gbps > 0) metrics.cpuPerGbps = cores / tcp1.gbps;
    log(
      `TCP 1 stream ${tcp1.gbps.toFixed(2)} Gbit/s, ${tcp1.retransmits} retransmits` +
        (cores === undefined ? "" : `, translator ${(cores * 100).toFixed(0)} % of a CPU`),
    );

    let stats: ControlStatsResult | null = null;
    const tcp4Run = iperfClient(lab, pin, tcpClientArgs(client, 4), client);
    let tcp4Out: Output;
    if (translator.controlSocket === null) {
      tcp4Out = await tcp4Run;
    } else {
      const probed = await probeStatsDuring(translator.controlSocket, tcp4Run);
      tcp4Out = probed.load;
      stats = probed.stats;
    }
    const tcp4 = parseTcpReport(tcp4Out.stdout);
    metrics.tcp4Gbps = tcp4.gbps;
    log(`TCP 4 streams ${tcp4.gbps.toFixed(2)} Gbit/s, ${tcp4.retransmits} retransmits`);

    for (const payload of UDP_PAYLOADS) {
      const udp = parseUdpReport((await iperfClient(lab, pin, udpClientArgs(client, payload), client)).stdout, payload);
      metrics[`udp${payload}Kpps`] = udp.deliveredPps / 1000;
      metrics[`udp${payload}OfferedKpps`] = udp.sentPps / 1000;
      metrics[`udp${payload}LossPct`] = udp.lossPercent;
      log(
        `UDP ${payload} B: ${(udp.deliveredPps / 1000).toFixed(1)} kpps delivered of ${
          (udp.sentPps / 1000).toFixed(1)
        } kpps sent (${udp.lossPercent.toFixed(1)} % lost)`,
      );
    }
    return stats;
  } finally {
    for (const s of servers) await s.stop();
  }
}

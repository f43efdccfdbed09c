/**
 * The measurements one column goes through, in the lab it was set up in: ping round
 * trips first (on an idle path), then iperf3 TCP with 1 and 4 streams (the translator's
 * CPU time metered during the first, `nat64 stats` probed during the second), then UDP
 * floods of 64- and 1400-byte payloads and the 64-byte lossless rate, sent and counted
 * by `udp_load.ts` (batched system calls, so the endpoints are not the narrow point). Every run has a time limit. Figures land in
 * `metrics` as they are measured, so a column that fails half-way keeps what it got.
 *
 * @module
 */

import { CpuMeter } from "./cpu.ts";
import { type ClientOptions, parseTcpReport, tcpClientArgs } from "./iperf.ts";
import { parseUdpLoad, receiveArgs, searchLossless, sendArgs, type UdpFigures } from "./udp_load.ts";
import type { Lab } from "./lab.ts";
import { type Pinning, taskset } from "./pinning.ts";
import { Background, capture, type Output } from "./proc.ts";
import { parsePingTimes, PING_WARMUP, pingArgs, probeArgs } from "./ping.ts";
import { median, percentile } from "./stats.ts";
import { probeStatsDuring } from "./control_probe.ts";
import { type ControlStatsResult, formatValue, type MetricKey } from "./report.ts";

/** How long and how much to measure. */
export interface SuiteOptions {
  /** Seconds per iperf3 run. */
  seconds: number;
  /** Leading TCP seconds left out of the figures. */
  omit: number;
  /** ICMP echo round trips timed. */
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

const UDP_PAYLOADS = [64, 1400] as const;
/**
 * The lossless search: paced 2-second trials of 64-byte datagrams, bisecting between 0
 * and the flood's offered rate; a trial passes at 0.1 % loss or less.
 */
const LOSSLESS = { seconds: 2, steps: 7, maxLossPct: 0.1 } as const;
/** Single pings tried, a second apart at most, before the round trips are given up on. */
const REACH_ATTEMPTS = 5;
/** Slack on top of an iperf3 run's own length: connection set-up, the final exchange of results. */
const IPERF_SLACK_MS = 20_000;
/** The UDP port the load receiver listens on. */
const UDP_PORT = 5301;
/** Slack on top of a UDP load run: Deno's start-up, the receiver's idle timeout. */
const UDP_SLACK_S = 15;

/**
 * One UDP load run (see `udp_load.ts`): a receiver on the server, then the sender on the
 * client, flat out or at `kpps`; the receiver ends on the sender's end marker.
 */
async function udpRun(
  lab: Lab,
  at: Endpoint,
  pin: Pinning,
  payload: number,
  seconds: number,
  kpps?: number,
): Promise<UdpFigures> {
  const deno = Deno.execPath();
  const limit = seconds + UDP_SLACK_S;
  const receiver = new Background(
    "UDP receiver",
    lab.exec("server", [...taskset(pin.server), deno, ...receiveArgs(at.serverBind, UDP_PORT, limit)]),
  );
  try {
    await receiver.waitUntil(() => receiver.stdout.includes("listening"), "listening socket");
    const sender = await capture(
      lab.exec("client", [...taskset(pin.client), deno, ...sendArgs(at.target, UDP_PORT, payload, seconds, kpps)]),
      limit * 1000,
    );
    if (sender.code !== 0) throw new Error(`the UDP sender failed: ${sender.stderr.trim().split("\n").at(-1)}`);
    await receiver.waitUntil(() => receiver.exitCode !== null, "result", limit * 1000);
    return parseUdpLoad(sender.stdout, receiver.stdout, payload);
  } finally {
    await receiver.stop();
  }
}

async function startIperfServer(lab: Lab, at: Endpoint, pin: Pinning): Promise<Background> {
  const iperf = new Background(
    "iperf3 server",
    lab.exec("server", [...taskset(pin.server), "iperf3", "-s", "-B", at.serverBind, "--forceflush"]),
  );
  await iperf.waitUntil(() => iperf.stdout.includes("Server listening"), "listening socket");
  return iperf;
}

/**
 * True once a single ping is answered, REACH_ATTEMPTS tries at most: the first packets of
 * a fresh lab can wait on neighbour discovery (an address on an interface whose IPv6 was
 * just switched on answers only after a moment).
 */
async function pathAnswers(lab: Lab, at: Endpoint, pin: Pinning): Promise<boolean> {
  for (let attempt = 0; attempt < REACH_ATTEMPTS; attempt++) {
    if ((await capture(lab.exec("client", [...taskset(pin.client), ...probeArgs(at.target)]), 5000)).code === 0) {
      return true;
    }
  }
  return false;
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
 * Measures one column; `log` gets a line per figure, `notes` what the reader of the
 * results must know (a figure that could not be taken). Returns the `nat64 stats`
 * probe's result when the translator has a control socket.
 */
export async function runSuite(
  lab: Lab,
  at: Endpoint,
  pin: Pinning,
  translator: Translator,
  opts: SuiteOptions,
  metrics: Partial<Record<MetricKey, number>>,
  notes: string[],
  log: (line: string) => void,
): Promise<ControlStatsResult | null> {
  const server = await startIperfServer(lab, at, pin);
  try {
    if (await pathAnswers(lab, at, pin)) {
      const out = await capture(
        lab.exec("client", [...taskset(pin.client), ...pingArgs(at.target, opts.rttCount)]),
        60_000,
      );
      const rtts = parsePingTimes(out.stdout, PING_WARMUP);
      if (rtts.length > 0) {
        metrics.rttMedianUs = median(rtts);
        metrics.rttP99Us = percentile(rtts, 99);
      }
      log(
        `ping RTT median ${formatValue(metrics.rttMedianUs, 0)} µs, p99 ${formatValue(metrics.rttP99Us, 0)} µs ` +
          `(${rtts.length}/${opts.rttCount} answered)`,
      );
    } else {
      notes.push("no ICMP echo reply, so no RTT");
      log(notes.at(-1)!);
    }

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
    if (translator.controlSocket !== null) {
      // The same load with nobody asking: what the queries cost the datapath, if anything.
      const quiet = parseTcpReport((await iperfClient(lab, pin, tcpClientArgs(client, 4), client)).stdout);
      metrics.tcp4QuietGbps = quiet.gbps;
      log(`TCP 4 streams without stats queries ${quiet.gbps.toFixed(2)} Gbit/s`);
    }

    for (const payload of UDP_PAYLOADS) {
      const udp = await udpRun(lab, at, pin, payload, opts.seconds);
      metrics[`udp${payload}Kpps`] = udp.deliveredPps / 1000;
      metrics[`udp${payload}OfferedKpps`] = udp.sentPps / 1000;
      metrics[`udp${payload}LossPct`] = udp.lossPercent;
      log(
        `UDP ${payload} B: ${(udp.deliveredPps / 1000).toFixed(1)} kpps delivered of ${
          (udp.sentPps / 1000).toFixed(1)
        } kpps sent (${udp.lossPercent.toFixed(1)} % lost)`,
      );
    }

    // A flood measures what survives overload, which depends as much on how the kernel's
    // receive work and the senders share the CPUs; the rate carried without loss is the
    // translator's own capacity (RFC 2544's throughput).
    const ceiling = (metrics.udp64OfferedKpps ?? 0) || 1000;
    const trial = async (kpps: number) => (await udpRun(lab, at, pin, 64, LOSSLESS.seconds, kpps)).lossPercent;
    metrics.udp64LosslessKpps = await searchLossless(trial, ceiling, LOSSLESS.steps, LOSSLESS.maxLossPct);
    log(`UDP 64 B: ${metrics.udp64LosslessKpps.toFixed(1)} kpps carried at ≤${LOSSLESS.maxLossPct} % loss`);
    return stats;
  } finally {
    await server.stop();
  }
}

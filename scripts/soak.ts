/**
 * The soak: mixed traffic through the gateway in a lab of its own for a long stretch
 * (10 minutes by default): iperf3 TCP and UDP at moderate bitrates, ping every 200 ms,
 * DNS queries through the gateway's own DNS64 listener (nsd upstream on the IPv4-only
 * server), and a steady trickle of new UDP flows. Every interval it samples the
 * gateway's RSS, its session count and counters, and what each kind of traffic did, and
 * prints a table row; at the end a summary, and everything as JSON under results/.
 * Stateful NAT64 when `nat64 run --mode nat64` works here, else SIIT (or as asked).
 * Needs root; always tears down what it built, also on Ctrl-C.
 *
 *   scripts/soak [--minutes N] [--interval S] [--mode auto|nat64|siit]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { GW6, type LabMode, NAT64, SERVER4, SIIT } from "../test/e2e/addresses.ts";
import { Gateway, Lab, labSkipReason, type Service } from "../test/e2e/harness.ts";
import { nat64ModeSkipReason } from "../test/e2e/nat64_probe.ts";
import { startNsd } from "../test/e2e/nsd.ts";
import { type Counters, gatewayPid, readCounters, sessionTotal, sumOf } from "../test/reliability/counters.ts";
import { addClientAddresses, floodSkipReason } from "../test/reliability/flood.ts";
import { missingBinary } from "../test/dns64/daemons.ts";
import { rssKiB } from "../test/reliability/rss.ts";
import { CHURN_SOURCES, DnsTraffic, FlowChurn, PingTraffic, TcpTraffic, UdpTraffic } from "./soak_traffic.ts";
import { describeSummary, HEADER, row, type Sample, summarize } from "./soak_report.ts";

const USAGE = "usage: scripts/soak [--minutes N] [--interval SECONDS] [--mode auto|nat64|siit]";
const RESULTS = new URL("../results/", import.meta.url).pathname;
/** Moderate rates: steady on a shared 2-core machine, far from what the path carries. */
const TCP_BITRATE = "50M";
const UDP_BITRATE = "10M";
const DNS_QPS = 20;
const NEW_FLOWS_PER_SECOND = 20;
/** The shortest UDP session lifetime RFC 6146 §4 allows: the churned sessions level off after two minutes. */
const UDP_TIMEOUT_S = 120;
/** Counters that mean the datapath itself went wrong (the rest of drop_* are packets refused on purpose). */
const DATAPATH_ERRORS = /^(drop_tun_read_error|drop_tun_write_error|datapath_poll_errors|drop_no_room)$/;

interface Settings {
  minutes: number;
  intervalS: number;
  mode: "auto" | "nat64" | "siit";
}

function settings(args: string[]): Settings {
  const { values, positionals } = parseArgs({
    args,
    options: {
      minutes: { type: "string" },
      interval: { type: "string" },
      mode: { type: "string" },
      help: { type: "boolean" },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  if (positionals.length) throw new Error(`unexpected argument "${positionals[0]}"\n${USAGE}`);
  const minutes = Number(values.minutes ?? "10");
  if (!(minutes > 0 && minutes <= 24 * 60)) throw new Error(`--minutes "${values.minutes}" is not from 0 to 1440`);
  const intervalS = Number(values.interval ?? "10");
  if (!(intervalS >= 2 && intervalS <= 600)) {
    throw new Error(`--interval "${values.interval}" is not from 2 to 600 seconds`);
  }
  const mode = values.mode ?? "auto";
  if (mode !== "auto" && mode !== "nat64" && mode !== "siit") {
    throw new Error(`--mode "${mode}" is not auto, nat64 or siit`);
  }
  if (minutes * 60 < 2 * intervalS) {
    throw new Error(`--minutes ${minutes} leaves fewer than two ${intervalS}-second samples`);
  }
  return { minutes, intervalS, mode };
}

/** The mode to run: NAT64 when asked or when auto and it works, else SIIT (saying why). */
async function chooseMode(asked: Settings["mode"]): Promise<LabMode> {
  if (asked === "siit") return SIIT;
  const why = await nat64ModeSkipReason();
  if (why === null) return NAT64;
  if (asked === "nat64") throw new Error(`--mode nat64: ${why}`);
  console.log(`soak: SIIT mode, because ${why}`);
  return SIIT;
}

/** Warning and error lines the gateway logged after line `from`. */
function troubleLines(gw: Gateway, from: number): string[] {
  return gw.log.split("\n").slice(from).filter((l) => /^\S+ (warn|error)\b/.test(l));
}

async function soak(s: Settings, stop: AbortSignal): Promise<number> {
  const mode = await chooseMode(s.mode);
  const seconds = Math.round(s.minutes * 60);
  const dir = await Deno.makeTempDir({ prefix: "nat64-soak-" });
  const stops: (() => Promise<unknown>)[] = [() => Deno.remove(dir, { recursive: true })];
  let lab: Lab | undefined;
  try {
    lab = await Lab.up("soak");
    stops.push(() => lab!.down());
    const flags = [
      ...mode.flags,
      "--dns64-listen",
      `[${GW6}]:53`,
      "--dns64-upstream",
      SERVER4,
      ...(mode === NAT64 ? ["--udp-timeout", String(UDP_TIMEOUT_S)] : []),
    ];
    const gw = await Gateway.start(lab, flags, dir);
    let gatewayCode: number | undefined;
    stops.push(async () => (gatewayCode = await gw.stop()));
    const nsd: Service = await startNsd(lab, dir);
    stops.push(() => nsd.stop());
    await addClientAddresses(lab, CHURN_SOURCES);
    const pid = await gatewayPid(gw.socket);
    console.log(`soak: ${mode.name} mode, ${s.minutes} min, a sample every ${s.intervalS} s; gateway pid ${pid}`);
    console.log(
      `soak: TCP ${TCP_BITRATE}bit/s, UDP ${UDP_BITRATE}bit/s, ping 5/s, DNS ${DNS_QPS}/s, ` +
        `${NEW_FLOWS_PER_SECOND} new UDP flows/s`,
    );

    const tcp = await TcpTraffic.start(lab, seconds, TCP_BITRATE);
    stops.push(() => tcp.stop());
    const udp = await UdpTraffic.start(lab, seconds, UDP_BITRATE);
    stops.push(() => udp.stop());
    const ping = PingTraffic.start(lab, seconds);
    stops.push(() => ping.stop());
    const dns = await DnsTraffic.start(lab, { seconds, rate: DNS_QPS, reportS: s.intervalS, zone: "lab.example" });
    stops.push(() => dns.stop());
    const churn = new FlowChurn(lab, NEW_FLOWS_PER_SECOND);

    // The DNS client reports every interval from its start: sampling half a second later reads each report in time.
    await new Promise((r) => setTimeout(r, 500));
    const started = performance.now();
    const samples: Sample[] = [];
    let counters: Counters = await readCounters(gw.socket);
    let logSeen = gw.log.split("\n").length;
    console.log(HEADER);
    for (let n = 1; n * s.intervalS <= seconds && !stop.aborted; n++) {
      churn.burst(s.intervalS - 1);
      const due = started + n * s.intervalS * 1000;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
      if (stop.aborted) break;
      const newFlows = await churn.take();
      const now = await readCounters(gw.socket);
      const trouble = troubleLines(gw, logSeen);
      logSeen = gw.log.split("\n").length;
      for (const line of trouble) console.log(`  gateway: ${line}`);
      const sample: Sample = {
        t: (performance.now() - started) / 1000,
        rssMiB: rssKiB(pid) / 1024,
        sessions: mode === NAT64 ? sessionTotal(now) : null,
        tcpMbps: tcp.take(),
        udp: udp.take(),
        ping: ping.take(),
        dns: dns.take(),
        newFlows,
        drops: sumOf(now, /^drop_/) - sumOf(counters, /^drop_/),
        errors: sumOf(now, DATAPATH_ERRORS) - sumOf(counters, DATAPATH_ERRORS) + trouble.length,
      };
      counters = now;
      samples.push(sample);
      console.log(row(sample));
    }
    if (!stop.aborted) await tcp.finish();
    for (const complaint of dns.complaints) console.log(`  dns client: ${complaint}`);
    while (stops.length > 1) await stops.pop()!();
    if (gatewayCode !== 0) console.log(`soak: the gateway exited ${gatewayCode} on SIGTERM:\n${gw.log}`);
    if (!samples.length) throw new Error("stopped before the first sample");

    const summary = summarize(samples);
    console.log(describeSummary(summary, s.minutes));
    const date = new Date().toISOString();
    const file = `${RESULTS}soak-${date.slice(0, 19).replace(/:/g, "")}.json`;
    await Deno.mkdir(RESULTS, { recursive: true });
    await Deno.writeTextFile(
      file,
      JSON.stringify(
        {
          date,
          mode: mode.name,
          minutes: s.minutes,
          intervalS: s.intervalS,
          traffic: {
            tcpBitrate: TCP_BITRATE,
            udpBitrate: UDP_BITRATE,
            pingPerSecond: 5,
            dnsPerSecond: DNS_QPS,
            newFlowsPerSecond: NEW_FLOWS_PER_SECOND,
          },
          gatewayFlags: flags,
          gatewayExit: gatewayCode,
          summary,
          samples,
        },
        null,
        2,
      ) + "\n",
    );
    console.log(`soak: wrote ${file}`);
    return summary.errors === 0 && gatewayCode === 0 ? 0 : 1;
  } finally {
    while (stops.length) await stops.pop()!().catch((e) => console.error(`soak: cleanup: ${(e as Error).message}`));
  }
}

if (import.meta.main) {
  let s: Settings;
  try {
    s = settings(Deno.args);
  } catch (err) {
    console.error(`soak: ${(err as Error).message}`);
    Deno.exit(2);
  }
  const why = labSkipReason() ?? floodSkipReason();
  if (why) {
    console.error(`soak: cannot build the lab: ${why}`);
    Deno.exit(2);
  }
  const missing = missingBinary("iperf3", "nsd", "ping");
  if (missing) {
    console.error(`soak: ${missing} is not installed (scripts/setup --test installs it)`);
    Deno.exit(2);
  }
  const stop = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, () => {
      console.log(`soak: ${sig}, stopping and cleaning up`);
      stop.abort();
    });
  }
  try {
    Deno.exit(await soak(s, stop.signal));
  } catch (err) {
    console.error(`soak: ${(err as Error).message}`);
    Deno.exit(1);
  }
}

/**
 * The soak's figures: one sample row per interval (RSS, sessions, each kind of traffic,
 * errors), the table they print as, and the summary over the whole run that says
 * whether memory and sessions stayed flat, throughput steady, and errors absent.
 *
 * @module
 */

import type { DnsWindow } from "./soak_dns.ts";
import type { PingWindow, UdpWindow } from "./soak_traffic.ts";

/** What one sampling interval saw. */
export interface Sample {
  /** Seconds since the traffic started. */
  t: number;
  rssMiB: number;
  /** Live NAT64 sessions (null in SIIT mode). */
  sessions: number | null;
  tcpMbps: number | null;
  udp: UdpWindow | null;
  ping: PingWindow;
  dns: DnsWindow | null;
  /** New-flow packets sent by the churn bursts. */
  newFlows: number;
  /** Packets the engine dropped, any reason (refusals and junk included: information, not errors). */
  drops: number;
  /** Datapath errors, batch overflows and warning/error log lines of the gateway. */
  errors: number;
}

/** The run as a whole. */
export interface Summary {
  samples: number;
  rssMiB: { first: number; last: number; min: number; max: number; secondHalfSlopeMiBPerMin: number };
  sessions: { min: number; max: number; secondHalfMin: number; secondHalfMax: number } | null;
  tcpMbps: { mean: number; min: number; max: number };
  udp: { mbps: number; lostPercent: number };
  ping: { replies: number; lost: number; meanRttMs: number };
  dns: { sent: number; answered: number; failed: number; timeouts: number; worstP99Ms: number };
  errors: number;
}

const pad = (s: string, n: number) => s.padStart(n);
const f1 = (n: number | null | undefined) => n === null || n === undefined ? "-" : n.toFixed(1);

/** The table header. */
export const HEADER = [
  pad("t s", 6),
  pad("RSS MiB", 8),
  pad("sessions", 9),
  pad("TCP Mb/s", 9),
  pad("UDP Mb/s", 9),
  pad("UDP lost", 9),
  pad("ping ok/lost", 13),
  pad("rtt ms", 7),
  pad("DNS ok/fail/to", 15),
  pad("p99 ms", 7),
  pad("new flows", 10),
  pad("drops", 7),
  pad("errors", 7),
].join(" ");

/** One table row. */
export function row(s: Sample): string {
  const dnsOk = s.dns ? s.dns.noerror + s.dns.nxdomain : 0;
  return [
    pad(String(Math.round(s.t)), 6),
    pad(f1(s.rssMiB), 8),
    pad(s.sessions === null ? "-" : String(s.sessions), 9),
    pad(f1(s.tcpMbps), 9),
    pad(f1(s.udp?.mbps), 9),
    pad(s.udp ? `${s.udp.lost}/${s.udp.datagrams}` : "-", 9),
    pad(`${s.ping.replies}/${s.ping.lost}`, 13),
    pad(s.ping.replies ? s.ping.rttMs.toFixed(2) : "-", 7),
    pad(s.dns ? `${dnsOk}/${s.dns.failed}/${s.dns.timeouts}` : "-", 15),
    pad(s.dns ? f1(s.dns.p99Ms) : "-", 7),
    pad(String(s.newFlows), 10),
    pad(String(s.drops), 7),
    pad(String(s.errors), 7),
  ].join(" ");
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n, my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** The summary of a run's samples (at least one). */
export function summarize(samples: readonly Sample[]): Summary {
  const rss = samples.map((s) => s.rssMiB);
  const second = samples.slice(Math.floor(samples.length / 2));
  const tcp = samples.map((s) => s.tcpMbps).filter((v): v is number => v !== null);
  const sessions = samples.map((s) => s.sessions).filter((v): v is number => v !== null);
  const late = second.map((s) => s.sessions).filter((v): v is number => v !== null);
  const udpSent = samples.reduce((a, s) => a + (s.udp?.datagrams ?? 0), 0);
  const udpLost = samples.reduce((a, s) => a + (s.udp?.lost ?? 0), 0);
  const replies = samples.reduce((a, s) => a + s.ping.replies, 0);
  const dns = samples.map((s) => s.dns).filter((d): d is DnsWindow => d !== null);
  const dnsSum = (k: keyof DnsWindow) => dns.reduce((a, d) => a + d[k], 0);
  return {
    samples: samples.length,
    rssMiB: {
      first: rss[0],
      last: rss[rss.length - 1],
      min: Math.min(...rss),
      max: Math.max(...rss),
      secondHalfSlopeMiBPerMin: slope(second.map((s) => s.t / 60), second.map((s) => s.rssMiB)),
    },
    sessions: sessions.length
      ? {
        min: Math.min(...sessions),
        max: Math.max(...sessions),
        secondHalfMin: Math.min(...late),
        secondHalfMax: Math.max(...late),
      }
      : null,
    tcpMbps: {
      mean: tcp.length ? tcp.reduce((a, b) => a + b, 0) / tcp.length : 0,
      min: tcp.length ? Math.min(...tcp) : 0,
      max: tcp.length ? Math.max(...tcp) : 0,
    },
    udp: {
      mbps: samples.reduce((a, s) => a + (s.udp?.mbps ?? 0), 0) / Math.max(1, samples.filter((s) => s.udp).length),
      lostPercent: udpSent ? (100 * udpLost) / udpSent : 0,
    },
    ping: {
      replies,
      lost: samples.reduce((a, s) => a + s.ping.lost, 0),
      meanRttMs: replies ? samples.reduce((a, s) => a + s.ping.rttMs * s.ping.replies, 0) / replies : 0,
    },
    dns: {
      sent: dnsSum("sent"),
      answered: dnsSum("noerror") + dnsSum("nxdomain"),
      failed: dnsSum("failed"),
      timeouts: dnsSum("timeouts"),
      worstP99Ms: dns.length ? Math.max(...dns.map((d) => d.p99Ms)) : 0,
    },
    errors: samples.reduce((a, s) => a + s.errors, 0),
  };
}

/** The summary as a few lines of text. */
export function describeSummary(s: Summary, minutes: number): string {
  const lines = [
    `RSS ${f1(s.rssMiB.first)} MiB at the first sample, ${f1(s.rssMiB.last)} at the last ` +
    `(min ${f1(s.rssMiB.min)}, max ${f1(s.rssMiB.max)}; second half ${
      s.rssMiB.secondHalfSlopeMiBPerMin.toFixed(3)
    } MiB/min)`,
    s.sessions
      ? `sessions ${s.sessions.min}-${s.sessions.max} over the run, ${s.sessions.secondHalfMin}-${s.sessions.secondHalfMax} in the second half`
      : "sessions: none (SIIT keeps no state)",
    `TCP ${f1(s.tcpMbps.mean)} Mbit/s mean (min ${f1(s.tcpMbps.min)}, max ${f1(s.tcpMbps.max)} per sample); ` +
    `UDP ${f1(s.udp.mbps)} Mbit/s, ${s.udp.lostPercent.toFixed(3)}% lost`,
    `ping ${s.ping.replies} replies, ${s.ping.lost} lost, mean RTT ${s.ping.meanRttMs.toFixed(3)} ms; ` +
    `DNS ${s.dns.answered} of ${s.dns.sent} answered, ${s.dns.failed} failed, ${s.dns.timeouts} timed out, worst p99 ${
      f1(s.dns.worstP99Ms)
    } ms`,
    `errors: ${s.errors} over ${minutes} min (${s.samples} samples)`,
  ];
  return lines.join("\n");
}

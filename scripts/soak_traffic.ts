/**
 * The soak's traffic, each kind a long-running generator inside the lab that the soak
 * reads once per sample: `take()` returns what happened since the previous call. TCP
 * and UDP are iperf3 at moderate bitrates, ICMP is ping every 200 ms, DNS is
 * soak_dns.ts asking the gateway's DNS64 listener, and new flows are short raw-socket
 * bursts of UDP from extra client addresses (new NAT64 sessions, each burst on new ports).
 *
 * @module
 */

import { GW6, SERVER4, SERVER6 } from "../test/e2e/addresses.ts";
import type { Lab, Service } from "../test/e2e/harness.ts";
import { clientAddresses, flood } from "../test/reliability/flood.ts";
import { TcpStream } from "../test/reliability/stream.ts";
import type { DnsWindow } from "./soak_dns.ts";

/** The lines a service printed since the previous call. */
class Cursor {
  readonly #service: Service;
  #seen = 0;

  constructor(service: Service) {
    this.#service = service;
  }

  next(): readonly string[] {
    const lines = this.#service.lines.slice(this.#seen);
    this.#seen += lines.length;
    return lines;
  }
}

/** Mean bitrate of the TCP stream's intervals since the last take, Mbit/s (null: none reported). */
export class TcpTraffic {
  readonly #stream: TcpStream;
  #seen = 0;

  private constructor(stream: TcpStream) {
    this.#stream = stream;
  }

  /** iperf3 TCP at `bitrate` for `seconds`, one interval a second. */
  static async start(lab: Lab, seconds: number, bitrate: string): Promise<TcpTraffic> {
    return new TcpTraffic(await TcpStream.start(lab, { seconds, bitrate, port: 5201, interval: 1 }));
  }

  take(): number | null {
    const fresh = this.#stream.intervals.slice(this.#seen);
    this.#seen += fresh.length;
    return fresh.length ? fresh.reduce((s, i) => s + i.mbps, 0) / fresh.length : null;
  }

  /** Waits for the end of the run; throws if iperf3 failed. */
  async finish(): Promise<void> {
    await this.#stream.finish();
  }

  stop(): Promise<void> {
    return this.#stream.stop();
  }
}

/** UDP bitrate and loss as the receiving iperf3 server saw them. */
export interface UdpWindow {
  mbps: number;
  lost: number;
  datagrams: number;
}

const RATE_UNITS: Record<string, number> = { "": 1e-6, K: 1e-3, M: 1, G: 1e3 };
/** A server interval: "[  5]  10.00-11.00  sec  1.19 MBytes  10.0 Mbits/sec  0.012 ms  0/863 (0%)". */
const UDP_INTERVAL = /sec\s+[\d.]+\s+[KMG]?Bytes\s+([\d.]+)\s+([KMG]?)bits\/sec\s+[\d.]+ ms\s+(\d+)\/(\d+)\s+\(/;

/** iperf3 UDP through the gateway, read from the server's side (where loss is known). */
export class UdpTraffic {
  readonly #server: Service;
  readonly #client: Service;
  readonly #cursor: Cursor;

  private constructor(server: Service, client: Service) {
    this.#server = server;
    this.#client = client;
    this.#cursor = new Cursor(server);
  }

  /** iperf3 UDP at `bitrate` for `seconds` to SERVER4:5202. */
  static async start(lab: Lab, seconds: number, bitrate: string): Promise<UdpTraffic> {
    const server = lab.spawn("server", [
      "iperf3",
      "--server",
      "--one-off",
      "--forceflush",
      "--interval",
      "1",
      "--bind",
      SERVER4,
      "--port",
      "5202",
    ]);
    await server.waitFor(/Server listening/, 10_000);
    const client = lab.spawn("client", [
      "iperf3",
      "--client",
      SERVER6,
      "--port",
      "5202",
      "--udp",
      "--bitrate",
      bitrate,
      "--time",
      String(seconds),
      "--connect-timeout",
      "3000",
    ]);
    return new UdpTraffic(server, client);
  }

  take(): UdpWindow | null {
    const rows = this.#cursor.next().map((l) => UDP_INTERVAL.exec(l)).filter((m) => m !== null);
    if (!rows.length) return null;
    const mbps = rows.reduce((s, m) => s + Number(m![1]) * RATE_UNITS[m![2]], 0) / rows.length;
    return {
      mbps,
      lost: rows.reduce((s, m) => s + Number(m![3]), 0),
      datagrams: rows.reduce((s, m) => s + Number(m![4]), 0),
    };
  }

  async stop(): Promise<void> {
    await this.#client.stop();
    await this.#server.stop();
  }
}

/** Echo replies and echoes that went unanswered, with the replies' mean RTT. */
export interface PingWindow {
  replies: number;
  lost: number;
  rttMs: number;
}

/** Echoes this many sequence numbers (2 s at 5/s) behind the newest are settled: no reply now means lost. */
const SETTLE = 10;

/** ping every 200 ms from the client to the server through the gateway. */
export class PingTraffic {
  readonly #ping: Service;
  readonly #cursor: Cursor;
  readonly #answered = new Set<number>();
  #newest = 0;
  #settled = 0;

  private constructor(ping: Service) {
    this.#ping = ping;
    this.#cursor = new Cursor(ping);
  }

  /** -O prints each echo still unanswered when the next goes out, so every sequence number shows up. */
  static start(lab: Lab, seconds: number): PingTraffic {
    return new PingTraffic(lab.spawn("client", ["ping", "-n", "-O", "-i", "0.2", "-w", String(seconds), SERVER6]));
  }

  take(): PingWindow {
    const rtts: number[] = [];
    for (const line of this.#cursor.next()) {
      const seq = /icmp_seq=(\d+)/.exec(line);
      if (!seq) continue;
      this.#newest = Math.max(this.#newest, Number(seq[1]));
      const rtt = /time=([\d.]+) ms/.exec(line);
      if (rtt) {
        this.#answered.add(Number(seq[1]));
        rtts.push(Number(rtt[1]));
      }
    }
    // A late reply is still a reply: only echoes old enough to be settled count as lost.
    let lost = 0;
    for (; this.#settled < this.#newest - SETTLE; this.#settled++) {
      if (!this.#answered.delete(this.#settled + 1)) lost++;
    }
    return { replies: rtts.length, lost, rttMs: rtts.length ? rtts.reduce((a, r) => a + r, 0) / rtts.length : 0 };
  }

  async stop(): Promise<void> {
    await this.#ping.stop();
  }
}

/** soak_dns.ts in the client, asking the DNS64 listener on GW6. */
export class DnsTraffic {
  readonly #client: Service;
  readonly #cursor: Cursor;

  private constructor(client: Service) {
    this.#client = client;
    this.#cursor = new Cursor(client);
  }

  /** Starts the client and waits for its first query. */
  static async start(
    lab: Lab,
    opts: { seconds: number; rate: number; reportS: number; zone: string },
  ): Promise<DnsTraffic> {
    const script = new URL("./soak_dns.ts", import.meta.url).pathname;
    const config = new URL("../deno.json", import.meta.url).pathname;
    const client = lab.spawn("client", [
      Deno.execPath(),
      "run",
      `--config=${config}`,
      "--allow-net",
      script,
      "--server",
      GW6,
      "--zone",
      opts.zone,
      "--rate",
      String(opts.rate),
      "--seconds",
      String(opts.seconds),
      "--report",
      String(opts.reportS),
    ]);
    await client.waitFor(/^started$/, 20_000);
    return new DnsTraffic(client);
  }

  /** The reports since the last take, added up (percentiles: the worst of them). */
  take(): DnsWindow | null {
    const reports: DnsWindow[] = this.#cursor.next().filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    if (!reports.length) return null;
    const sum = (k: keyof DnsWindow) => reports.reduce((s, r) => s + r[k], 0);
    return {
      sent: sum("sent"),
      noerror: sum("noerror"),
      nxdomain: sum("nxdomain"),
      failed: sum("failed"),
      timeouts: sum("timeouts"),
      p50Ms: Math.max(...reports.map((r) => r.p50Ms)),
      p99Ms: Math.max(...reports.map((r) => r.p99Ms)),
    };
  }

  /** What the client printed on stderr or besides its reports (its errors). */
  get complaints(): string[] {
    return this.#client.lines.filter((l) => l.trim() && l !== "started" && !l.startsWith("{"));
  }

  async stop(): Promise<void> {
    await this.#client.stop();
  }
}

/** Extra client addresses the new flows come from. */
export const CHURN_SOURCES = clientAddresses(0x40, 8);

/**
 * New UDP flows: one raw-socket burst per sample from {@link CHURN_SOURCES}, each on
 * source ports the previous bursts did not use, to SERVER6's discard port.
 */
export class FlowChurn {
  readonly #lab: Lab;
  readonly #rate: number;
  #bursts = 0;
  #sent = 0;
  #running: Promise<void> | null = null;

  constructor(lab: Lab, rate: number) {
    this.#lab = lab;
    this.#rate = rate;
  }

  /** Starts the next burst of `seconds` (the previous one must have ended). */
  burst(seconds: number): void {
    const offset = this.#bursts++ * Math.ceil(this.#rate * seconds / CHURN_SOURCES.length);
    this.#running = flood(this.#lab, "client", "udp", {
      src: CHURN_SOURCES,
      dst: SERVER6,
      rate: this.#rate,
      seconds,
      portOffset: offset,
    }).then((r) => {
      this.#sent += r.sent;
    });
  }

  /** New-flow packets sent since the last take (after waiting for the current burst). */
  async take(): Promise<number> {
    await this.#running;
    const sent = this.#sent;
    this.#sent = 0;
    return sent;
  }
}

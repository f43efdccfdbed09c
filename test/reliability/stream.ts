/**
 * An established TCP flow to watch while something hostile happens: iperf3 from the
 * IPv6-only client to the IPv4-only server through the gateway, at a fixed bitrate,
 * printing an interval every half second (or as asked) as it goes (`--forceflush`), so
 * a test can start a flood once the flow is steady and compare the throughput before
 * and during it.
 *
 * @module
 */

import { SERVER4, SERVER6 } from "../e2e/addresses.ts";
import type { Lab, Service } from "../e2e/harness.ts";

/** One interval iperf3 reported, in seconds since its test began. */
export interface Interval {
  start: number;
  end: number;
  /** Bytes sent in the interval. */
  bytes: number;
  /** Bitrate in Mbit/s. */
  mbps: number;
}

/** Throughput over a stretch of intervals. */
export interface Window {
  /** Mean bitrate of the intervals, Mbit/s. */
  mbps: number;
  /** Intervals in the stretch. */
  intervals: number;
  /** Intervals that moved no byte. */
  stalled: number;
}

const UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
const RATE_UNITS: Record<string, number> = { "": 1e-6, K: 1e-3, M: 1, G: 1e3 };
/** "[  5]   0.50-1.00   sec  5.96 MBytes   100 Mbits/sec    0    328 KBytes"; the end summaries say sender/receiver. */
const INTERVAL = /^\[\s*\d+\]\s+([\d.]+)-([\d.]+)\s+sec\s+([\d.]+)\s+([KMG]?)Bytes\s+([\d.]+)\s+([KMG]?)bits\/sec(.*)$/;

/** The per-interval lines of iperf3's text output, summaries left out. */
export function parseIntervals(lines: readonly string[]): Interval[] {
  const out: Interval[] = [];
  for (const line of lines) {
    const m = INTERVAL.exec(line);
    if (!m || /sender|receiver/.test(m[7])) continue;
    out.push({
      start: Number(m[1]),
      end: Number(m[2]),
      bytes: Math.round(Number(m[3]) * UNITS[m[4]]),
      mbps: Number(m[5]) * RATE_UNITS[m[6]],
    });
  }
  return out;
}

/** The intervals lying wholly within `[from, to]` seconds, summed up. */
export function window(intervals: readonly Interval[], from: number, to: number): Window {
  const inside = intervals.filter((i) => i.start >= from - 1e-9 && i.end <= to + 1e-9);
  const mbps = inside.length ? inside.reduce((s, i) => s + i.mbps, 0) / inside.length : 0;
  return { mbps, intervals: inside.length, stalled: inside.filter((i) => i.bytes === 0).length };
}

/** A running iperf3 TCP stream through the gateway. */
export class TcpStream {
  readonly #server: Service;
  readonly #client: Service;
  readonly #seconds: number;

  private constructor(server: Service, client: Service, seconds: number) {
    this.#server = server;
    this.#client = client;
    this.#seconds = seconds;
  }

  /**
   * Starts an iperf3 server on SERVER4:`port` and a client sending to it at `bitrate` for
   * `seconds`, reporting every `interval` seconds (default 0.5).
   */
  static async start(
    lab: Lab,
    opts: { seconds: number; bitrate: string; port?: number; interval?: number },
  ): Promise<TcpStream> {
    const port = String(opts.port ?? 5201);
    const server = lab.spawn("server", [
      "iperf3",
      "--server",
      "--one-off",
      "--forceflush",
      "--bind",
      SERVER4,
      "--port",
      port,
    ]);
    try {
      await server.waitFor(/Server listening/, 10_000);
    } catch (err) {
      await server.stop();
      throw err;
    }
    const client = lab.spawn("client", [
      "iperf3",
      "--client",
      SERVER6,
      "--port",
      port,
      "--connect-timeout",
      "3000",
      "--forceflush",
      "--interval",
      String(opts.interval ?? 0.5),
      "--bitrate",
      opts.bitrate,
      "--time",
      String(opts.seconds),
    ]);
    return new TcpStream(server, client, opts.seconds);
  }

  /** The intervals reported so far. */
  get intervals(): Interval[] {
    return parseIntervals(this.#client.lines);
  }

  /** Everything the client printed. */
  get output(): string {
    return this.#client.output;
  }

  /**
   * Waits until an interval ending at `seconds` or later has been reported and returns
   * the end of the latest one: the stream's own clock, for marking when a flood began.
   */
  async reach(seconds: number, timeoutMs = (seconds + 10) * 1000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const last = this.intervals.at(-1);
      if (last && last.end >= seconds) return last.end;
      if (this.#client.exited) throw new Error(`iperf3 ended before ${seconds} s:\n${this.output}`);
      if (Date.now() > deadline) {
        throw new Error(`iperf3 reported no ${seconds} s within ${timeoutMs} ms:\n${this.output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The end of the latest interval reported (0 before the first). */
  get now(): number {
    return this.intervals.at(-1)?.end ?? 0;
  }

  /** Waits for the client to end (it must succeed) and returns every interval; stops the server. */
  async finish(): Promise<Interval[]> {
    await this.#client.waitFor(/iperf Done\./, (this.#seconds + 15) * 1000);
    // The last line comes just before the exit; a SIGTERM in between would turn a clean run into an error.
    const deadline = Date.now() + 5_000;
    while (!this.#client.exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const code = await this.#client.stop();
    await this.#server.stop();
    if (code !== 0) throw new Error(`iperf3 exited ${code}:\n${this.output}`);
    return this.intervals;
  }

  /** Stops both ends, whatever state they are in. */
  async stop(): Promise<void> {
    await this.#client.stop();
    await this.#server.stop();
  }
}

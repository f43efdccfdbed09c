/**
 * The shape every flood test shares: an established TCP stream runs through the
 * gateway; once it is steady the floods start, all at once; when they end the stream
 * runs on a little. From the moment the floods start the gateway's RSS is sampled. The
 * result holds the stream's throughput before and during the floods, the RSS at the
 * start, at its peak and after, and the counters before and after, and prints as one
 * line for the test log.
 *
 * @module
 */

import type { Lab } from "../e2e/harness.ts";
import { type Counters, gatewayPid, readCounters } from "./counters.ts";
import type { FloodReport } from "./flood.ts";
import { mib, rssKiB, RssSampler } from "./rss.ts";
import { TcpStream, type Window, window } from "./stream.ts";

/** The stream's bitrate: steady on a loaded 2-core machine, well below what the path carries. */
export const STREAM_BITRATE = "100M";
/** Seconds of steady stream before the floods start (the first half second, slow start, is left out). */
const LEAD_IN = 2;
/** Seconds the stream runs on after the floods. */
const TAIL = 1.5;
/** How far the RSS may rise during a flood: the engine's memory is fixed, so growth is the JavaScript heap's. */
export const RSS_HEADROOM_KIB = 48 * 1024;

/** What happened to the gateway and the stream during the floods. */
export interface FloodOutcome {
  floods: FloodReport[];
  before: Window;
  during: Window;
  rss: { beforeKiB: number; peakKiB: number; afterKiB: number };
  counters: { before: Counters; after: Counters };
}

/**
 * Runs `floods` (started together, each bounded in time; `seconds` is the longest) while
 * a TCP stream crosses the gateway behind `socket`.
 */
export async function underFlood(
  lab: Lab,
  socket: string,
  seconds: number,
  floods: () => Promise<FloodReport>[],
): Promise<FloodOutcome> {
  const pid = await gatewayPid(socket);
  const stream = await TcpStream.start(lab, { seconds: LEAD_IN + seconds + TAIL, bitrate: STREAM_BITRATE });
  let rss: RssSampler | undefined;
  try {
    const start = await stream.reach(LEAD_IN);
    // The baseline is the gateway already carrying the stream: its buffers and compiled code are warm.
    rss = new RssSampler(pid);
    const before = await readCounters(socket);
    const reports = await Promise.all(floods());
    const end = stream.now;
    const after = await readCounters(socket);
    const intervals = await stream.finish();
    const samples = rss.stop();
    return {
      floods: reports,
      before: window(intervals, 0.5, start),
      during: window(intervals, start, end),
      rss: { beforeKiB: samples[0], peakKiB: Math.max(...samples), afterKiB: rssKiB(pid) },
      counters: { before, after },
    };
  } finally {
    rss?.stop();
    await stream.stop();
  }
}

/** One line for the test log: what was sent, what the stream did, what memory did. */
export function describeOutcome(what: string, o: FloodOutcome): string {
  const sent = o.floods.map((f) => `${f.kind} ${f.sent} at ${f.pps} pps`).join(" + ");
  const read = o.counters.after.datapath_packets_read - o.counters.before.datapath_packets_read;
  return `${what}: sent ${sent}; the gateway read ${read} packets; TCP stream ${o.before.mbps.toFixed(1)} Mbit/s ` +
    `before, ${o.during.mbps.toFixed(1)} during (${o.during.stalled} of ${o.during.intervals} half-seconds stalled); ` +
    `RSS ${mib(o.rss.beforeKiB)} MiB before, peak ${mib(o.rss.peakKiB)}, after ${mib(o.rss.afterKiB)}`;
}

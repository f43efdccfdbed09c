/**
 * iperf3 command lines and the figures the bench takes from iperf3's JSON report (`-J`).
 *
 * TCP: the receiver's rate (what crossed the translator), and the sender's retransmits.
 * UDP: sent at full speed (`-b 0`), so the offered load is whatever one sender core can
 * push and the translator is the narrow point; delivered = what the receiver counted,
 * loss = the share of sent datagrams never delivered.
 *
 * @module
 */

/** The TCP figures of one iperf3 run. */
export interface TcpFigures {
  /** Receiver's throughput, Gbit/s. */
  gbps: number;
  /** TCP retransmissions counted by the sender. */
  retransmits: number;
  /** Length of the measured interval, seconds. */
  seconds: number;
}

/** The UDP figures of one iperf3 run. */
export interface UdpFigures {
  /** Datagrams the sender sent per second (the offered load). */
  sentPps: number;
  /** Datagrams the receiver got per second. */
  deliveredPps: number;
  /** Delivered payload rate, Mbit/s. */
  deliveredMbps: number;
  /** Share of sent datagrams never delivered, percent. */
  lossPercent: number;
  /** Length of the receiver's interval, seconds. */
  seconds: number;
}

/** Options shared by the iperf3 client runs. */
export interface ClientOptions {
  /** Server address (IPv6: the client is IPv6-only). */
  target: string;
  /** Measured seconds. */
  seconds: number;
  /** Leading seconds left out of the figures (TCP slow start), 0 for none. */
  omit: number;
}

/** Milliseconds the client waits for the control connection before giving up. */
const CONNECT_TIMEOUT_MS = 3000;

/** argv of an iperf3 TCP client with `streams` parallel streams. */
export function tcpClientArgs(opts: ClientOptions, streams: number): string[] {
  return [
    "iperf3",
    "-c",
    opts.target,
    "-t",
    String(opts.seconds),
    "-O",
    String(opts.omit),
    "-P",
    String(streams),
    "-J",
    "--connect-timeout",
    String(CONNECT_TIMEOUT_MS),
  ];
}

/** argv of an iperf3 UDP client sending `payload`-byte datagrams as fast as it can. */
export function udpClientArgs(opts: ClientOptions, payload: number): string[] {
  return udpArgs(opts, payload, "0");
}

/** The pacing timer of paced runs, µs: bursts of a few datagrams, not a millisecond's worth at once. */
const PACING_US = 50;

/** argv of an iperf3 UDP client sending `payload`-byte datagrams paced at `kpps` thousand a second. */
export function udpPacedArgs(opts: ClientOptions, payload: number, kpps: number): string[] {
  const bits = Math.round(kpps * 1000 * payload * 8);
  return [...udpArgs(opts, payload, String(bits)), "--pacing-timer", String(PACING_US)];
}

function udpArgs(opts: ClientOptions, payload: number, bitsPerSecond: string): string[] {
  return [
    "iperf3",
    "-c",
    opts.target,
    "-u",
    "-b",
    bitsPerSecond,
    "-l",
    String(payload),
    "-t",
    String(opts.seconds),
    "-J",
    "--connect-timeout",
    String(CONNECT_TIMEOUT_MS),
  ];
}

/**
 * The highest rate (kpps) at which a trial loses at most `maxLossPct` percent: the
 * RFC 2544 §26.1 throughput, searched by bisection between 0 and `ceilingKpps` in
 * `steps` trials (resolution ceiling / 2^steps). `trial(kpps)` runs one paced load and
 * returns its loss in percent. 0 when even the lowest rate tried loses more.
 */
export async function searchLossless(
  trial: (kpps: number) => Promise<number>,
  ceilingKpps: number,
  steps: number,
  maxLossPct: number,
): Promise<number> {
  let good = 0, bad = ceilingKpps;
  for (let i = 0; i < steps; i++) {
    const rate = (good + bad) / 2;
    if ((await trial(rate)) <= maxLossPct) good = rate;
    else bad = rate;
  }
  return good;
}

type Json = Record<string, unknown>;

/** Parses iperf3's `-J` output; iperf3's own error, or a broken report, becomes one sentence. */
function report(text: string): Json {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    const first = text.trim().split("\n")[0] ?? "";
    throw new Error(`iperf3 printed no JSON report${first ? `: ${first}` : ""}`);
  }
  if (typeof doc !== "object" || doc === null) throw new Error("iperf3's report is not a JSON object");
  const error = (doc as Json).error;
  if (typeof error === "string") throw new Error(`iperf3: ${error}`);
  return doc as Json;
}

/** The number at `end.<sum>.<field>`, or a sentence naming the missing field. */
function field(doc: Json, sum: string, name: string): number {
  const end = doc.end as Json | undefined;
  const section = end?.[sum] as Json | undefined;
  const value = section?.[name];
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new Error(`iperf3's report has no number at end.${sum}.${name}`);
  }
  return value;
}

/** The figures of a TCP run from iperf3's JSON report. */
export function parseTcpReport(text: string): TcpFigures {
  const doc = report(text);
  return {
    gbps: field(doc, "sum_received", "bits_per_second") / 1e9,
    retransmits: field(doc, "sum_sent", "retransmits"),
    seconds: field(doc, "sum_received", "seconds"),
  };
}

/** The figures of a UDP run from iperf3's JSON report. */
export function parseUdpReport(text: string, payload: number): UdpFigures {
  const doc = report(text);
  const sent = field(doc, "sum_sent", "packets");
  const sentSeconds = field(doc, "sum_sent", "seconds");
  const seconds = field(doc, "sum_received", "seconds");
  // The receiver's "packets" is the highest sequence number it saw; what it got is that minus its losses.
  const delivered = field(doc, "sum_received", "packets") - field(doc, "sum_received", "lost_packets");
  if (sentSeconds <= 0 || seconds <= 0) throw new Error("iperf3's report covers no time");
  return {
    sentPps: sent / sentSeconds,
    deliveredPps: delivered / seconds,
    deliveredMbps: (delivered * payload * 8) / seconds / 1e6,
    lossPercent: sent > 0 ? (100 * (sent - delivered)) / sent : 0,
    seconds,
  };
}

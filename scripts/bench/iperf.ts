/**
 * iperf3 command lines and the figures the bench takes from iperf3's JSON report (`-J`).
 *
 * TCP: the receiver's rate (what crossed the translator), and the sender's retransmits.
 * UDP goes through `udp_load.ts`, which says why.
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

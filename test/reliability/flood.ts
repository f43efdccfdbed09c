/**
 * Floods for the reliability tests: `fixtures/flood.py` (Debian's python3, a raw socket,
 * so each packet has its own source address and port) run inside one side of the lab,
 * bounded in rate and time, and the extra client addresses those floods come from.
 *
 * @module
 */

import type { Lab, Side } from "../e2e/harness.ts";

/** Debian's interpreter (the fixture needs only the standard library). */
const PYTHON = "/usr/bin/python3";
const SCRIPT = new URL("./fixtures/flood.py", import.meta.url).pathname;

/** What a flood sends: new UDP flows, TCP SYNs, ICMP port-unreachable errors, or packets whose hop limit runs out in the translator. */
export type FloodKind = "udp" | "syn" | "icmp-error" | "expiring";

/** How a flood is shaped. */
export interface FloodOptions {
  /** Source addresses, used in turn (each gets the next source port). */
  src: readonly string[];
  /** Destination address. */
  dst: string;
  /** Destination port (default 9). */
  dport?: number;
  /** Packets per second. */
  rate: number;
  /** How long it runs. */
  seconds: number;
  /** Where in 1024-65535 the source ports start (default 0), so floods in a row open new flows. */
  portOffset?: number;
}

/** What a flood did. */
export interface FloodReport {
  kind: FloodKind;
  sent: number;
  sendErrors: number;
  seconds: number;
  pps: number;
}

/** Runs one flood from `side` and returns what it sent; fails naming the command if it cannot run. */
export async function flood(lab: Lab, side: Side, kind: FloodKind, opts: FloodOptions): Promise<FloodReport> {
  const argv = [
    PYTHON,
    SCRIPT,
    kind,
    "--src",
    opts.src.join(","),
    "--dst",
    opts.dst,
    "--dport",
    String(opts.dport ?? 9),
    "--rate",
    String(opts.rate),
    "--seconds",
    String(opts.seconds),
    "--port-offset",
    String(opts.portOffset ?? 0),
  ];
  const out = await lab.must(side, argv, (opts.seconds + 20) * 1000);
  const r = JSON.parse(out.trim().split("\n").pop()!);
  return { kind, sent: r.sent, sendErrors: r.send_errors, seconds: r.seconds, pps: r.pps };
}

/** Why floods cannot run here (Debian's python3 missing), or null. */
export function floodSkipReason(): string | null {
  try {
    Deno.statSync(PYTHON);
    return null;
  } catch {
    return `${PYTHON} is missing (scripts/setup --test installs python3-scapy, which brings it)`;
  }
}

/**
 * `count` client addresses 2001:db8:1::<first>, <first+1>, … (hex), inside the lab's
 * EAMT entry 2001:db8:1::/120 so SIIT maps each to its own 192.0.2.x.
 */
export function clientAddresses(first: number, count: number): string[] {
  if (first < 3 || first + count > 0x100) {
    throw new Error(`client addresses ${first}..${first + count - 1} leave ::3-::ff`);
  }
  return Array.from({ length: count }, (_, i) => `2001:db8:1::${(first + i).toString(16)}`);
}

/** The IPv4 address SIIT maps a {@link clientAddresses} address to (EAMT 2001:db8:1::/120=192.0.2.0/24). */
export function eamtClient4(address6: string): string {
  return `192.0.2.${parseInt(address6.split("::")[1], 16)}`;
}

/**
 * Puts `addresses` on the client's link, so answers to them arrive. They are deprecated
 * (preferred lifetime 0): source address selection avoids them (RFC 6724 §5 rule 3), so
 * the client's own tools keep speaking from CLIENT6 and only the floods use them.
 */
export async function addClientAddresses(lab: Lab, addresses: readonly string[]): Promise<void> {
  for (const a of addresses) {
    await lab.ip("client", ["address", "add", `${a}/64`, "dev", "to-gw", "nodad", "preferred_lft", "0"]);
  }
}

const DNS_SCRIPT = new URL("./fixtures/dns_flood.py", import.meta.url).pathname;

/** What a DNS flood did. */
export interface DnsFloodReport {
  sent: number;
  sendErrors: number;
  answered: number;
  seconds: number;
}

/**
 * Floods `server` with AAAA queries for `name` from `src` (an address of the client) at
 * `rate` per second for `seconds`, never waiting for answers; counts the answers that
 * arrive up to a second after.
 */
export async function dnsFlood(
  lab: Lab,
  opts: { src: string; server: string; name: string; rate: number; seconds: number },
): Promise<DnsFloodReport> {
  const argv = [PYTHON, DNS_SCRIPT, "--src", opts.src, "--server", opts.server, "--name", opts.name];
  argv.push("--rate", String(opts.rate), "--seconds", String(opts.seconds), "--linger", "1");
  const out = await lab.must("client", argv, (opts.seconds + 20) * 1000);
  const r = JSON.parse(out.trim().split("\n").pop()!);
  return { sent: r.sent, sendErrors: r.send_errors, answered: r.answered, seconds: r.seconds };
}

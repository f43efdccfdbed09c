/**
 * Round-trip time with ICMP echo (iputils `ping`): through the translators an ICMPv6 echo
 * becomes an ICMPv4 echo and back (RFC 7915 section 4.2 and 5.2; RFC 6146 section 3.5.3
 * for stateful NAT64), so this is the translator's own delay plus the kernel's, without a
 * user-space echo program's overhead at either end.
 *
 * @module
 */

/** Echo requests sent before the timed ones: neighbour discovery and NAT64 state come first. */
export const PING_WARMUP = 10;
/** Seconds between requests (below 0.2 s needs root, which the bench has). */
const INTERVAL_S = "0.002";

/** argv of a ping sending PING_WARMUP + `count` echo requests to `target`, each waited for up to 1 s. */
export function pingArgs(target: string, count: number): string[] {
  return ["ping", "-n", "-c", String(PING_WARMUP + count), "-i", INTERVAL_S, "-W", "1", target];
}

/** argv of a single ping, to learn whether anything passes at all. */
export function probeArgs(target: string): string[] {
  return ["ping", "-n", "-c", "1", "-W", "1", target];
}

/**
 * The round-trip times, in µs, of the replies in ping's output whose icmp_seq is past
 * `warmup`; a reply line looks like "64 bytes from ADDR: icmp_seq=7 ttl=63 time=0.051 ms".
 */
export function parsePingTimes(output: string, warmup: number): number[] {
  const times: number[] = [];
  for (const m of output.matchAll(/icmp_seq=(\d+) .*time=([\d.]+) ms/g)) {
    if (Number(m[1]) > warmup) times.push(Number(m[2]) * 1000);
  }
  return times;
}

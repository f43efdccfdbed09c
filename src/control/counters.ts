/**
 * What a counter's name says about it. The gateway reports flat `name → value` counters;
 * their names follow one grammar, so the stats table and the Prometheus labels are
 * derived from the name instead of a second list that could drift:
 *
 * | name | meaning | kind |
 * |---|---|---|
 * | `in6_udp_packets`, `out4_tcp_bytes`, … `{in,out}{4,6}_{proto}_{packets,bytes}` | traffic received from / sent to the IPv4 or IPv6 side | counter |
 * | `packets_in_v4`, `bytes_out_v6`, … `{packets,bytes}_{in,out}_v{4,6}` | the same for all protocols together (proto `all`) | counter |
 * | `translated_6to4`, `translated_4to6` | packets translated in each direction | counter |
 * | `drop_{reason}` (e.g. `drop_ttl_expired`) | packets dropped, by reason | counter |
 * | `icmp{4,6}_errors_sent` or `icmp{4,6}_errors_sent_{type}` | ICMP errors the translator generated | counter |
 * | `sessions_{proto}`, `bib_{proto}` | sessions and BIB entries now (RFC 6146 §3) | gauge |
 * | `pool4_used_{proto}`, `pool4_size_{proto}` | pool4 transport addresses in use / available | gauge |
 * | `dns64_{name}` | DNS64 listener counters | counter |
 * | anything else | shown by name | counter |
 *
 * @module
 */

/** A counter's meaning, parsed from its name. */
export type CounterClass =
  | { kind: "traffic"; direction: "in" | "out"; family: 4 | 6; proto: string; unit: "packets" | "bytes" }
  | { kind: "translated"; direction: "6to4" | "4to6" }
  | { kind: "drop"; reason: string }
  | { kind: "icmp_error"; family: 4 | 6; type?: string }
  | { kind: "sessions" | "bib"; proto: string }
  | { kind: "pool4"; use: "used" | "size"; proto: string }
  | { kind: "dns64"; name: string }
  | { kind: "other"; name: string };

const TRAFFIC = /^(in|out)([46])_([a-z0-9]+)_(packets|bytes)$/;
const TRAFFIC_ALL = /^(packets|bytes)_(in|out)_v([46])$/;
const TRANSLATED = /^translated_(6to4|4to6)$/;
const DROP = /^drop_([a-z0-9_]+)$/;
const ICMP_ERROR = /^icmp([46])_errors_sent(?:_([a-z0-9_]+))?$/;
const STATE = /^(sessions|bib)_([a-z0-9]+)$/;
const POOL4 = /^pool4_(used|size)_([a-z0-9]+)$/;
const DNS64 = /^dns64_([a-z0-9_]+)$/;

/** Parses a counter name (grammar in the module comment). */
export function classifyCounter(name: string): CounterClass {
  let m = TRAFFIC.exec(name);
  if (m) {
    return {
      kind: "traffic",
      direction: m[1] as "in" | "out",
      family: m[2] === "4" ? 4 : 6,
      proto: m[3],
      unit: m[4] as "packets" | "bytes",
    };
  }
  if ((m = TRAFFIC_ALL.exec(name))) {
    return {
      kind: "traffic",
      direction: m[2] as "in" | "out",
      family: m[3] === "4" ? 4 : 6,
      proto: "all",
      unit: m[1] as "packets" | "bytes",
    };
  }
  if ((m = TRANSLATED.exec(name))) return { kind: "translated", direction: m[1] as "6to4" | "4to6" };
  if ((m = DROP.exec(name))) return { kind: "drop", reason: m[1] };
  if ((m = ICMP_ERROR.exec(name))) return { kind: "icmp_error", family: m[1] === "4" ? 4 : 6, type: m[2] };
  if ((m = STATE.exec(name))) return { kind: m[1] as "sessions" | "bib", proto: m[2] };
  if ((m = POOL4.exec(name))) return { kind: "pool4", use: m[1] as "used" | "size", proto: m[2] };
  if ((m = DNS64.exec(name))) return { kind: "dns64", name: m[1] };
  return { kind: "other", name };
}

/** True for values that go up and down (counts of things that exist now), not totals. */
export function isGauge(c: CounterClass): boolean {
  return c.kind === "sessions" || c.kind === "bib" || c.kind === "pool4";
}

/** `value` as a number for rates and ratios (exact below 2^53, close above). */
export function toNumber(value: number | bigint): number {
  return typeof value === "bigint" ? Number(value) : value;
}

/**
 * The stateful NAT64 part of the ABI from the host's side: bindings through batches,
 * the timer call and its outputs, snapshots across engines and clocks, listings with
 * cursors and totals, the gauges and traffic counters.
 */

import { deepStrictEqual as eq, ok, throws } from "node:assert/strict";
import { Engine, OutputKind } from "../../src/engine/engine.ts";
import { parseFlags } from "../../src/config/flags.ts";
import { buildPacket, checksumsValid } from "../util/packets.ts";
import { formatIP } from "../../src/net/ip.ts";
import { withTcpFlags } from "../nat64/tcp_flags.ts";

const FLAGS = [
  "--mode",
  "nat64",
  "--pool6",
  "64:ff9b::/96",
  "--allow-nonglobal-wkp",
  "--pool4",
  "192.0.2.2",
  "--ipv4",
  "203.0.113.1",
  "--ipv6",
  "2001:db8:ff::1",
];
const CLIENT = "2001:db8:1::5";
const SERVER = "198.51.100.9";

function engine(extra: string[] = [], capacity = 4096): Engine {
  const e = Engine.create({ slotCount: 16, sessionCapacity: capacity });
  e.configure(parseFlags([...FLAGS, ...extra]).config);
  return e;
}

/** Runs `packets` as one batch at `nowMs`; copies of the outputs. */
function run(e: Engine, packets: Uint8Array[], nowMs: number): Uint8Array[] {
  packets.forEach((p, i) => e.load(i, p));
  const n = e.translate(packets.length, nowMs);
  return Array.from({ length: n }, (_, j) => e.output(j).slice());
}

const port = (p: Uint8Array, at: number) => (p[at] << 8) | p[at + 1];

Deno.test("a UDP flow is bound to a pool4 port and answered through it; the gauges count it", () => {
  const e = engine();
  const [out] = run(
    e,
    [buildPacket({ src: CLIENT, dst: "64:ff9b::" + SERVER, proto: "udp", sport: 3000, dport: 53 })],
    1000,
  );
  eq(formatIP(out.subarray(12, 16)), "192.0.2.2");
  ok(checksumsValid(out));
  const x = port(out, 20);
  const [back] = run(e, [buildPacket({ src: SERVER, dst: "192.0.2.2", proto: "udp", sport: 53, dport: x })], 1001);
  eq([formatIP(back.subarray(8, 24)), formatIP(back.subarray(24, 40)), port(back, 42)], [
    "64:ff9b::c633:6409",
    CLIENT,
    3000,
  ]);
  ok(checksumsValid(back));
  const c = e.counters();
  eq([c.sessions_udp, c.bib_udp, c.pool4_used_udp, c.pool4_size_udp], [1n, 1n, 1n, 64512n]);
  eq([c.in6_udp_packets, c.out4_udp_packets, c.in4_udp_packets, c.out6_udp_packets], [1n, 1n, 1n, 1n]);
});

Deno.test("the timer call answers a stored SYN after TCP_INCOMING_SYN, like a batch's outputs", () => {
  const e = engine();
  const syn = withTcpFlags(
    buildPacket({ src: SERVER, dst: "192.0.2.2", proto: "tcp", sport: 50000, dport: 1500 }),
    0x02,
  );
  eq(run(e, [syn], 0), []);
  eq(e.counters().nat64_syns_stored, 1n);
  eq(e.expire(5999, 100), { outputs: 0, more: false });
  eq(e.expire(6000, 100), { outputs: 1, more: false });
  eq(e.outputKind(0), OutputKind.ICMP_ERROR);
  const err = e.output(0);
  eq([err[20], err[21], formatIP(err.subarray(12, 16))], [3, 3, "192.0.2.2"]);
  eq(err.subarray(28), syn);
});

Deno.test("an idle established connection gets a probe (RFC 6146 §3.5.2.2)", () => {
  const e = engine();
  const [syn] = run(e, [
    withTcpFlags(buildPacket({ src: CLIENT, dst: "64:ff9b::" + SERVER, proto: "tcp", sport: 40000, dport: 443 }), 0x02),
  ], 0);
  run(e, [
    withTcpFlags(buildPacket({ src: SERVER, dst: "192.0.2.2", proto: "tcp", sport: 443, dport: port(syn, 20) }), 0x12),
  ], 1);
  eq(e.counters().sessions_tcp, 1n);
  const tcpEst = 7440_000;
  eq(e.expire(tcpEst, 100).outputs, 0);
  eq(e.expire(tcpEst + 1, 100).outputs, 1);
  eq(e.outputKind(0), OutputKind.PROBE);
  const probe = e.output(0);
  eq([formatIP(probe.subarray(24, 40)), port(probe, 40), port(probe, 42), probe[53]], [CLIENT, 443, 40000, 0x10]);
  ok(checksumsValid(probe));
});

Deno.test("a snapshot restores the same sessions in another engine under another clock", () => {
  // Ten hosts, each paired with one of nine addresses (RFC 6146 §3.5.1.1), 10 000 flows each.
  const a = engine(["--pool4", "192.0.2.16/29"], 200_000);
  eq(a.fill(100_000, 10, 5000), 100_000);
  const snapshot = a.exportState(65_000);
  eq(snapshot.length, 32 + 100_000 * 40, "bigger than the state buffer: it went in pieces");
  const b = engine(["--pool4", "192.0.2.16/29"], 200_000);
  eq(b.importState(snapshot, 1e9), { sessions: 100_000, skipped: 0 });
  eq(b.counters().sessions_udp, 100_000n);
  const first = b.listSessions({ limit: 1 }, 0, 1e9).records[0];
  // UDP lasts 300 s; 60 s had passed when the snapshot was taken.
  eq(first.remainingMs, 240_000);
  eq(b.expire(1e9 + 239_999, 1_000_000).outputs, 0);
  eq(b.counters().sessions_udp, 100_000n);
  b.expire(1e9 + 240_000, 1_000_000);
  eq(b.counters().sessions_udp, 0n);
});

Deno.test("a refused snapshot throws its reason and leaves the tables empty", () => {
  const a = engine();
  a.fill(300, 3, 0);
  const snapshot = a.exportState(0);
  const b = engine();
  const damaged = snapshot.slice();
  damaged[200] ^= 0x40;
  throws(() => b.importState(damaged, 0), /checksum/);
  throws(() => b.importState(snapshot.subarray(0, 100), 0), /length does not match/);
  throws(() => b.importState(Uint8Array.from([1, 2, 3]), 0), /shorter than its 32-byte header/);
  eq(b.counters().sessions_udp, 0n);
  eq(b.importState(snapshot, 0).sessions, 300);
  throws(() => b.importState(snapshot, 0), /not empty/);
});

Deno.test("listings page with cursors, filter by protocol and address, and count the total", () => {
  const e = engine();
  e.fill(250, 5, 0);
  run(e, [buildPacket({ src: CLIENT, dst: "64:ff9b::" + SERVER, proto: "icmp", sport: 77 })], 0);
  const seen = new Set<string>();
  let cursor: number | undefined = 0;
  while (cursor !== undefined) {
    const page = e.listSessions({ limit: 100 }, cursor, 10);
    eq(page.total, 251);
    for (const r of page.records) {
      seen.add(`${r.proto} ${formatIP(r.addr6)} ${r.port6} ${formatIP(r.remote4)} ${r.remotePort}`);
    }
    cursor = page.next;
  }
  eq(seen.size, 251);
  const icmp = e.listSessions({ proto: "icmp" }, 0, 10);
  eq([icmp.total, icmp.records[0].port6, icmp.records[0].state], [1, 77, undefined]);
  const host = e.listSessions({ addr: Uint8Array.from([0x20, 1, 0xd, 0xb8, ...new Array(11).fill(0), 2]) }, 0, 10);
  eq(host.total, 50);
  eq(e.listBib({ proto: "udp", limit: 10 }, 0).total, 250);
  throws(() => e.listSessions({ addr: new Uint8Array(5) }, 0, 0), /5 bytes, neither 4 nor 16/);
});

Deno.test("stateful NAT64 needs tables: an engine started without session capacity refuses mode nat64", () => {
  const e = Engine.create({ slotCount: 1, sessionCapacity: 0 });
  throws(() => e.configure(parseFlags(FLAGS).config), /session capacity of 0/);
  throws(() => e.exportState(0), /session capacity of 0/);
});

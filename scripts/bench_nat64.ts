/**
 * Stateful NAT64 benchmark (`deno task bench:nat64`): a figure printer, not a test.
 * The machines are shared and noisy, so each figure is the best of several rounds.
 *
 * - creation: new sessions per second, in the tables alone (`fill`) and through the
 *   packet path (one new flow per packet, batches of 64);
 * - lookup: ns per packet of existing flows, both directions, with 10^3, 10^5 and 10^6
 *   live sessions (tables sized for them): 1024 active flows picked at random over the
 *   table (a busy moment: the tables hold many more sessions than flows send at once),
 *   and, the worst case, every packet of another of 8192 flows spread over the whole
 *   table, where the figure is the memory's latency more than the engine's work;
 * - memory: bytes of linear memory per session of capacity;
 * - expiry: the 1 Hz tick with a million live sessions and nothing due, and the cost of
 *   a mass expiry of a million sessions in budgeted calls.
 *
 * Packet figures subtract the time of copying the packets into the slots, as
 * `bench_engine.ts` subtracts its restore.
 */

import { Engine } from "../src/engine/engine.ts";
import { parseFlags } from "../src/config/flags.ts";
import { buildPacket } from "../test/util/packets.ts";
import { formatIPv4 } from "../src/net/ip.ts";

const FLAGS = ["--mode", "nat64", "--pool6", "64:ff9b::/96", "--allow-nonglobal-wkp", "--pool4", "udp,192.0.2.0/27"];
/** Hosts of the synthetic flows: 2000 flows each at a million. */
const HOSTS = 500;
const SLOTS = 64;
const ROUNDS = 5;
const UDP_MS = 300_000;
const TICK_BUDGET = 16384;

function engine(capacity: number): Engine {
  const e = Engine.create({ slotCount: SLOTS, sessionCapacity: capacity });
  e.configure(parseFlags(FLAGS).config);
  return e;
}

/** The IPv6 packet of synthetic flow `i` of `hosts` (`synthetic_flow` in `wasm/src/nat64/fill.rs`). */
function flowPacket(i: number, hosts: number): Uint8Array {
  const host = (i % hosts) + 1;
  const j = Math.floor(i / hosts);
  const src = `2001:db8::${(host >>> 16).toString(16)}:${(host & 0xffff).toString(16)}`;
  const server = formatIPv4(Uint8Array.of(198, 51, 100, Math.floor(j / 64000) % 256));
  return buildPacket({ src, dst: `64:ff9b::${server}`, proto: "udp", sport: 1024 + (j % 64000), dport: 53, size: 64 });
}

/** Seconds that `body` takes, best of `rounds`. */
function best(rounds: number, body: () => void): number {
  let t = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    body();
    t = Math.min(t, (performance.now() - t0) / 1000);
  }
  return t;
}

/** A pseudo-random sequence (xorshift), so every run picks the same flows. */
function* picks(n: number, count: number): Generator<number> {
  let x = 0x9e3779b9;
  for (let k = 0; k < count; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    yield (x >>> 0) % n;
  }
}

/** ns per packet of translating `packets` in batches, the time of loading them subtracted. */
function perPacket(e: Engine, packets: Uint8Array[], passes: number, nowMs: number): number {
  const batches = Math.floor(packets.length / SLOTS);
  const run = (translate: boolean) => () => {
    for (let p = 0; p < passes; p++) {
      for (let b = 0; b < batches; b++) {
        for (let i = 0; i < SLOTS; i++) e.load(i, packets[b * SLOTS + i]);
        if (translate) e.translate(SLOTS, nowMs);
      }
    }
  };
  run(true)(); // warm-up: the JIT and the WebAssembly tiers settle
  const both = best(ROUNDS, run(true));
  const loadOnly = best(ROUNDS, run(false));
  return ((both - loadOnly) * 1e9) / (passes * batches * SLOTS);
}

// Creation.
const MILLION = 1_000_000;
const fillRate = MILLION / best(3, () => engine(MILLION).fill(MILLION, HOSTS, 0));
const NEW_FLOWS = 128 * 1024;
const fresh = Array.from({ length: NEW_FLOWS }, (_, i) => flowPacket(i, HOSTS));
let created = 0;
const packetCreate = best(3, () => {
  const e = engine(NEW_FLOWS);
  for (let b = 0; b < NEW_FLOWS / SLOTS; b++) {
    for (let i = 0; i < SLOTS; i++) e.load(i, fresh[b * SLOTS + i]);
    e.translate(SLOTS, 0);
  }
  created = Number(e.counters().sessions_udp);
});
if (created !== NEW_FLOWS) throw new Error(`${created} sessions from ${NEW_FLOWS} new flows`);
const loadTime = best(3, () => {
  const e = engine(1024);
  for (let b = 0; b < NEW_FLOWS / SLOTS; b++) for (let i = 0; i < SLOTS; i++) e.load(i, fresh[b * SLOTS + i]);
});
const packetRate = NEW_FLOWS / (packetCreate - loadTime);

// Lookups at three sizes.
interface LookupRow {
  sessions: number;
  /** Flows the packets cycle through. */
  activeFlows: number;
  out6to4Ns: number;
  in4to6Ns: number;
}
const WORKING_SETS = [1024, 8192];
const lookups: LookupRow[] = [];
for (const n of [1_000, 100_000, MILLION]) {
  for (const active of WORKING_SETS) {
    const e = engine(Math.max(n, 1024));
    if (e.fill(n, Math.min(HOSTS, n), 0) !== n) throw new Error(`could not fill ${n} sessions`);
    const chosen = [...picks(n, active)];
    const flows = Array.from({ length: 8192 }, (_, k) => chosen[k % active]);
    const out = flows.map((i) => flowPacket(i, Math.min(HOSTS, n)));
    // The replies: each flow's translated packet with its addresses and ports swapped.
    const replies = out.map((p) => {
      e.load(0, p);
      e.translate(1, 1);
      const v4 = e.output(0);
      return buildPacket({
        src: formatIPv4(v4.subarray(16, 20)),
        dst: formatIPv4(v4.subarray(12, 16)),
        proto: "udp",
        sport: (v4[22] << 8) | v4[23],
        dport: (v4[20] << 8) | v4[21],
        size: 44,
      });
    });
    const passes = 4;
    lookups.push({
      sessions: n,
      activeFlows: active,
      out6to4Ns: perPacket(e, out, passes, 2),
      in4to6Ns: perPacket(e, replies, passes, 2),
    });
    if (Number(e.counters().sessions_udp) !== n) throw new Error("lookups created sessions");
  }
}

// Memory per session of capacity.
const HALF = 500_000;
const bytesPerSession = (Engine.create({ slotCount: SLOTS, sessionCapacity: 2 * HALF }).memory.buffer.byteLength -
  Engine.create({ slotCount: SLOTS, sessionCapacity: HALF }).memory.buffer.byteLength) / HALF;

// Expiry at a million sessions.
const idle = engine(MILLION);
idle.fill(MILLION, HOSTS, 0);
const IDLE_TICKS = 10_000;
const idleTickNs = best(ROUNDS, () => {
  for (let t = 0; t < IDLE_TICKS; t++) idle.expire(1000 + t, TICK_BUDGET);
}) * 1e9 / IDLE_TICKS;
let calls = 0;
const massS = best(3, () => {
  const e = engine(MILLION);
  e.fill(MILLION, HOSTS, 0);
  calls = 0;
  for (let more = true; more; calls++) more = e.expire(UDP_MS, TICK_BUDGET).more;
  if (e.counters().sessions_udp !== 0n) throw new Error("the mass expiry left sessions");
});
const perExpiredNs = massS * 1e9 / MILLION;

const f = (n: number, d = 1) => n.toFixed(d).padStart(10);
console.log("creation                          sessions/s");
console.log(`  tables (fill)                 ${f(fillRate / 1e6, 2)} M   (target ≥ 1 M/s)`);
console.log(`  packet path (new flow/packet) ${f(packetRate / 1e6, 2)} M`);
const growthOf = (active: number) => {
  const rows = lookups.filter((r) => r.activeFlows === active);
  const first = rows[0], last = rows[rows.length - 1];
  return Math.max(last.out6to4Ns / first.out6to4Ns, last.in4to6Ns / first.in4to6Ns);
};
for (const active of WORKING_SETS) {
  console.log(`lookup, ${active} active flows          6→4 ns/pkt   4→6 ns/pkt`);
  for (const r of lookups.filter((r) => r.activeFlows === active)) {
    console.log(`  ${String(r.sessions).padEnd(8)} live sessions       ${f(r.out6to4Ns)}   ${f(r.in4to6Ns)}`);
  }
  console.log(`  10^6 / 10^3                   ${f(growthOf(active), 2)} ×   (target ≤ 1.5 ×)`);
}
console.log(`memory                          ${f(bytesPerSession)} bytes/session   (target ≤ 128)`);
console.log("expiry with 10^6 sessions");
console.log(`  tick, nothing due             ${f(idleTickNs)} ns`);
console.log(
  `  mass expiry of 10^6           ${f(perExpiredNs)} ns/session, ${calls} calls of ${TICK_BUDGET}, ${
    (massS * 1000 / calls).toFixed(2)
  } ms/call`,
);
await Deno.mkdir("results", { recursive: true });
await Deno.writeTextFile(
  "results/bench-nat64.json",
  JSON.stringify(
    {
      date: new Date().toISOString(),
      batch: SLOTS,
      creation: { fillPerS: fillRate, packetPathPerS: packetRate },
      lookups,
      lookupGrowth: Object.fromEntries(WORKING_SETS.map((a) => [a, growthOf(a)])),
      bytesPerSession,
      expiry: { idleTickNs, perExpiredNs, calls, budget: TICK_BUDGET, msPerCall: massS * 1000 / calls },
    },
    null,
    2,
  ) + "\n",
);

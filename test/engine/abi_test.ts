/**
 * The WASM ABI from the host's side (the Rust side tests the same contract in `cargo
 * test`): geometry, zero-copy views that survive translation, batch order, descriptors,
 * configuration errors, counters.
 */

import { deepStrictEqual as eq, ok, throws } from "node:assert/strict";
import { Engine, OutputKind } from "../../src/engine/engine.ts";
import { parseFlags } from "../../src/config/flags.ts";
import { TAG, TlvWriter } from "../../src/engine/config_tlv.ts";
import { buildPacket, checksumsValid } from "../util/packets.ts";
import { formatIP } from "../../src/net/ip.ts";

const FLAGS = ["--pool6", "2001:db8:64::/96", "--eamt", "2001:db8:1::/120=198.51.100.0/24", "--ipv4", "203.0.113.1"];

function engine(opts = {}) {
  const e = Engine.create(opts);
  e.configure(parseFlags(FLAGS).config);
  return e;
}

Deno.test("the arena is laid out once and memory never grows", () => {
  const e = engine({ slotCount: 32, slotSize: 4096 });
  eq([e.slotCount, e.slotSize], [32, 4096]);
  ok(e.headroom >= 28, `headroom ${e.headroom} leaves no room for IPv4→IPv6 growth`);
  const size = e.memory.buffer.byteLength;
  for (let i = 0; i < 32; i++) {
    e.load(i, buildPacket({ src: "2001:db8:1::2", dst: "2001:db8:64::203.0.113.5", proto: "udp", size: 1400 }));
  }
  e.translate(32, 0);
  eq(e.memory.buffer.byteLength, size);
  eq(e.bytes.buffer, e.memory.buffer);
  // Slots do not overlap and stay inside memory.
  ok(e.packetOffset(31) + e.maxPacket <= size);
  eq(e.packetOffset(1) - e.packetOffset(0), 4096);
});

Deno.test("a batch translates in order, one descriptor per packet, from the right slot", () => {
  const e = engine();
  const sent = [
    buildPacket({ src: "2001:db8:1::2", dst: "2001:db8:64::203.0.113.5", proto: "udp", sport: 1000 }),
    buildPacket({ src: "203.0.113.5", dst: "198.51.100.2", proto: "tcp", sport: 80, dport: 2000 }),
    buildPacket({ src: "2001:db8:1::2", dst: "2001:db8:64::203.0.113.5", proto: "icmp" }),
  ];
  sent.forEach((p, i) => e.load(i, p));
  eq(e.translate(3, 0), 3);
  eq([0, 1, 2].map((j) => e.outputSlot(j)), [0, 1, 2]);
  eq([0, 1, 2].map((j) => e.outputKind(j)), [OutputKind.TRANSLATED, OutputKind.TRANSLATED, OutputKind.TRANSLATED]);
  const out = [0, 1, 2].map((j) => e.output(j));
  eq(out.map((p) => p[0] >> 4), [4, 6, 4]);
  eq(formatIP(out[0].subarray(12, 16)), "198.51.100.2");
  eq(formatIP(out[0].subarray(16, 20)), "203.0.113.5");
  eq(formatIP(out[1].subarray(8, 24)), "2001:db8:64::cb00:7105");
  eq(formatIP(out[1].subarray(24, 40)), "2001:db8:1::2");
  for (const p of out) ok(checksumsValid(p));
  // Output bytes live inside the input slot's memory (translated in place, no copy).
  for (let j = 0; j < 3; j++) {
    const slotStart = e.packetOffset(j) - e.headroom;
    ok(e.outputAddress(j) >= slotStart && e.outputAddress(j) + e.outputLength(j) <= slotStart + e.slotSize);
  }
});

Deno.test("the engine refuses a bad configuration and keeps the old one", () => {
  const e = engine();
  throws(
    () => e.configureRecords(new TlvWriter().record(TAG.POOL6, new Uint8Array(16), [33])),
    /refused the configuration: .+/,
  );
  throws(() => e.configureRecords(new TlvWriter().record(0x7fff, [1])), /refused the configuration: .+/);
  e.load(0, buildPacket({ src: "2001:db8:1::2", dst: "2001:db8:64::203.0.113.5", proto: "udp" }));
  eq(e.translate(1, 0), 1);
  eq(formatIP(e.output(0).subarray(16, 20)), "203.0.113.5");
});

Deno.test("counters have unique names and count translations and drops", () => {
  const e = engine();
  const names = Object.keys(e.counters());
  ok(names.length > 5);
  eq(new Set(names).size, names.length);
  const before = Object.values(e.counters()).reduce((a, b) => a + b, 0n);
  e.load(0, Uint8Array.from([0x45, 0, 0, 20])); // malformed: shorter than its header
  e.setInputLength(0, 4);
  eq(e.translate(1, 0), 0);
  const after = Object.values(e.counters()).reduce((a, b) => a + b, 0n);
  ok(after > before, "a dropped packet must be counted");
});

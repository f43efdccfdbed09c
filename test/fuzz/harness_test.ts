/**
 * The fuzz oracles themselves: each check must fire on the fault it exists for, or a
 * clean fuzz run would mean nothing.
 */

import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { Engine, OutputKind } from "../../src/engine/engine.ts";
import { parseFlags } from "../../src/config/flags.ts";
import { ArenaGuard, arenaLayout } from "./arena_guard.ts";
import { checkDescriptors, checkSlotOutputs, type Output } from "./output_checks.ts";
import { FUZZ_GEOMETRY, FuzzEngine } from "./engine_harness.ts";
import { buildPacket } from "../util/packets.ts";
import { checksumState, reassemble, viewPacket } from "./packet_view.ts";
import { fixChecksums, repeatExtension } from "./mutate.ts";
import { Prng } from "./prng.ts";

const FLAGS = ["--pool6", "2001:db8:64::/96", "--eamt", "2001:db8:1::/120=198.51.100.0/24"];
const config = parseFlags(FLAGS).config;
const udp6 = () => buildPacket({ src: "2001:db8:1::2", dst: "2001:db8:64::203.0.113.5", proto: "udp", size: 100 });

function guarded() {
  const e = Engine.create(FUZZ_GEOMETRY);
  e.configure(config);
  const layout = arenaLayout(e, FUZZ_GEOMETRY);
  return { e, layout, guard: new ArenaGuard(e, layout) };
}

Deno.test("the arena guard sees writes into later slots, the config buffer, input lengths and unused descriptors", () => {
  const { e, layout, guard } = guarded();
  e.load(0, udp6());
  guard.arm(1);
  eq(guard.check(0), []);
  e.bytes[layout.slotBase + 3 * layout.slotSize + 10] ^= 0xff;
  e.bytes[layout.configBase + 5] ^= 1;
  e.bytes[layout.inLenBase + 4] ^= 1;
  e.bytes[layout.outBase + 16 * 7] ^= 1;
  const problems = guard.check(1);
  eq(problems.length, 4, problems.join("\n"));
  ok(problems[0].includes("slots after the batch"));
});

Deno.test("a clean batch passes every check, and outputs lie in their slot", () => {
  const fe = FuzzEngine.create(FLAGS);
  const report = fe.run([{ bytes: udp6() }, {
    bytes: buildPacket({ src: "203.0.113.5", dst: "198.51.100.2", proto: "tcp" }),
  }], 0);
  eq(report.problems, []);
  eq(report.outputs.map((o) => o.slot), [0, 1]);
});

function output(bytes: Uint8Array, kind: number = OutputKind.TRANSLATED, slot = 0): Output {
  return { addr: 0, len: bytes.length, slot, kind, bytes };
}

Deno.test("output checks fire on wrong lengths, header and transport checksums, oversized errors", () => {
  const input = { bytes: udp6(), declaredLen: 100 };
  const v4 = buildPacket({ src: "198.51.100.2", dst: "203.0.113.5", proto: "udp", size: 80 });
  eq(checkSlotOutputs(0, input, [output(v4)], config), []);
  const badLen = v4.slice();
  badLen[3]++;
  const badHeader = v4.slice();
  badHeader[8]--;
  const badL4 = v4.slice();
  badL4[40]++;
  const problems = [badLen, badHeader, badL4].map((p) =>
    checkSlotOutputs(0, input, [output(p)], config).map((x) => x.what)
  );
  ok(problems[0][0].includes("total length"), problems[0].join());
  ok(problems[1][0].includes("header checksum"), problems[1].join());
  ok(problems[2][0].includes("transport checksum"), problems[2].join());
  const bigError = buildPacket({ src: "2001:db8:1::1", dst: "2001:db8:1::2", proto: "icmp", size: 1300 });
  bigError[40] = 1;
  fixChecksums(bigError);
  const errProblems = checkSlotOutputs(0, input, [output(bigError, OutputKind.ICMP_ERROR)], config).map((x) => x.what);
  ok(errProblems.some((w) => w.includes("exceeds 1280")), errProblems.join());
});

Deno.test("descriptor checks fire on slot order and on bytes outside slot and spill", () => {
  const { layout } = guarded();
  const inSlot = (slot: number): Output => ({
    addr: layout.slotBase + slot * layout.slotSize + 64,
    len: 40,
    slot,
    kind: 0,
    bytes: new Uint8Array(40),
  });
  eq(checkDescriptors(layout, 2, [inSlot(0), inSlot(1)]), []);
  ok(checkDescriptors(layout, 2, [inSlot(1), inSlot(0)]).some((p) => p.what.includes("comes after")));
  const stray = { ...inSlot(0), addr: layout.slotBase + layout.slotSize - 10 };
  ok(checkDescriptors(layout, 2, [stray]).some((p) => p.what.includes("outside slot")));
  ok(checkDescriptors(layout, 1, [inSlot(1)]).some((p) => p.what.includes("names slot 1")));
});

Deno.test("fragments reassemble only when they tile the datagram", () => {
  const frag = (offset: number, more: boolean, len: number) => {
    const p = buildPacket({ src: "198.51.100.2", dst: "203.0.113.5", proto: "udp", size: 20 + len, id: 9 });
    p[6] = (more ? 0x20 : 0) | (offset / 8) >> 8;
    p[7] = (offset / 8) & 0xff;
    fixChecksums(p);
    const v = viewPacket(p);
    if (typeof v === "string") throw new Error(v);
    return v;
  };
  ok(reassemble([frag(16, false, 8), frag(0, true, 16)]) instanceof Uint8Array);
  ok(String(reassemble([frag(0, true, 16), frag(24, false, 8)])).includes("offset 24"));
  ok(String(reassemble([frag(0, true, 16), frag(16, true, 8)])).includes("M=1"));
});

Deno.test("repeated extension headers keep the packet parseable and its checksum state", () => {
  const p = repeatExtension(udp6(), 60, 3, new Prng(1));
  const v = viewPacket(p);
  if (typeof v === "string") throw new Error(v);
  eq([v.proto, v.headerLen >= 40 + 3 * 8], [17, true]);
  eq(checksumState(v), "valid");
});

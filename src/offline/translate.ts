/**
 * `nat64 translate`: feeds packets from files through the same engine the gateway runs,
 * offline and without privileges. ITEMs are taken in order: a `.pkt` file is one raw IP
 * packet, a `.pcap` file feeds its packets, and a `+Ns` token advances the engine's clock
 * (so timers can be driven: `+8.1s`).
 *
 * @module
 */

import { Engine, pool4Pairs } from "../engine/engine.ts";
import { checkTranslatorConfig } from "../config/schema.ts";
import { keysHelp, parseFlags } from "../config/flags.ts";
import { type CapturedPacket, readPcap, writePcap } from "../pcap/pcap.ts";
import { describePacket } from "./describe.ts";

/** Usage text of the subcommand. */
export const TRANSLATE_HELP = `usage: nat64 translate [flags] ITEM...
  ITEM is FILE.pkt (one raw IP packet), FILE.pcap, or +Ns to advance the clock (e.g. +8.1s)
  --out FILE.pcap               write the emitted packets as a raw-IP capture
  --format hex|text             print "<4|6> <hex>" per emitted packet (hex, the default without --out),
                                or each packet sent and what came out of it, in words (text)
${keysHelp()}`;

/** Checks that bytes hold one whole IP packet; throws a sentence saying what is wrong. */
export function checkIpFraming(p: Uint8Array): void {
  if (p.length === 0) throw new Error("is empty");
  const version = p[0] >> 4;
  if (version === 4) {
    if (p.length < 20) throw new Error(`is truncated: ${p.length} bytes, an IPv4 header needs 20`);
    const ihl = (p[0] & 0x0f) * 4;
    const total = (p[2] << 8) | p[3];
    if (ihl < 20) throw new Error(`has an IPv4 header length of ${ihl} bytes, under the minimum 20`);
    if (total < ihl || total > p.length) {
      throw new Error(`is truncated: the IPv4 total length says ${total} bytes, ${p.length} are there`);
    }
  } else if (version === 6) {
    if (p.length < 40) throw new Error(`is truncated: ${p.length} bytes, an IPv6 header needs 40`);
    const total = 40 + ((p[4] << 8) | p[5]);
    if (total > p.length) {
      throw new Error(`is truncated: the IPv6 payload length says ${total} bytes, ${p.length} are there`);
    }
  } else {
    throw new Error(`has IP version ${version}, neither 4 nor 6`);
  }
}

/** Length of the IP packet itself (a capture may carry link-layer padding after it). */
function ipLength(p: Uint8Array): number {
  return p[0] >> 4 === 4 ? (p[2] << 8) | p[3] : 40 + ((p[4] << 8) | p[5]);
}

/** One ITEM of the command line: packets to feed, or a clock step. */
export type Item = { kind: "packets"; packets: CapturedPacket[] } | { kind: "clock"; advanceMs: number };

/** Reads and checks every ITEM before anything is translated, so a bad one costs no partial output. */
async function readItems(items: string[]): Promise<Item[]> {
  const out: Item[] = [];
  for (const item of items) {
    const clock = item.match(/^\+(\d+(?:\.\d+)?)(ms|s)$/);
    if (!clock && item.startsWith("+")) throw new Error(`${item}: neither a .pkt or .pcap file nor a +Ns clock token`);
    if (clock) {
      out.push({ kind: "clock", advanceMs: Number(clock[1]) * (clock[2] === "s" ? 1000 : 1) });
      continue;
    }
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(item);
    } catch (err) {
      throw new Error(`${item}: ${err instanceof Deno.errors.NotFound ? "no such file" : (err as Error).message}`);
    }
    let packets: CapturedPacket[];
    if (item.endsWith(".pcap")) {
      try {
        packets = readPcap(bytes);
      } catch (err) {
        throw new Error(`${item}: ${(err as Error).message}`);
      }
    } else if (item.endsWith(".pkt")) {
      packets = [{ data: bytes, timeMs: 0 }];
    } else {
      throw new Error(`${item}: neither a .pkt or .pcap file nor a +Ns clock token`);
    }
    packets.forEach((p, i) => {
      try {
        checkIpFraming(p.data);
      } catch (err) {
        throw new Error(`${item}: packet ${i + 1} ${(err as Error).message}`);
      }
    });
    out.push({ kind: "packets", packets: packets.map((p) => ({ ...p, data: p.data.subarray(0, ipLength(p.data)) })) });
  }
  return out;
}

/** A packet the engine emitted, with the index (over the whole run) of the input it came from. */
export interface EmittedPacket extends CapturedPacket {
  /** The input it answers or translates; {@link TIMER} for what the NAT64 timers sent. */
  readonly input: number;
}

/** The `input` of a packet the stateful NAT64 timers sent (a stored SYN's answer, a TCP probe). */
export const TIMER = -1;

/** Due entries one timer call handles; the calls repeat until nothing more is due. */
const EXPIRE_BUDGET = 4096;

/**
 * Runs packets through an engine in batches of its slot count, in order, and returns
 * every packet it emitted (copied out of the arena) with the clock at emission. A
 * clock step runs the stateful NAT64 timers at the new time (RFC 6146 §4 lifetimes).
 */
export function translateItems(engine: Engine, items: Item[]): EmittedPacket[] {
  const emitted: EmittedPacket[] = [];
  let nowMs = 0;
  let pending = 0;
  let firstInput = 0;
  const flush = () => {
    const n = engine.translate(pending, nowMs);
    for (let j = 0; j < n; j++) {
      emitted.push({ data: engine.output(j).slice(), timeMs: nowMs, input: firstInput + engine.outputSlot(j) });
    }
    firstInput += pending;
    pending = 0;
  };
  const runTimers = () => {
    for (let more = true; more;) {
      const r = engine.expire(nowMs, EXPIRE_BUDGET);
      for (let j = 0; j < r.outputs; j++) emitted.push({ data: engine.output(j).slice(), timeMs: nowMs, input: TIMER });
      more = r.more;
    }
  };
  for (const item of items) {
    if (item.kind === "clock") {
      if (pending) flush();
      nowMs += item.advanceMs;
      runTimers();
      continue;
    }
    for (const p of item.packets) {
      engine.load(pending++, p.data);
      if (pending === engine.slotCount) flush();
    }
  }
  if (pending) flush();
  return emitted;
}

/** Each input packet in words, followed by what came out of it; each clock step, followed by what the timers sent. */
export function textReport(items: Item[], emitted: EmittedPacket[]): string {
  const lines: string[] = [];
  let input = 0;
  let nowMs = 0;
  for (const item of items) {
    if (item.kind === "clock") {
      nowMs += item.advanceMs;
      lines.push(`  +${item.advanceMs / 1000}s`);
      const sent = emitted.filter((e) => e.input === TIMER && e.timeMs === nowMs);
      lines.push(...sent.map((e) => `    → ${describePacket(e.data)}`));
      continue;
    }
    for (const p of item.packets) {
      const outs = emitted.filter((e) => e.input === input).map((e) => `    → ${describePacket(e.data)}`);
      // Nothing now: dropped (see the drop_* counters), or kept by stateful NAT64 (an
      // unsolicited SYN, an early fragment) until a later packet or a clock step.
      lines.push(`  ${describePacket(p.data)}`, ...(outs.length ? outs : ["    → nothing"]));
      input++;
    }
  }
  return lines.map((l) => l + "\n").join("");
}

/** Hex line of one emitted packet: `<4|6> <hex>`. */
export function hexLine(p: Uint8Array): string {
  return `${p[0] >> 4} ${Array.from(p, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** Runs `nat64 translate ARGS`; returns the exit code. */
export async function runTranslate(args: string[]): Promise<number> {
  const flags = parseFlags(args, { out: { type: "string" }, format: { type: "string" }, help: { type: "boolean" } });
  if (flags.extra.help) {
    console.log(TRANSLATE_HELP);
    return 0;
  }
  const format = flags.extra.format as string | undefined;
  if (format !== undefined && format !== "hex" && format !== "text") {
    throw new Error(`--format: "${format}" is not a known format (hex, text)`);
  }
  if (flags.positionals.length === 0) throw new Error("no ITEM given: name .pkt or .pcap files (see --help)");
  checkTranslatorConfig(flags.config);
  const items = await readItems(flags.positionals);
  const largest = Math.max(0, ...items.flatMap((i) => i.kind === "packets" ? i.packets.map((p) => p.data.length) : []));
  const engine = Engine.create({
    slotSize: Math.max(2048, largest + 256),
    sessionCapacity: flags.config.nat64.sessionCapacity,
    pool4Pairs: pool4Pairs(flags.config.nat64.pool4),
  });
  engine.configure(flags.config);
  const emitted = translateItems(engine, items);
  const out = flags.extra.out as string | undefined;
  if (out) await Deno.writeFile(out, writePcap(emitted));
  const enc = new TextEncoder();
  if (format === "text") {
    await Deno.stdout.write(enc.encode(textReport(items, emitted)));
  } else if (!out || format === "hex") {
    await Deno.stdout.write(enc.encode(emitted.map((p) => hexLine(p.data) + "\n").join("")));
  }
  return 0;
}

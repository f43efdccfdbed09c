/**
 * Catches engine writes outside the memory a batch lets it write. Before a batch the
 * guard paints a position-dependent canary over the regions the engine must leave alone
 * (the slots past the batch, the unused output descriptors) and snapshots the ones the
 * host owns (input lengths, the config buffer); after the batch it compares.
 *
 * The region addresses come from a twin instance of the same module initialised with
 * the same geometry: `Engine` keeps the ABI's region exports private, and the layout is
 * a pure function of the geometry (ABI doc of `wasm/src/lib.rs`, "Memory"). The twin's
 * addresses are checked against the engine's own before use.
 */

import { Engine, type EngineOptions, MIN_POOL4_PAIRS } from "../../src/engine/engine.ts";
import { engineModule } from "../../src/engine/module.ts";

/** Region addresses of an engine's arena (byte offsets into linear memory). */
export interface ArenaLayout {
  slotBase: number;
  slotSize: number;
  slotCount: number;
  /** The spill area: `slotCount × slotSize` bytes right after the slots (8-aligned). */
  spillBase: number;
  spillLen: number;
  inLenBase: number;
  outBase: number;
  outCapacity: number;
  configBase: number;
  configCapacity: number;
  countersBase: number;
  counterCount: number;
}

interface RegionExports {
  nat64_init(
    slotCount: number,
    slotSize: number,
    sessionCapacity: number,
    pool4Pairs: number,
    seed0: number,
    seed1: number,
    seed2: number,
    seed3: number,
  ): number;
  nat64_slot_base(): number;
  nat64_slot_size(): number;
  nat64_slot_count(): number;
  nat64_in_len_base(): number;
  nat64_out_base(): number;
  nat64_out_capacity(): number;
  nat64_config_base(): number;
  nat64_config_capacity(): number;
  nat64_counters_base(): number;
  nat64_counter_count(): number;
}

const DESCRIPTOR_BYTES = 16;

/** The arena layout of `engine`, created with `opts`; throws when the twin disagrees with it. */
export function arenaLayout(engine: Engine, opts: EngineOptions): ArenaLayout {
  const twin = new WebAssembly.Instance(engineModule, {}).exports as unknown as RegionExports;
  // The seed keys the NAT64 hashes only, never the layout: any four words will do.
  const [s0, s1, s2, s3] = crypto.getRandomValues(new Uint32Array(4));
  const rc = twin.nat64_init(
    opts.slotCount ?? 64,
    opts.slotSize ?? 2048,
    opts.sessionCapacity ?? 65536,
    Math.max(MIN_POOL4_PAIRS, opts.pool4Pairs ?? 0),
    s0,
    s1,
    s2,
    s3,
  );
  if (rc !== 0) throw new Error(`the twin engine refused the geometry (${rc})`);
  const slotBase = twin.nat64_slot_base();
  const slotSize = twin.nat64_slot_size();
  const slotCount = twin.nat64_slot_count();
  if (
    slotBase !== engine.packetOffset(0) - engine.headroom || slotSize !== engine.slotSize ||
    slotCount !== engine.slotCount
  ) {
    throw new Error(
      "the twin engine's slots are not where the engine's are: the layout is not a function of the geometry",
    );
  }
  const spillBase = (slotBase + slotCount * slotSize + 7) & ~7;
  const layout: ArenaLayout = {
    slotBase,
    slotSize,
    slotCount,
    spillBase,
    spillLen: slotCount * slotSize,
    inLenBase: twin.nat64_in_len_base(),
    outBase: twin.nat64_out_base(),
    outCapacity: twin.nat64_out_capacity(),
    configBase: twin.nat64_config_base(),
    configCapacity: twin.nat64_config_capacity(),
    countersBase: twin.nat64_counters_base(),
    counterCount: twin.nat64_counter_count(),
  };
  // The input-length array is the one region both sides write; prove the address with a marker.
  const saved = engine.bytes.slice(layout.inLenBase, layout.inLenBase + 4);
  engine.setInputLength(0, 0x5eed);
  const seen = engine.bytes[layout.inLenBase] | (engine.bytes[layout.inLenBase + 1] << 8);
  engine.bytes.set(saved, layout.inLenBase);
  if (seen !== 0x5eed) throw new Error("the twin engine's input-length array is not where the engine's is");
  return layout;
}

/** The canary byte at address `addr`: position-dependent, so a shifted copy shows too. */
function canaryByte(addr: number, salt: number): number {
  return ((Math.imul(addr, 0x9d) + 0x5a + (addr >>> 8)) ^ salt) & 0xff;
}

/** One region the guard watches. */
interface Watched {
  name: string;
  start: number;
  end: number;
  expected: Uint8Array;
}

/** Paints and checks the forbidden regions of one engine (see the module comment). */
export class ArenaGuard {
  readonly layout: ArenaLayout;
  readonly #engine: Engine;
  readonly #canary: Uint8Array;
  #watched: Watched[] = [];

  /** `salt` varies the canary, so two guards can give the same input different surroundings. */
  constructor(engine: Engine, layout: ArenaLayout, salt = 0) {
    this.#engine = engine;
    this.layout = layout;
    const end = layout.outBase + layout.outCapacity * DESCRIPTOR_BYTES;
    this.#canary = new Uint8Array(end);
    for (let a = layout.slotBase; a < end; a++) this.#canary[a] = canaryByte(a, salt);
  }

  /** Paints slot `slot` (headroom and tail) with the canary, so its old contents cannot leak into a batch. */
  paintSlot(slot: number): void {
    const start = this.layout.slotBase + slot * this.layout.slotSize;
    this.#engine.bytes.set(this.#canary.subarray(start, start + this.layout.slotSize), start);
  }

  /** Paints and snapshots before a batch of `count` slots whose packets are already loaded. */
  arm(count: number): void {
    const l = this.layout;
    const bytes = this.#engine.bytes;
    const slotsEnd = l.slotBase + l.slotCount * l.slotSize;
    const outEnd = l.outBase + l.outCapacity * DESCRIPTOR_BYTES;
    const afterBatch = l.slotBase + count * l.slotSize;
    bytes.set(this.#canary.subarray(afterBatch, slotsEnd), afterBatch);
    bytes.set(this.#canary.subarray(l.outBase, outEnd), l.outBase);
    const configEnd = l.configBase + l.configCapacity;
    this.#watched = [
      {
        name: "slots after the batch",
        start: afterBatch,
        end: slotsEnd,
        expected: this.#canary.subarray(afterBatch, slotsEnd),
      },
      {
        name: "input lengths",
        start: l.inLenBase,
        end: l.inLenBase + 4 * l.slotCount,
        expected: bytes.slice(l.inLenBase, l.inLenBase + 4 * l.slotCount),
      },
      { name: "config buffer", start: l.configBase, end: configEnd, expected: bytes.slice(l.configBase, configEnd) },
    ];
  }

  /**
   * After a batch that returned `outputs` descriptors: one sentence per region written
   * where it must not be (first differing address and how many bytes differ).
   */
  check(outputs: number): string[] {
    const l = this.layout;
    const bytes = this.#engine.bytes;
    const usedEnd = l.outBase + Math.min(outputs, l.outCapacity) * DESCRIPTOR_BYTES;
    const outEnd = l.outBase + l.outCapacity * DESCRIPTOR_BYTES;
    const regions = [
      ...this.#watched,
      {
        name: "unused output descriptors",
        start: usedEnd,
        end: outEnd,
        expected: this.#canary.subarray(usedEnd, outEnd),
      },
    ];
    const problems: string[] = [];
    for (const r of regions) {
      let first = -1, count = 0;
      for (let a = r.start; a < r.end; a++) {
        if (bytes[a] !== r.expected[a - r.start]) {
          if (first < 0) first = a;
          count++;
        }
      }
      if (first >= 0) {
        problems.push(
          `wrote ${count} byte(s) into the ${r.name}, first at address ${first} (region ${r.start}..${r.end})`,
        );
      }
    }
    return problems;
  }
}

/**
 * Runs fuzz batches through one engine and judges each: no trap, no write outside the
 * batch's memory (`arena_guard.ts`), descriptors and packets as `output_checks.ts`
 * demands, and counters that only grow and count every input once.
 */

import { Engine, type EngineOptions } from "../../src/engine/engine.ts";
import { parseFlags } from "../../src/config/flags.ts";
import type { TranslatorConfig } from "../../src/config/schema.ts";
import { ArenaGuard, arenaLayout } from "./arena_guard.ts";
import { checkDescriptors, checkSlotOutputs, type InputInfo, type Output, type Problem } from "./output_checks.ts";

/** One input of a batch: its bytes and, when the fuzzer lies, another length for the slot. */
export interface FuzzInput {
  bytes: Uint8Array;
  declaredLen?: number;
}

/** What a batch did. */
export interface BatchReport {
  outputs: Output[];
  problems: Problem[];
  /** The engine trapped (a `WebAssembly.RuntimeError`): it is dead and must be replaced. */
  trapped: boolean;
}

/** The default fuzz geometry: room for the corpus' largest packet (2153 bytes) plus growth. */
export const FUZZ_GEOMETRY: EngineOptions = { slotCount: 8, slotSize: 4096 };

/** An engine configured from translator flags, with its guard. */
export class FuzzEngine {
  readonly engine: Engine;
  readonly config: TranslatorConfig;
  readonly flags: readonly string[];
  readonly #guard: ArenaGuard;
  #twin: FuzzEngine | null = null;
  #dead = false;

  private constructor(engine: Engine, config: TranslatorConfig, flags: readonly string[], guard: ArenaGuard) {
    this.engine = engine;
    this.config = config;
    this.flags = flags;
    this.#guard = guard;
  }

  /**
   * A fresh engine configured with `flags`; throws the config or engine error as it is.
   * With `twin`, every batch also runs on a second engine whose slots around the inputs
   * hold other bytes: outputs that differ show the engine reading outside the packet.
   */
  static create(flags: readonly string[], geometry: EngineOptions = FUZZ_GEOMETRY, twin = false): FuzzEngine {
    const fe = FuzzEngine.#make(flags, geometry, 0);
    if (twin) fe.#twin = FuzzEngine.#make(flags, geometry, 0xff);
    return fe;
  }

  static #make(flags: readonly string[], geometry: EngineOptions, salt: number): FuzzEngine {
    const { config } = parseFlags([...flags]);
    const engine = Engine.create(geometry);
    engine.configure(config);
    return new FuzzEngine(engine, config, flags, new ArenaGuard(engine, arenaLayout(engine, geometry), salt));
  }

  /** True once the engine trapped. */
  get dead(): boolean {
    return this.#dead;
  }

  /** The most inputs one batch holds. */
  get slotCount(): number {
    return this.engine.slotCount;
  }

  /** The largest packet a slot holds. */
  get maxPacket(): number {
    return this.engine.maxPacket;
  }

  /** Translates `inputs` (at most `slotCount`, each at most `maxPacket` bytes) in one call and judges the result. */
  run(inputs: FuzzInput[], nowMs: number): BatchReport {
    if (this.#dead) throw new Error("this engine trapped before; create a new one");
    const e = this.engine;
    if (inputs.length > this.slotCount) {
      throw new Error(`a batch of ${inputs.length} inputs does not fit ${this.slotCount} slots`);
    }
    const big = inputs.find((inp) => inp.bytes.length > this.maxPacket);
    if (big) throw new Error(`a ${big.bytes.length}-byte input does not fit a ${this.maxPacket}-byte slot`);
    const infos: (InputInfo & { version: number })[] = inputs.map((inp, i) => {
      this.#guard.paintSlot(i);
      e.bytes.set(inp.bytes, e.packetOffset(i));
      const declaredLen = inp.declaredLen ?? inp.bytes.length;
      e.setInputLength(i, declaredLen);
      return { bytes: inp.bytes, declaredLen, version: e.bytes[e.packetOffset(i)] >> 4 };
    });
    const before = e.counters();
    this.#guard.arm(inputs.length);
    let n: number;
    try {
      n = e.translate(inputs.length, nowMs);
    } catch (err) {
      this.#dead = true;
      const what = err instanceof WebAssembly.RuntimeError
        ? `trap: ${err.message}`
        : `threw: ${(err as Error).message}`;
      return { outputs: [], problems: [{ slot: null, what }], trapped: true };
    }
    const problems: Problem[] = this.#guard.check(n).map((what) => ({ slot: null, what }));
    const outputs: Output[] = [];
    for (let j = 0; j < Math.min(n, this.#guard.layout.outCapacity); j++) {
      const addr = e.outputAddress(j), len = e.outputLength(j);
      const inMemory = addr + len <= e.bytes.length;
      outputs.push({
        addr,
        len,
        slot: e.outputSlot(j),
        kind: e.outputKind(j),
        bytes: inMemory ? e.bytes.slice(addr, addr + len) : new Uint8Array(),
      });
    }
    problems.push(...checkDescriptors(this.#guard.layout, inputs.length, outputs));
    for (let i = 0; i < inputs.length; i++) {
      const mine = outputs.filter((o) => o.slot === i);
      if (mine.length) problems.push(...checkSlotOutputs(i, infos[i], mine, this.config));
    }
    problems.push(...this.#checkCounters(before, e.counters(), infos));
    if (this.#twin) problems.push(...this.#compareTwin(inputs, nowMs, outputs));
    return { outputs, problems, trapped: false };
  }

  /** Runs the batch on the twin; inputs whose declared length runs past their bytes are left out (their canary is input). */
  #compareTwin(inputs: FuzzInput[], nowMs: number, outputs: Output[]): Problem[] {
    const twin = this.#twin!;
    const theirs = twin.run(inputs, nowMs);
    if (theirs.trapped) return [{ slot: null, what: "the twin engine trapped on a batch this one survived" }];
    const honest = (slot: number) =>
      (inputs[slot].declaredLen ?? inputs[slot].bytes.length) <= inputs[slot].bytes.length;
    for (let i = 0; i < inputs.length; i++) {
      if (!honest(i)) continue;
      const mine = outputs.filter((o) => o.slot === i), other = theirs.outputs.filter((o) => o.slot === i);
      const same = mine.length === other.length &&
        mine.every((o, k) =>
          o.kind === other[k].kind && o.bytes.length === other[k].bytes.length &&
          o.bytes.every((b, x) => b === other[k].bytes[x])
        );
      if (!same) {
        return [{
          slot: i,
          what: "outputs change with the bytes around the input in its slot: the engine reads outside the packet",
        }];
      }
    }
    return [];
  }

  /** Counters never go down, and each input with a usable length and version is counted in once. */
  #checkCounters(
    before: Record<string, bigint>,
    after: Record<string, bigint>,
    infos: (InputInfo & { version: number })[],
  ): Problem[] {
    const problems: Problem[] = [];
    for (const [name, value] of Object.entries(after)) {
      if (value < (before[name] ?? 0n)) {
        problems.push({ slot: null, what: `counter ${name} went down from ${before[name]} to ${value}` });
      }
    }
    // The engine reads the version nibble from the slot, so a lie past the bytes still counts.
    const countable = infos.filter((inp) => inp.declaredLen >= 1 && inp.declaredLen <= this.maxPacket)
      .filter((inp) => inp.version === 4 || inp.version === 6).length;
    const delta = (name: string) => (after[name] ?? 0n) - (before[name] ?? 0n);
    const counted = delta("packets_in_v4") + delta("packets_in_v6");
    if (counted !== BigInt(countable)) {
      problems.push({
        slot: null,
        what: `packets_in_v4 + packets_in_v6 grew by ${counted} for ${countable} usable inputs`,
      });
    }
    return problems;
  }
}

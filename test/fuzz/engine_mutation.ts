/**
 * The engine's mutation fuzzer: batches of mutated corpus packets, each group of seeds
 * run with its own cases' configuration, every batch judged by `engine_harness.ts`.
 * Deterministic for a seed: batch `b` draws everything from `subSeed(seed, b)`.
 * A problem that cannot be pinned on one slot is pinned by re-running each input of
 * the batch alone on a fresh engine.
 */

import { FUZZ_GEOMETRY, FuzzEngine, type FuzzInput } from "./engine_harness.ts";
import { allPackets, corpusSeeds, type SeedGroup } from "./corpus_seeds.ts";
import { mutate } from "./mutate.ts";
import { Prng, subSeed, toHex } from "./prng.ts";

/** One problem, with everything needed to reproduce it. */
export interface EngineFinding {
  /** Run seed and batch number: `--seed S --batch B` replays the batch. */
  seed: number;
  batch: number;
  flags: readonly string[];
  /** Hex of the input it is pinned on (null: only the whole batch shows it). */
  inputHex: string | null;
  /** The length written for the slot when it differs from the bytes. */
  declaredLen: number | null;
  ops: string[];
  problem: string;
  /** How many times this kind of problem was seen. */
  hits: number;
}

/** How long and how wide a run is. */
export interface MutationRun {
  suite: "siit" | "nat64";
  seed: number;
  /** Stop after this many batches ... */
  batches?: number;
  /** ... or at this `performance.now()` time, whichever comes first. */
  deadline?: number;
  /** First batch number (to replay one batch: `batches: 1`). */
  firstBatch?: number;
  /**
   * Give every other seed group a twin engine with other bytes around the inputs
   * (`FuzzEngine.create`), which catches reads outside the packet at twice the cost.
   */
  twin?: boolean;
  /** Called once per new kind of problem. */
  onFinding?: (f: EngineFinding) => void;
}

/** What a run did. */
export interface MutationStats {
  batches: number;
  inputs: number;
  outputs: number;
  traps: number;
  findings: EngineFinding[];
  seconds: number;
}

/** A problem's kind: its text with numbers taken out, so one bug is reported once. */
export function signature(problem: string): string {
  return problem.replace(/\d+/g, "#");
}

interface Drawn {
  input: FuzzInput;
  ops: string[];
}

function draw(rng: Prng, group: SeedGroup, pool: readonly Uint8Array[], maxPacket: number): Drawn {
  const seed = rng.chance(0.85) ? rng.pick(group.packets) : rng.pick(pool);
  const { bytes, ops } = rng.chance(0.05)
    ? { bytes: seed.slice(0, maxPacket), ops: ["none"] }
    : mutate(seed, rng, pool, maxPacket);
  if (!rng.chance(0.04)) return { input: { bytes }, ops };
  // Length lies: zero, past the slot, or past the bytes (the engine then reads the canary).
  const declaredLen = rng.pick([0, maxPacket + 1, Math.min(maxPacket, bytes.length + rng.range(1, 200))]);
  return { input: { bytes, declaredLen }, ops: [...ops, `declaredLen=${declaredLen}`] };
}

/** Runs the mutation fuzzer over the corpus seeds of `run.suite`. */
export function runMutation(run: MutationRun): MutationStats {
  const groups = corpusSeeds(run.suite);
  const pool = allPackets(groups);
  const engines = new Map<SeedGroup, FuzzEngine>();
  const bySignature = new Map<string, EngineFinding>();
  const stats: MutationStats = { batches: 0, inputs: 0, outputs: 0, traps: 0, findings: [], seconds: 0 };
  const started = performance.now();
  const first = run.firstBatch ?? 0;
  for (let b = first; b < first + (run.batches ?? Infinity); b++) {
    if (run.deadline !== undefined && performance.now() >= run.deadline) break;
    const rng = new Prng(subSeed(run.seed, b));
    const group = rng.pick(groups);
    let fe = engines.get(group);
    if (!fe || fe.dead) {
      fe = FuzzEngine.create(group.flags, FUZZ_GEOMETRY, (run.twin ?? false) && groups.indexOf(group) % 2 === 0);
      engines.set(group, fe);
    }
    const drawn = Array.from({ length: rng.range(1, fe.slotCount) }, () => draw(rng, group, pool, fe!.maxPacket));
    const report = fe.run(drawn.map((d) => d.input), b * 10);
    stats.batches++;
    stats.inputs += drawn.length;
    stats.outputs += report.outputs.length;
    if (report.trapped) stats.traps++;
    for (const p of report.problems) {
      const slot = p.slot ?? pin(group.flags, drawn.map((d) => d.input), b * 10);
      const key = signature(p.what);
      const known = bySignature.get(key);
      if (known) {
        known.hits++;
        continue;
      }
      const d = slot === null ? null : drawn[slot];
      const finding: EngineFinding = {
        seed: run.seed,
        batch: b,
        flags: group.flags,
        inputHex: d ? toHex(d.input.bytes) : null,
        declaredLen: d?.input.declaredLen ?? null,
        ops: d ? d.ops : drawn.flatMap((x) => x.ops),
        problem: p.what,
        hits: 1,
      };
      bySignature.set(key, finding);
      stats.findings.push(finding);
      run.onFinding?.(finding);
    }
  }
  stats.seconds = (performance.now() - started) / 1000;
  return stats;
}

/** The first input that shows a problem when run alone on a fresh engine, or null. */
function pin(flags: readonly string[], inputs: FuzzInput[], nowMs: number): number | null {
  for (let i = 0; i < inputs.length; i++) {
    if (FuzzEngine.create(flags).run([inputs[i]], nowMs).problems.length) return i;
  }
  return null;
}

/** One line per finding, for logs and test failures. */
export function describeFinding(f: EngineFinding): string {
  const input = f.inputHex === null
    ? "the whole batch"
    : `input ${f.inputHex}` + (f.declaredLen === null ? "" : ` declared length ${f.declaredLen}`);
  return `${f.problem} (seen ${f.hits}×) — seed ${f.seed} batch ${f.batch}, flags ${f.flags.join(" ")}, ops ${
    f.ops.join("+")
  }, ${input}`;
}

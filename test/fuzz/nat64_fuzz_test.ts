/**
 * The stateful NAT64 fuzz targets (RFC 6146): the mutation fuzzer over the corpus' nat64
 * suite, and model-checked scenarios (`nat64_model.ts`) with corpus junk in between.
 * Both wait for the engine to accept `--mode nat64` (`nat64_gate.ts`) and are skipped
 * with its reason, printed, until then.
 */

import fc from "fast-check";
import { type EngineOptions } from "../../src/engine/engine.ts";
import { FuzzEngine } from "./engine_harness.ts";
import { describeFinding, runMutation, signature } from "./engine_mutation.ts";
import { KNOWN_FINDINGS } from "./known_findings.ts";
import { actionsArb, MODEL_FLAGS, Nat64Model } from "./nat64_model.ts";
import { statefulUnavailable } from "./nat64_gate.ts";
import { allPackets, corpusSeeds } from "./corpus_seeds.ts";
import { mutate } from "./mutate.ts";
import { Prng } from "./prng.ts";

const unavailable = statefulUnavailable();
if (unavailable) console.log(`stateful NAT64 fuzz targets skipped: ${unavailable}`);

/** Seconds the stateful mutation run spends. */
const BUDGET_SECONDS = 6;
/** Small tables: scenarios use a handful of sessions, and every run makes a fresh engine. */
const MODEL_GEOMETRY: EngineOptions = { slotCount: 8, slotSize: 4096, sessionCapacity: 1024 };

Deno.test({
  name: "stateful: mutation fuzz with the Jool nat64 corpus: no trap, stray write, malformed output",
  ignore: unavailable !== null,
  fn: () => {
    const seed = Number(Deno.env.get("FUZZ_SEED") ?? 20240601);
    // No twin: pool4 allocation starts at a keyed-random port, so two engines differ by design.
    const stats = runMutation({
      suite: "nat64",
      seed,
      deadline: performance.now() + BUDGET_SECONDS * 1000,
      twin: false,
    });
    console.log(
      `seed ${seed}: ${stats.batches} batches, ${stats.inputs} inputs (${
        Math.round(stats.inputs / stats.seconds)
      }/s), ${stats.traps} traps`,
    );
    const unknown = stats.findings.filter((f) => !KNOWN_FINDINGS.has(signature(f.problem)));
    for (const f of stats.findings) if (!unknown.includes(f)) console.log(`known: ${describeFinding(f)}`);
    if (unknown.length) throw new Error(unknown.map(describeFinding).join("\n"));
  },
});

/** Batches of mutated nat64-corpus packets through `fe`; returns the harness' problems. */
function junk(fe: FuzzEngine, seed: number, batches: number, nowMs: number): string[] {
  const pool = allPackets(corpusSeeds("nat64"));
  const rng = new Prng(seed);
  const problems: string[] = [];
  for (let b = 0; b < batches; b++) {
    const inputs = Array.from(
      { length: rng.range(1, fe.slotCount) },
      () => ({ bytes: mutate(rng.pick(pool), rng, pool, fe.maxPacket).bytes }),
    );
    problems.push(...fe.run(inputs, nowMs + b).problems.map((p) => `junk seed ${seed} batch ${b}: ${p.what}`));
  }
  return problems;
}

Deno.test({
  name: "stateful: mappings stay endpoint-independent, unique and in pool4; sessions answer; junk changes none of it",
  ignore: unavailable !== null,
  fn: () => {
    fc.assert(
      fc.property(actionsArb, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (actions, junkSeed) => {
        const fe = FuzzEngine.create(MODEL_FLAGS, MODEL_GEOMETRY);
        const model = new Nat64Model(fe);
        const problems = actions.flatMap((a) => model.step(a));
        problems.push(...junk(fe, junkSeed, 8, 2_000_000));
        problems.push(...model.recheck());
        if (problems.length) throw new Error(problems.join("\n"));
      }),
      { numRuns: 150 },
    );
  },
});

/**
 * The bounded run of the engine's mutation fuzzer over the Jool corpus (SIIT suite):
 * a fixed seed (override with FUZZ_SEED) and a time budget, so it finishes in seconds
 * and replays the same batches every time. Known findings (`known_findings.ts`) are
 * printed; anything else fails the test with the seed and batch that reproduce it.
 */

import { describeFinding, runMutation, signature } from "./engine_mutation.ts";
import { KNOWN_FINDINGS } from "./known_findings.ts";

/** Seconds of fuzzing this test spends. */
const BUDGET_SECONDS = 14;

Deno.test("mutation fuzz of the SIIT engine with the Jool corpus: no trap, stray write or read, malformed output", () => {
  const seed = Number(Deno.env.get("FUZZ_SEED") ?? 20240601);
  const stats = runMutation({ suite: "siit", seed, deadline: performance.now() + BUDGET_SECONDS * 1000, twin: true });
  console.log(
    `seed ${seed}: ${stats.batches} batches, ${stats.inputs} inputs (${
      Math.round(stats.inputs / stats.seconds)
    }/s), ${stats.outputs} outputs, ${stats.traps} traps`,
  );
  const unknown = stats.findings.filter((f) => !KNOWN_FINDINGS.has(signature(f.problem)));
  for (const f of stats.findings) {
    if (!unknown.includes(f)) console.log(`known: ${KNOWN_FINDINGS.get(signature(f.problem))} — ${describeFinding(f)}`);
  }
  if (unknown.length) throw new Error(unknown.map(describeFinding).join("\n"));
  if (stats.batches < 1000) throw new Error(`only ${stats.batches} batches ran in ${BUDGET_SECONDS} s`);
});

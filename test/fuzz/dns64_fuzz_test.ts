/**
 * The bounded run of the DNS64 fuzzer: random, broken and damaged queries over UDP and
 * TCP against a listener whose upstream answers with damaged, looping, lying and silent
 * replies. The listener must answer every query that deserves it, with its ID and a
 * fitting RCODE, keep answering good queries, and keep its heap flat. Known findings
 * (`known_findings.ts`) are printed; anything else fails with the seed and round.
 */

import { describeDnsFinding, runDns64Fuzz, slope } from "./dns64_fuzz.ts";
import { knownDnsNote } from "./known_findings.ts";

/** Seconds of fuzzing this test spends. */
const BUDGET_SECONDS = 12;
/** The most the heap after a full GC may grow from the first half of the run to the second. */
const HEAP_GROWTH_LIMIT = 1.5e6;

Deno.test("DNS64 listener under fuzzed queries and a hostile upstream: answers as it should, stays up, heap stays flat", async () => {
  const seed = Number(Deno.env.get("FUZZ_SEED") ?? 20240601);
  const stats = await runDns64Fuzz({ seed, deadline: performance.now() + BUDGET_SECONDS * 1000 });
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(
    `seed ${seed}: ${stats.rounds} rounds, ${stats.queries} queries (${
      Math.round(stats.queries / stats.seconds)
    }/s), ${stats.answers} answers`,
  );
  console.log(
    `the listener logged ${stats.errorLines} internal error(s) it answered SERVFAIL, first: ${stats.firstErrorLine}`,
  );
  const unknown = stats.findings.filter((f) => knownDnsNote(f.problem) === null);
  for (const f of stats.findings) {
    if (!unknown.includes(f)) console.log(`known: ${knownDnsNote(f.problem)} — ${describeDnsFinding(f)}`);
  }
  if (unknown.length) throw new Error(unknown.map(describeDnsFinding).join("\n"));
  if (stats.rounds < 10) throw new Error(`only ${stats.rounds} rounds ran in ${BUDGET_SECONDS} s`);
  if (!stats.heap.length) {
    console.log("heap not measured: V8 offers no gc() here");
    return;
  }
  // The first rounds fill the cache and warm the JIT; compare the halves after them.
  const settled = stats.heap.slice(5);
  const half = Math.floor(settled.length / 2);
  const growth = mean(settled.slice(half)) - mean(settled.slice(0, half));
  console.log(
    `heap after GC: ${(settled[0] / 1e6).toFixed(2)} → ${(settled[settled.length - 1] / 1e6).toFixed(2)} MB, ${
      (slope(settled) / 1e3).toFixed(1)
    } kB/round`,
  );
  if (growth > HEAP_GROWTH_LIMIT) {
    throw new Error(`the heap grew ${(growth / 1e6).toFixed(2)} MB from the first half of the run to the second`);
  }
});

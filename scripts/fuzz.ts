/**
 * Long fuzz runs (`scripts/fuzz`): the engine's mutation fuzzer over the Jool corpus
 * (stateless `engine`, stateful `nat64`) or the DNS64 listener fuzzer (`dns64`), for a
 * number of seconds. Prints progress, the throughput (inputs/s or queries/s), every new
 * finding as it comes with what reproduces it, and for DNS64 the heap after GC per round.
 * Exits 1 when a finding is not in `test/fuzz/known_findings.ts`, 2 on bad flags.
 * The target is `engine` unless named; the seed is the clock unless given.
 *
 *   scripts/fuzz --seconds 300 [--seed S]
 *   scripts/fuzz --target engine --seed S --batch B      (replays one batch, prints it)
 *   scripts/fuzz --target nat64 --seconds 300
 *   scripts/fuzz --target dns64 --seconds 120
 */

import { parseArgs } from "node:util";
import { describeFinding, type EngineFinding, runMutation, signature } from "../test/fuzz/engine_mutation.ts";
import { describeDnsFinding, runDns64Fuzz, slope } from "../test/fuzz/dns64_fuzz.ts";
import { KNOWN_FINDINGS, knownDnsNote } from "../test/fuzz/known_findings.ts";
import { statefulUnavailable } from "../test/fuzz/nat64_gate.ts";

const USAGE = "usage: scripts/fuzz [--target engine|nat64|dns64] [--seconds N] [--seed S] [--batch B]";

interface Options {
  target: "engine" | "nat64" | "dns64";
  seconds: number;
  seed: number;
  batch: number | null;
}

/** The options, or a one-line error naming the flag. */
function options(args: string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        target: { type: "string" },
        seconds: { type: "string" },
        seed: { type: "string" },
        batch: { type: "string" },
      },
      strict: true,
    }).values;
  } catch (e) {
    throw new Error(`${(e as Error).message.split("\n")[0]}; ${USAGE}`);
  }
  const target = parsed.target ?? "engine";
  if (target !== "engine" && target !== "nat64" && target !== "dns64") {
    throw new Error(`--target must be engine, nat64 or dns64; ${USAGE}`);
  }
  const whole = (flag: string, text: string | undefined, fallback: number, min: number) => {
    if (text === undefined) return fallback;
    if (!/^\d+$/.test(text) || Number(text) < min) {
      throw new Error(`--${flag} "${text}" is not a whole number of at least ${min}`);
    }
    return Number(text);
  };
  const batch = parsed.batch === undefined ? null : whole("batch", parsed.batch, 0, 0);
  if (batch !== null && target === "dns64") {
    throw new Error("--batch replays an engine batch; dns64 has rounds, rerun with the seed");
  }
  return {
    target,
    seconds: whole("seconds", parsed.seconds, 60, 1),
    seed: whole("seed", parsed.seed, Date.now() % 2 ** 31, 0),
    batch,
  };
}

function isKnownEngine(f: EngineFinding): boolean {
  return KNOWN_FINDINGS.has(signature(f.problem));
}

/** Runs the engine fuzzer in slices of 10 s, printing progress between them. */
function engine(o: Options, suite: "siit" | "nat64"): boolean {
  if (suite === "nat64") {
    const reason = statefulUnavailable();
    if (reason) {
      console.log(`stateful NAT64 target skipped: ${reason}`);
      return true;
    }
  }
  // Twin engines catch reads outside the packet; pool4's keyed-random start makes NAT64 twins differ by design.
  const twin = suite === "siit";
  const onFinding = (f: EngineFinding) => console.log(`${isKnownEngine(f) ? "known" : "NEW"}: ${describeFinding(f)}`);
  if (o.batch !== null) {
    const s = runMutation({ suite, seed: o.seed, firstBatch: o.batch, batches: 1, twin, onFinding });
    console.log(
      `seed ${o.seed} batch ${o.batch}: ${s.inputs} inputs, ${s.outputs} outputs, ${s.findings.length} problem(s)`,
    );
    return s.findings.every(isKnownEngine);
  }
  console.log(`engine fuzz (${suite}), seed ${o.seed}, ${o.seconds} s${twin ? ", with twin engines" : ""}`);
  const end = performance.now() + o.seconds * 1000;
  const total = { batches: 0, inputs: 0, outputs: 0, traps: 0, seconds: 0 };
  const findings: EngineFinding[] = [];
  const seen = new Set<string>();
  while (performance.now() < end) {
    const s = runMutation({
      suite,
      seed: o.seed,
      firstBatch: total.batches,
      deadline: Math.min(end, performance.now() + 10_000),
      twin,
      onFinding: (f) => {
        if (seen.has(signature(f.problem))) return;
        seen.add(signature(f.problem));
        findings.push(f);
        onFinding(f);
      },
    });
    for (const k of ["batches", "inputs", "outputs", "traps", "seconds"] as const) total[k] += s[k];
    console.log(
      `  ${total.inputs} inputs in ${total.seconds.toFixed(0)} s: ${
        Math.round(total.inputs / total.seconds)
      } inputs/s, ${total.traps} traps, ${findings.length} kinds of finding`,
    );
  }
  console.log(
    `done: ${total.batches} batches, ${total.inputs} inputs, ${total.outputs} outputs, ${
      Math.round(total.inputs / total.seconds)
    } inputs/s, ${total.traps} traps`,
  );
  console.log(`findings: ${findings.length} (${findings.filter((f) => !isKnownEngine(f)).length} new)`);
  return findings.every(isKnownEngine);
}

async function dns64(o: Options): Promise<boolean> {
  console.log(`DNS64 fuzz, seed ${o.seed}, ${o.seconds} s`);
  const s = await runDns64Fuzz({
    seed: o.seed,
    deadline: performance.now() + o.seconds * 1000,
    onFinding: (f) => console.log(`${knownDnsNote(f.problem) ? "known" : "NEW"}: ${describeDnsFinding(f)}`),
  });
  console.log(
    `done: ${s.rounds} rounds, ${s.queries} queries, ${s.answers} answers, ${
      Math.round(s.queries / s.seconds)
    } queries/s`,
  );
  console.log(`upstream answers by mode: ${[...s.upstreamModes].map(([k, v]) => `${k} ${v}`).join(", ")}`);
  console.log(`the listener logged ${s.errorLines} internal error(s) it answered SERVFAIL, first: ${s.firstErrorLine}`);
  if (s.heap.length) {
    const mb = (x: number) => (x / 1e6).toFixed(2);
    const settled = s.heap.slice(5);
    console.log(
      `heap after GC: round 5 ${mb(settled[0] ?? s.heap[0])} MB, last ${mb(s.heap[s.heap.length - 1])} MB, min ${
        mb(Math.min(...settled))
      }, max ${mb(Math.max(...settled))}, slope ${(slope(settled) / 1e3).toFixed(1)} kB/round`,
    );
  } else {
    console.log("heap not measured: run with --v8-flags=--expose-gc");
  }
  console.log(`findings: ${s.findings.length} (${s.findings.filter((f) => !knownDnsNote(f.problem)).length} new)`);
  return s.findings.every((f) => knownDnsNote(f.problem) !== null);
}

let o: Options;
try {
  o = options(Deno.args);
} catch (e) {
  console.error(`fuzz: ${(e as Error).message}`);
  Deno.exit(2);
}
const clean = o.target === "dns64" ? await dns64(o) : engine(o, o.target === "nat64" ? "nat64" : "siit");
Deno.exit(clean ? 0 : 1);

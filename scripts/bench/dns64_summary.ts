/**
 * The DNS64 benchmark's arithmetic, apart from the processes it runs: reading a dnsperf
 * run, folding rounds into one figure per phase, the paired ratios, and the verdict on the
 * issue's target (cache-hot qps at least Unbound's, p99 latency at most Unbound's).
 *
 * Rounds are paired: in each round every server runs every phase back to back, the order
 * alternating from round to round, so a change in the machine's other load hits both
 * sides of a ratio alike. A figure is the median over rounds; a ratio is the median of
 * the rounds' own ratios. On a machine shared with other work, a burst of that work can
 * still hit one side of a pair only, and it only ever makes a run slower: so the ratio of
 * each side's least disturbed round (highest qps, lowest p99) is given too.
 *
 * @module
 */

import { median, percentile } from "./stats.ts";

/** One dnsperf run. Latency percentiles need dnsperf -v (one line per answer); without it they are null. */
export interface Run {
  readonly qps: number;
  readonly p50ms: number | null;
  readonly p99ms: number | null;
  readonly avgms: number;
  readonly lost: number;
}

/** The phases: cache-cold, cache-hot at full speed, cache-hot at full load with -v, cache-hot at a fixed rate with -v. */
export const PHASES = ["cold", "hot", "loaded", "latency"] as const;
export type Phase = typeof PHASES[number];

/** What one server did in one round, by phase (a phase left out was not run for it). */
export type RoundRuns = Partial<Record<Phase, Run>>;

/** Reads dnsperf's summary and, when it printed them (-v), each answer's latency. */
export function parseDnsperf(text: string): Run {
  const latencies: number[] = [];
  for (const line of text.split("\n")) {
    // "> NOERROR name AAAA 0.000123": the last field is the latency in seconds.
    if (line.startsWith("> ")) latencies.push(Number(line.slice(line.lastIndexOf(" ") + 1)) * 1000);
  }
  const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  return {
    qps: num(/Queries per second:\s+([\d.]+)/),
    p50ms: latencies.length ? percentile(latencies, 50) : null,
    p99ms: latencies.length ? percentile(latencies, 99) : null,
    avgms: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    lost: num(/Queries lost:\s+(\d+)/),
  };
}

/** The median of each figure over `runs` (those that have it); null when no run has it. */
export function medianRun(runs: readonly Run[]): Run | null {
  if (runs.length === 0) return null;
  const of = (pick: (r: Run) => number | null) => {
    const values = runs.map(pick).filter((v): v is number => v !== null && Number.isFinite(v));
    return values.length ? median(values) : null;
  };
  return {
    qps: of((r) => r.qps) ?? NaN,
    p50ms: of((r) => r.p50ms),
    p99ms: of((r) => r.p99ms),
    avgms: of((r) => r.avgms) ?? NaN,
    lost: of((r) => r.lost) ?? NaN,
  };
}

/** Each phase's median run over `rounds` of one server. */
export function medians(rounds: readonly RoundRuns[]): Partial<Record<Phase, Run>> {
  const out: Partial<Record<Phase, Run>> = {};
  for (const phase of PHASES) {
    const m = medianRun(rounds.flatMap((r) => (r[phase] ? [r[phase]!] : [])));
    if (m) out[phase] = m;
  }
  return out;
}

/** `ours`/`theirs` of `figure` in each round both have it, and their median (null when no round has both). */
export function pairedRatio(
  ours: readonly RoundRuns[],
  theirs: readonly RoundRuns[],
  phase: Phase,
  figure: (r: Run) => number | null,
): { readonly median: number | null; readonly rounds: number[] } {
  const rounds: number[] = [];
  for (let i = 0; i < Math.min(ours.length, theirs.length); i++) {
    const a = ours[i][phase], b = theirs[i][phase];
    const x = a ? figure(a) : null, y = b ? figure(b) : null;
    if (x !== null && y !== null && Number.isFinite(x) && Number.isFinite(y) && y > 0) rounds.push(x / y);
  }
  return { median: rounds.length ? median(rounds) : null, rounds };
}

/** How rounds become one ratio: the median of the paired rounds' ratios, or each side's best round. */
export type Method = "median" | "best";

/**
 * ours/theirs of `figure` in `phase` by `method`; for "best", the highest (or, with
 * `better` "lower", the lowest) value of each side. Null when a side has no value.
 */
export function ratioBy(
  method: Method,
  ours: readonly RoundRuns[],
  theirs: readonly RoundRuns[],
  phase: Phase,
  figure: (r: Run) => number | null,
  better: "higher" | "lower",
): number | null {
  if (method === "median") return pairedRatio(ours, theirs, phase, figure).median;
  const best = (rounds: readonly RoundRuns[]) => {
    const values = rounds.flatMap((r) => {
      const v = r[phase] ? figure(r[phase]!) : null;
      return v !== null && Number.isFinite(v) ? [v] : [];
    });
    if (values.length === 0) return null;
    return better === "higher" ? Math.max(...values) : Math.min(...values);
  };
  const a = best(ours), b = best(theirs);
  return a !== null && b !== null && b > 0 ? a / b : null;
}

/** The target, judged on rounds by one method. */
export interface Verdict {
  readonly method: Method;
  /** ours/Unbound cache-hot qps; the target is at least 1. */
  readonly hotQpsRatio: number | null;
  /** ours/Unbound p99 at full load (-v); the target is at most 1. */
  readonly loadedP99Ratio: number | null;
  /** The same at the fixed rate. */
  readonly fixedRateP99Ratio: number | null;
  readonly met: boolean;
}

/** Judges the target: qps at least Unbound's cache-hot, p99 at most Unbound's both at full load and at the fixed rate. */
export function verdict(ours: readonly RoundRuns[], unbound: readonly RoundRuns[], method: Method = "median"): Verdict {
  const hotQpsRatio = ratioBy(method, ours, unbound, "hot", (r) => r.qps, "higher");
  const loadedP99Ratio = ratioBy(method, ours, unbound, "loaded", (r) => r.p99ms, "lower");
  const fixedRateP99Ratio = ratioBy(method, ours, unbound, "latency", (r) => r.p99ms, "lower");
  const met = hotQpsRatio !== null && hotQpsRatio >= 1 && loadedP99Ratio !== null && loadedP99Ratio <= 1 &&
    fixedRateP99Ratio !== null && fixedRateP99Ratio <= 1;
  return { method, hotQpsRatio, loadedP99Ratio, fixedRateP99Ratio, met };
}

/** The order servers run in during round `round`: as given in even rounds, reversed in odd ones. */
export function roundOrder<T>(servers: readonly T[], round: number): T[] {
  return round % 2 === 0 ? [...servers] : [...servers].reverse();
}

/**
 * Several rounds of each column, one figure set out of them. On a shared machine other
 * people's work only ever makes a run slower, so the best round is the one least
 * disturbed: for each group of figures, the round with the best deciding figure gives
 * the whole group (a delivered rate comes with its own offered rate and loss, a TCP rate
 * with the CPU time measured during that same run).
 *
 * @module
 */

import { type ColumnResult, type ControlStatsResult, type MetricKey, type RoundResult } from "./report.ts";
import { median } from "./stats.ts";

/** Figures by metric key. */
export type Metrics = Partial<Record<MetricKey, number>>;

/** A figure that picks its round, which way is better, and the figures taken from that same round. */
interface Group {
  pick: MetricKey;
  better: "higher" | "lower";
  with: MetricKey[];
}

const GROUPS: readonly Group[] = [
  { pick: "tcp1Gbps", better: "higher", with: ["cpuPerGbps"] },
  { pick: "tcp4Gbps", better: "higher", with: [] },
  { pick: "tcp4QuietGbps", better: "higher", with: [] },
  { pick: "udp64Kpps", better: "higher", with: ["udp64OfferedKpps", "udp64LossPct"] },
  { pick: "udp64LosslessKpps", better: "higher", with: [] },
  { pick: "udp1400Kpps", better: "higher", with: ["udp1400OfferedKpps", "udp1400LossPct"] },
  { pick: "rttMedianUs", better: "lower", with: ["rttP99Us"] },
];

/** The best figures over `rounds`, group by group; a group no round measured is left out. */
export function bestOfRounds(rounds: readonly Metrics[]): Metrics {
  const best: Metrics = {};
  for (const g of GROUPS) {
    let chosen: Metrics | null = null;
    for (const r of rounds) {
      const v = r[g.pick];
      if (v === undefined) continue;
      const c = chosen?.[g.pick];
      if (c === undefined || (g.better === "higher" ? v > c : v < c)) chosen = r;
    }
    if (chosen === null) continue;
    for (const key of [g.pick, ...g.with]) {
      const v = chosen[key];
      if (v !== undefined) best[key] = v;
    }
  }
  return best;
}

/**
 * A column out of its rounds: "ok" if any round was, else the first round's status; the
 * distinct notes of all rounds; the best figures.
 */
export function columnOf(rounds: RoundResult[], pinning: string): ColumnResult {
  const ok = rounds.some((r) => r.status === "ok");
  return {
    status: ok ? "ok" : rounds[0]?.status ?? "skipped",
    note: [...new Set(rounds.map((r) => r.note).filter((n) => n !== ""))].join("; "),
    pinning,
    metrics: bestOfRounds(rounds.map((r) => r.metrics)),
    rounds,
  };
}

/**
 * One stats-check result out of several rounds: every query time together (the budget
 * holds only if it held in every round), the slowest CLI run, the worst timer lateness.
 */
export function mergeStats(results: readonly ControlStatsResult[]): ControlStatsResult | null {
  if (results.length === 0) return null;
  const failed = results.find((r) => r.status !== "ok");
  const times = results.flatMap((r) => r.timesMs);
  const maxOf = (xs: (number | null)[]) => {
    const known = xs.filter((x): x is number => x !== null);
    return known.length ? Math.max(...known) : null;
  };
  return {
    status: failed ? failed.status : "ok",
    note: failed ? failed.note : "",
    timesMs: times,
    medianMs: times.length ? median(times) : null,
    maxMs: times.length ? Math.max(...times) : null,
    budgetMs: results[0].budgetMs,
    cliMs: maxOf(results.map((r) => r.cliMs)),
    benchTimerLateMs: maxOf(results.map((r) => r.benchTimerLateMs)),
  };
}

/** Best of several rounds, group by group; a column out of its rounds; stats checks merged. */

import { deepStrictEqual as eq } from "node:assert/strict";
import { bestOfRounds, columnOf, mergeStats } from "../../scripts/bench/rounds.ts";
import { type ControlStatsResult, METRICS, type RoundResult } from "../../scripts/bench/report.ts";
import type { Metrics } from "../../scripts/bench/rounds.ts";

Deno.test("each group comes whole from the round with its best deciding figure", () => {
  const best = bestOfRounds([
    {
      tcp1Gbps: 1.5,
      cpuPerGbps: 0.6,
      udp64Kpps: 90,
      udp64OfferedKpps: 300,
      udp64LossPct: 70,
      rttMedianUs: 90,
      rttP99Us: 900,
    },
    {
      tcp1Gbps: 1.9,
      cpuPerGbps: 0.7,
      udp64Kpps: 60,
      udp64OfferedKpps: 100,
      udp64LossPct: 40,
      rttMedianUs: 80,
      rttP99Us: 5000,
    },
  ]);
  eq(best, {
    tcp1Gbps: 1.9, // higher is better; its CPU figure comes along even though the other round's was lower
    cpuPerGbps: 0.7,
    udp64Kpps: 90,
    udp64OfferedKpps: 300,
    udp64LossPct: 70,
    rttMedianUs: 80, // lower is better; its p99 comes along
    rttP99Us: 5000,
  });
});

Deno.test("a round that measured nothing of a group does not take part; no rounds, no figures", () => {
  eq(bestOfRounds([{}, { tcp4Gbps: 1 }, { tcp4Gbps: 0.5, udp1400Kpps: 7 }]), { tcp4Gbps: 1, udp1400Kpps: 7 });
  eq(bestOfRounds([]), {});
});

const round = (status: RoundResult["status"], note: string, metrics: RoundResult["metrics"]): RoundResult => ({
  status,
  note,
  busyPct: { before: 0, after: 0 },
  metrics,
});

Deno.test("a column is ok if any round was; notes once each; the best figures", () => {
  const rounds = [
    round("failed", "--mode siit; iperf3: the server has terminated", { tcp1Gbps: 1 }),
    round("ok", "--mode siit", { tcp1Gbps: 0.8, tcp4Gbps: 2 }),
    round("ok", "--mode siit", {}),
  ];
  eq(columnOf(rounds, "CPU 0"), {
    status: "ok",
    note: "--mode siit; iperf3: the server has terminated; --mode siit",
    pinning: "CPU 0",
    metrics: { tcp1Gbps: 1, tcp4Gbps: 2 },
    rounds,
  });
  eq(columnOf([round("unavailable", "not available yet", {})], "").status, "unavailable");
});

const stats = (timesMs: number[], extra: Partial<ControlStatsResult> = {}): ControlStatsResult => ({
  status: "ok",
  note: "",
  timesMs,
  medianMs: null,
  maxMs: null,
  budgetMs: 50,
  cliMs: 200,
  benchTimerLateMs: 1,
  ...extra,
});

Deno.test("stats checks merged: all query times together, the slowest CLI, the latest timers, any failure", () => {
  eq(mergeStats([stats([1, 2, 30]), stats([4, 70], { cliMs: 300, benchTimerLateMs: 0.5 })]), {
    status: "ok",
    note: "",
    timesMs: [1, 2, 30, 4, 70],
    medianMs: 4,
    maxMs: 70,
    budgetMs: 50,
    cliMs: 300,
    benchTimerLateMs: 1,
  });
  eq(mergeStats([stats([1]), stats([], { status: "failed", note: "no socket", cliMs: null })])?.note, "no socket");
  eq(mergeStats([]), null);
});

Deno.test("every metric of the table belongs to a group: a round that measured all keeps all", () => {
  const all = Object.fromEntries(METRICS.map((m, i) => [m.key, i + 1])) as Metrics;
  eq(Object.keys(bestOfRounds([all])).sort(), METRICS.map((m) => m.key).sort());
});

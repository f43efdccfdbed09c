/** The DNS64 benchmark's arithmetic: dnsperf output, medians over rounds, paired ratios, the target's verdict. */

import { deepStrictEqual as eq } from "node:assert/strict";
import {
  medianRun,
  medians,
  pairedRatio,
  parseDnsperf,
  ratioBy,
  roundOrder,
  type RoundRuns,
  type Run,
  verdict,
} from "../../scripts/bench/dns64_summary.ts";

const run = (qps: number, p99ms: number | null = null): Run => ({ qps, p50ms: null, p99ms, avgms: 0.2, lost: 0 });

Deno.test("dnsperf: the summary figures, and percentiles from the -v lines when there are any", () => {
  const summary = `Statistics:

  Queries sent:         300
  Queries completed:    299 (99.67%)
  Queries lost:         1 (0.33%)

  Queries per second:   149.512345
  Average Latency (s):  0.000250 (min 0.000010, max 0.004000)
`;
  const lines = Array.from({ length: 100 }, (_, i) => `> NOERROR h${i}.bench.example AAAA 0.000${100 + i}`);
  const verbose = parseDnsperf(`[Status] Command line: dnsperf\n${lines.join("\n")}\n${summary}`);
  eq([verbose.qps, verbose.p50ms?.toFixed(3), verbose.p99ms?.toFixed(3), verbose.avgms, verbose.lost], [
    149.512345,
    "0.149",
    "0.198",
    0.25,
    1,
  ]);
  const quiet = parseDnsperf(summary);
  eq([quiet.p50ms, quiet.p99ms, quiet.qps], [null, null, 149.512345]);
});

Deno.test("medians are taken figure by figure; a figure no run has stays null", () => {
  eq(medianRun([run(100, 2), run(300, 1), run(200, null)]), { qps: 200, p50ms: null, p99ms: 1.5, avgms: 0.2, lost: 0 });
  eq(medianRun([]), null);
  const rounds: RoundRuns[] = [{ hot: run(1) }, { hot: run(3), cold: run(7) }, { hot: run(2) }];
  eq(medians(rounds), { hot: run(2), cold: run(7) });
});

Deno.test("ratios pair the rounds: a round that slowed both sides does not move the median", () => {
  // Round 2 ran while something else took the machine: both sides at a tenth.
  const ours: RoundRuns[] = [{ hot: run(110) }, { hot: run(12) }, { hot: run(120) }];
  const theirs: RoundRuns[] = [{ hot: run(100) }, { hot: run(10) }, { hot: run(100) }];
  const r = pairedRatio(ours, theirs, "hot", (x) => x.qps);
  eq(r.rounds.map((x) => x.toFixed(2)), ["1.10", "1.20", "1.20"]);
  eq(r.median?.toFixed(2), "1.20");
  eq(pairedRatio(ours, theirs, "cold", (x) => x.qps), { median: null, rounds: [] });
});

Deno.test("the target needs qps at least Unbound's and p99 at most Unbound's, at full load and at the fixed rate", () => {
  const side = (qps: number, loaded: number, fixed: number): RoundRuns[] =>
    [1, 2, 3].map(() => ({ hot: run(qps), loaded: run(qps, loaded), latency: run(5000, fixed) }));
  const unbound = side(100, 1, 0.3);
  eq(verdict(side(100, 1, 0.3), unbound).met, true);
  eq(verdict(side(99, 0.5, 0.1), unbound).met, false);
  eq(verdict(side(150, 1.1, 0.1), unbound).met, false);
  const slowFixed = verdict(side(150, 0.5, 0.4), unbound);
  eq([slowFixed.met, slowFixed.hotQpsRatio, slowFixed.loadedP99Ratio], [false, 1.5, 0.5]);
  eq(verdict([], unbound).met, false);
});

Deno.test("by each side's best round: the highest qps and the lowest p99, whichever rounds they came from", () => {
  const ours: RoundRuns[] = [
    { hot: run(90), loaded: run(90, 2), latency: run(5000, 0.2) },
    { hot: run(130), loaded: run(130, 0.5), latency: run(5000, 3) },
  ];
  const unbound: RoundRuns[] = [
    { hot: run(100), loaded: run(100, 1), latency: run(5000, 0.4) },
    { hot: run(60), loaded: run(60, 4), latency: run(5000, 0.3) },
  ];
  const best = verdict(ours, unbound, "best");
  eq([best.hotQpsRatio, best.loadedP99Ratio, best.fixedRateP99Ratio?.toFixed(2), best.met], [1.3, 0.5, "0.67", true]);
  // The same rounds paired: round 1 is behind on qps, round 2 on the fixed-rate p99.
  const median = verdict(ours, unbound, "median");
  eq([median.hotQpsRatio?.toFixed(2), median.met], ["1.53", false]);
  eq(ratioBy("best", ours, [], "hot", (r) => r.qps, "higher"), null);
});

Deno.test("the servers take turns going first", () => {
  eq([0, 1, 2].map((r) => roundOrder(["ours", "unbound"], r)), [["ours", "unbound"], ["unbound", "ours"], [
    "ours",
    "unbound",
  ]]);
});

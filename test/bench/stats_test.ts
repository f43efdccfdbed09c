/** Median and nearest-rank percentiles of latency samples. */

import { deepStrictEqual as eq, throws } from "node:assert/strict";
import { median, percentile } from "../../scripts/bench/stats.ts";

Deno.test("median of odd and even counts, in any order", () => {
  eq(median([3, 1, 2]), 2);
  eq(median([4, 1, 3, 2]), 2.5);
  eq(median([7]), 7);
});

Deno.test("nearest-rank percentile: p99 of 1..100 is 99, p100 the largest, p1 the smallest", () => {
  const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
  eq(percentile(xs, 99), 99);
  eq(percentile(xs, 100), 100);
  eq(percentile(xs, 1), 1);
  eq(percentile([5, 1], 50), 1);
  eq(percentile([5, 1], 51), 5);
});

Deno.test("no samples, or a percentile outside (0, 100], is refused", () => {
  throws(() => median([]), { message: "median of no samples" });
  throws(() => percentile([], 50), { message: "percentile of no samples" });
  throws(() => percentile([1], 0), { message: "percentile 0 is outside (0, 100]" });
  throws(() => percentile([1], 101), { message: "percentile 101 is outside (0, 100]" });
});

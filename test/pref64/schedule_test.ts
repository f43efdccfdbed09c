/** RFC 4861 advertisement timing: intervals, the initial cap, solicited delays and their rate limit. */

import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { minRtrAdvIntervalS, nextUnsolicitedDelayMs, solicitedDelayMs } from "../../src/pref64/schedule.ts";

Deno.test("MinRtrAdvInterval: 0.33 × Max from 9 s, 0.75 × Max below (never under 3 s)", () => {
  eq(minRtrAdvIntervalS(600), 198);
  eq(minRtrAdvIntervalS(9), 3);
  eq(minRtrAdvIntervalS(100), 33);
  eq(minRtrAdvIntervalS(8), 6);
  eq(minRtrAdvIntervalS(4), 3);
});

Deno.test("unsolicited delays span [Min, Max]; the first three are capped at 16 s", () => {
  eq(nextUnsolicitedDelayMs(600, 3, () => 0), 198_000);
  eq(nextUnsolicitedDelayMs(600, 3, () => 1), 600_000);
  eq(nextUnsolicitedDelayMs(600, 0, () => 0.5), 16_000);
  eq(nextUnsolicitedDelayMs(600, 2, () => 0), 16_000);
  eq(Math.round(nextUnsolicitedDelayMs(10, 0, () => 0)), 3_300);
  const d = nextUnsolicitedDelayMs(4, 5, () => 0.5);
  ok(d >= 3000 && d <= 4000);
});

Deno.test("solicited answers: up to 500 ms of jitter, and at least 3 s after the last multicast RA", () => {
  eq(solicitedDelayMs(10_000, undefined, () => 0.5), 250);
  eq(solicitedDelayMs(10_000, 1_000, () => 0.999), 499.5);
  eq(solicitedDelayMs(10_000, 9_000, () => 0), 2_000);
  eq(solicitedDelayMs(10_000, 9_000, () => 0.999), 2_000);
  eq(solicitedDelayMs(10_000, 7_000, () => 0), 0);
});

/** The datapath worker's periodic work: run when due, each at most once a call, the wait bounded by the next. */

import { deepStrictEqual as eq } from "node:assert/strict";
import { Schedule } from "../../src/datapath/schedule.ts";

Deno.test("tasks run when due, say when they are due again, and the next due bounds the wait", () => {
  let now = 0;
  const runs: string[] = [];
  const s = new Schedule(() => now);
  s.every(100, () => (runs.push(`a@${now}`), 100));
  s.every(30, () => (runs.push(`b@${now}`), 50));
  eq(s.runDue(), 30);
  now = 30;
  eq(s.runDue(), 50);
  now = 100;
  // a is due, b overdue since 80: both run, and b is next, 50 ms on.
  eq(s.runDue(), 50);
  eq(runs, ["b@30", "a@100", "b@100"]);
});

Deno.test("a task due again at once runs once per call, so other work gets its turn between", () => {
  const now = 0;
  let steps = 0;
  const s = new Schedule(() => now);
  s.every(0, () => (steps++, 0));
  eq(s.runDue(), 0);
  eq(s.runDue(), 0);
  eq(steps, 2);
});

Deno.test("nothing scheduled: no deadline", () => {
  eq(new Schedule(() => 0).runDue(), Infinity);
});

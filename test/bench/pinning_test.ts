/** CPU placement by column and CPU count, and how it is described. */

import { deepStrictEqual as eq } from "node:assert/strict";
import { describePinning, pinningFor, taskset } from "../../scripts/bench/pinning.ts";

Deno.test("two CPUs: the translator alone on CPU 0, client and server on CPU 1 in every column", () => {
  eq(pinningFor(2, true), { translator: 0, client: 1, server: 1 });
  eq(pinningFor(2, false), { translator: null, client: 1, server: 1 });
});

Deno.test("one CPU: nothing pinned; three or more: one CPU each", () => {
  eq(pinningFor(1, true), { translator: null, client: null, server: null });
  eq(pinningFor(8, true), { translator: 0, client: 1, server: 2 });
  eq(pinningFor(8, false), { translator: null, client: 1, server: 2 });
});

Deno.test("taskset prefixes and the one-line description", () => {
  eq(taskset(1), ["taskset", "-c", "1"]);
  eq(taskset(null), []);
  eq(describePinning(pinningFor(2, true)), "translator CPU 0, iperf3 client CPU 1, iperf3 server CPU 1");
  eq(describePinning(pinningFor(1, false)), "iperf3 client unpinned, iperf3 server unpinned");
});

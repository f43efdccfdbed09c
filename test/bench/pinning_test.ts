/** CPU placement by column and CPU count, and how it is described. */

import { deepStrictEqual as eq } from "node:assert/strict";
import { describePinning, pinningFor, rpsMask, taskset } from "../../scripts/bench/pinning.ts";

Deno.test("two CPUs: the gateway's receive work and translator on CPU 0, client and server on CPU 1", () => {
  eq(pinningFor(2, true), { gatewayRx: 0, translator: 0, client: 1, server: 1 });
  eq(pinningFor(2, false), { gatewayRx: 0, translator: null, client: 1, server: 1 });
});

Deno.test("one CPU: nothing pinned; three or more: one CPU each", () => {
  eq(pinningFor(1, true), { gatewayRx: null, translator: null, client: null, server: null });
  eq(pinningFor(8, true), { gatewayRx: 0, translator: 0, client: 1, server: 2 });
  eq(pinningFor(8, false), { gatewayRx: 0, translator: null, client: 1, server: 2 });
});

Deno.test("taskset prefixes and the one-line description", () => {
  eq(taskset(1), ["taskset", "-c", "1"]);
  eq(taskset(null), []);
  eq(
    describePinning(pinningFor(2, true)),
    "gateway receive (RPS) CPU 0, translator CPU 0, iperf3 client CPU 1, iperf3 server CPU 1",
  );
  eq(
    describePinning(pinningFor(1, false)),
    "gateway receive (RPS) unpinned, iperf3 client unpinned, iperf3 server unpinned",
  );
});

Deno.test("RPS masks: one bit per CPU in hexadecimal, 0 for off", () => {
  eq(rpsMask(0), "1");
  eq(rpsMask(5), "20");
  eq(rpsMask(67), "8" + "0".repeat(16));
  eq(rpsMask(null), "0");
});

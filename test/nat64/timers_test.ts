/**
 * The host's NAT64 timers: a tick runs one budgeted `expire` at the host clock and
 * writes what it sends; the schedule ticks every interval, and again at once while the
 * engine says more is due.
 */

import { deepStrictEqual as eq } from "node:assert/strict";
import { type ExpiringEngine, SessionTimers } from "../../src/nat64/timers.ts";
import type { ExpireResult } from "../../src/engine/engine.ts";

/** An engine whose `expire` answers from a script and records what it was asked. */
class ScriptedEngine implements ExpiringEngine {
  readonly calls: [number, number][] = [];
  constructor(readonly script: ExpireResult[]) {}
  expire(nowMs: number, budget: number): ExpireResult {
    this.calls.push([nowMs, budget]);
    return this.script.shift() ?? { outputs: 0, more: false };
  }
  outputAddress(j: number): number {
    return 1000 + 100 * j;
  }
  outputLength(j: number): number {
    return 60 + j;
  }
  vnetOutOffset(j: number): number {
    return 16 * j;
  }
}

Deno.test("a tick asks the engine at the host clock and writes each output it describes", () => {
  const engine = new ScriptedEngine([{ outputs: 2, more: false }]);
  const writes: [number, number, number][] = [];
  const write = (at: number, len: number, header: number) => (writes.push([at, len, header]), at === 1000 ? len : -5);
  const timers = new SessionTimers(engine, { write }, {
    clock: () => 4242,
    budget: 77,
  });
  eq(timers.tick(), false);
  eq(engine.calls, [[4242, 77]]);
  // Each packet goes with its own offload header.
  eq(writes, [[1000, 60, 0], [1100, 61, 16]]);
  eq([timers.stats.ticks, timers.stats.packetsWritten, timers.stats.writeErrors], [1, 1, 1]);
});

Deno.test("while more is due the next step is due at once, then after the interval", () => {
  const engine = new ScriptedEngine([{ outputs: 0, more: true }, { outputs: 0, more: false }]);
  const timers = new SessionTimers(engine, { write: (_, len) => len }, { intervalMs: 40, clock: () => 7 });
  eq(timers.intervalMs, 40);
  eq(timers.step(), 0);
  eq(timers.step(), 40);
  eq([engine.calls.length, timers.stats.busyTicks], [2, 1]);
});

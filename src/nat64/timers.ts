/**
 * The stateful NAT64 timers (RFC 6146 §4 lifetimes): the host owns the clock and the
 * schedule, the engine is told "now". Once a second, or again as soon as the engine
 * says more is due, one `expire` call removes what outlived its lifetime; the packets
 * it asks to send (the answer to a stored SYN that waited in vain, the probe of an idle
 * TCP connection) go to the TUN like a batch's outputs.
 *
 * The engine only looks at the heads of its expiry queues, so a tick costs what
 * expires, not what lives; the budget bounds one call, so a mass expiry is spread over
 * several ticks with batches in between. The datapath worker runs the ticks on its own
 * thread between two batches (`src/datapath/schedule.ts`), so a tick may use the
 * engine's slots.
 *
 * @module
 */

import type { ExpireResult } from "../engine/engine.ts";

/** The part of the engine the timers drive. */
export interface ExpiringEngine {
  /** Runs the timers at `nowMs` for at most `budget` due entries. */
  expire(nowMs: number, budget: number): ExpireResult;
  /** Memory offset of output `j`. */
  outputAddress(j: number): number;
  /** Byte length of output `j`. */
  outputLength(j: number): number;
  /** Memory offset of the offload header of output `j`. */
  vnetOutOffset(j: number): number;
}

/** Where the timers' packets go: bytes written or -errno, like the datapath's port. */
export interface PacketWriter {
  write(offset: number, length: number, header: number): number;
}

/** Schedule and bounds of the timers. */
export interface TimerOptions {
  /** Milliseconds between ticks while nothing more is due (default 1000). */
  intervalMs?: number;
  /** Due entries one tick handles at most (default 16384). */
  budget?: number;
  /** The monotonic clock the engine's lifetimes run on (default `performance.now`). */
  clock?: () => number;
  /** Called after every tick (the worker publishes its counters). */
  afterTick?: () => void;
}

/** What the timers have done; read at any time. */
export class TimerStats {
  /** `expire` calls. */
  ticks = 0;
  /** Packets the timers wrote to the TUN. */
  packetsWritten = 0;
  /** Writes that failed or wrote short. */
  writeErrors = 0;
  /** Ticks that found more due than the budget allowed (rescheduled at once). */
  busyTicks = 0;
}

/** The running timers of one engine. */
export class SessionTimers {
  /** Counters of the ticks and their packets. */
  readonly stats = new TimerStats();
  readonly #engine: ExpiringEngine;
  readonly #out: PacketWriter;
  readonly #intervalMs: number;
  readonly #budget: number;
  readonly #clock: () => number;
  readonly #afterTick: () => void;

  constructor(engine: ExpiringEngine, out: PacketWriter, opts: TimerOptions = {}) {
    this.#engine = engine;
    this.#out = out;
    this.#intervalMs = opts.intervalMs ?? 1000;
    this.#budget = opts.budget ?? 16384;
    this.#clock = opts.clock ?? (() => performance.now());
    this.#afterTick = opts.afterTick ?? (() => {});
  }

  /** Milliseconds between ticks while nothing more is due. */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Runs one tick; returns the milliseconds until the next is due (0 while more is due now). */
  step(): number {
    return this.tick() ? 0 : this.#intervalMs;
  }

  /** Runs one tick now: expires what is due, writes what it sends; returns whether more is due. */
  tick(): boolean {
    const r = this.#engine.expire(this.#clock(), this.#budget);
    this.stats.ticks++;
    for (let j = 0; j < r.outputs; j++) {
      const len = this.#engine.outputLength(j);
      const written = this.#out.write(this.#engine.outputAddress(j), len, this.#engine.vnetOutOffset(j));
      if (written === len) this.stats.packetsWritten++;
      else this.stats.writeErrors++;
    }
    if (r.more) this.stats.busyTicks++;
    this.#afterTick();
    return r.more;
  }
}

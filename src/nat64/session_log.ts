/**
 * The per-session log (`log-sessions`): every 100 ms while it is on (the datapath
 * worker's schedule calls {@link SessionLog.step}), when it is turned off, and once more
 * at stop, takes the session and BIB events the engine recorded and hands them to the
 * logger, which writes one rate-limited line each. The engine keeps at most a few thousand events between
 * two takes and counts the rest as lost; 100 ms keeps that above any rate worth
 * logging line by line, and the lost ones are reported with the rate-limited ones.
 *
 * The datapath's batches are synchronous, so a take always runs between two of them
 * and reads the records before the engine writes new ones.
 *
 * @module
 */

import type { SessionEvent } from "../engine/session_events.ts";
import type { Logger } from "../control/logger.ts";

/** The part of the engine the session log reads. */
export interface EventSource {
  /** Takes the events recorded since the last take; returns how many. */
  takeSessionEvents(): number;
  /** Event `i` of the last take. */
  sessionEvent(i: number): SessionEvent;
  /** Events the engine could not record, since start. */
  sessionEventsLost(): number;
}

/** Where the events go: the logger, or (in a datapath worker) a message to it. */
export type SessionLines = Pick<Logger, "sessionEvents" | "sessionEventsLost">;

/** Milliseconds between two takes. */
export const DRAIN_INTERVAL_MS = 100;

/** Takes the engine's events into the log while session lines are on. */
export class SessionLog {
  readonly #engine: EventSource;
  readonly #logger: SessionLines;
  readonly #intervalMs: number;
  #lost: number;
  #on = false;

  constructor(engine: EventSource, logger: SessionLines, intervalMs = DRAIN_INTERVAL_MS) {
    this.#engine = engine;
    this.#logger = logger;
    this.#intervalMs = intervalMs;
    this.#lost = engine.sessionEventsLost();
  }

  /** Takes and logs what the engine recorded; returns how many events there were. */
  drain(): number {
    const n = this.#engine.takeSessionEvents();
    if (n) this.#logger.sessionEvents(n, (i) => this.#engine.sessionEvent(i));
    const lost = this.#engine.sessionEventsLost();
    if (lost > this.#lost) this.#logger.sessionEventsLost(lost - this.#lost);
    this.#lost = lost;
    return n;
  }

  /** Drains at every {@link SessionLog.step} while `on`; turning it off drains what is left first. */
  run(on: boolean): void {
    if (this.#on && !on) this.drain();
    this.#on = on;
  }

  /** The periodic take: drains while on; returns the milliseconds until the next. */
  step(): number {
    if (this.#on) this.drain();
    return this.#intervalMs;
  }

  /** Stops draining, after a last take. */
  stop(): void {
    this.#on = false;
    this.drain();
  }
}

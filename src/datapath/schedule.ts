/**
 * Periodic work of a datapath worker, run on its own thread between batches: the NAT64
 * timers, the session log's takes. The worker's thread blocks in `poll` and gives its
 * event loop a turn only when the main thread has posted a request (a turn costs a
 * millisecond or more on a busy CPU, during which packets pile up in the TUN queue),
 * so timers of the event loop would run late or not at all; these run when due, and
 * the wait in `poll` ends no later than the next of them.
 *
 * @module
 */

/** One piece of periodic work. */
interface Task {
  /** When it is next due, on the schedule's clock. */
  due: number;
  /** Runs it; returns the milliseconds until it is due again (0: at once). */
  step: () => number;
}

/** Periodic work run when due by whoever calls {@link Schedule.runDue}. */
export class Schedule {
  readonly #tasks: Task[] = [];
  readonly #clock: () => number;

  /** `clock`: milliseconds, monotonic (default `performance.now`). */
  constructor(clock: () => number = () => performance.now()) {
    this.#clock = clock;
  }

  /** Adds `step`, first due `firstDelayMs` from now; each run says when it is due again. */
  every(firstDelayMs: number, step: () => number): void {
    this.#tasks.push({ due: this.#clock() + firstDelayMs, step });
  }

  /**
   * Runs every task that is due (each once: a task due again at once waits for the
   * next call, so a burst of due work cannot hold the thread); returns the milliseconds
   * until the next is due, `Infinity` when there is none.
   */
  runDue(): number {
    // One clock read a call: it runs before every wait, and performance.now() costs a
    // quarter of a microsecond here. The steps are short; their own time is not waited for.
    const now = this.#clock();
    let next = Infinity;
    for (const task of this.#tasks) {
      if (task.due <= now) task.due = now + task.step();
      next = Math.min(next, task.due - now);
    }
    return Math.max(0, next);
  }
}

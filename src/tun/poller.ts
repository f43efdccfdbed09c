/**
 * Waiting until a TUN descriptor has packets, without blocking the event loop.
 *
 * One `poll(2)` covers two descriptors: the TUN and an eventfd. `poll` runs on a Deno
 * worker thread (`nonblocking: true` FFI) and resolves one Promise per batch, not per
 * packet. Writing the eventfd ({@link Poller.wake}) ends a pending wait at once, which
 * is how the datapath stops without a poll timeout.
 *
 * @module
 */

import { EFD_CLOEXEC, EFD_NONBLOCK, Libc, POLLERR, POLLHUP, POLLIN, POLLNVAL, SysError } from "./libc.ts";

/** What a wait found. */
export const Wakeup = {
  /** The TUN has packets to read. */
  READABLE: 0,
  /** {@link Poller.wake} was called. */
  WOKEN: 1,
  /** The TUN reported an error or hang-up: its device was deleted. */
  DEVICE_ERROR: 2,
  /** `poll` itself failed (an interrupted call); waiting again is safe. */
  POLL_FAILED: 3,
} as const;

/** One of the {@link Wakeup} values. */
export type WakeupKind = typeof Wakeup[keyof typeof Wakeup];

const POLLFD_SIZE = 8;
/** `revents` of pollfd `i` as an index into an Int16Array over the pollfd array. */
const revents = (i: number) => i * 4 + 3;
const events = (i: number) => i * 4 + 2;

/** Waits for one descriptor to become readable, or for a wake-up. */
export class Poller {
  readonly #libc: Libc;
  readonly #wakeFd: number;
  readonly #fds = new Uint8Array(2 * POLLFD_SIZE);
  readonly #shorts = new Int16Array(this.#fds.buffer);
  readonly #one = new Uint8Array(new BigUint64Array([1n]).buffer);
  readonly #drain = new Uint8Array(8);
  #closed = false;

  /** Watches `fd` (a non-blocking TUN); throws one sentence if no eventfd can be made. */
  constructor(libc: Libc, fd: number) {
    this.#libc = libc;
    const wakeFd = libc.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakeFd < 0) throw new SysError("create the datapath wake-up eventfd", -wakeFd);
    this.#wakeFd = wakeFd;
    const ints = new Int32Array(this.#fds.buffer);
    ints[0] = fd;
    ints[2] = wakeFd;
    this.#shorts[events(0)] = POLLIN;
    this.#shorts[events(1)] = POLLIN;
  }

  /** Resolves when the descriptor is readable, on error, or when woken. */
  async wait(): Promise<WakeupKind> {
    this.#shorts[revents(0)] = 0;
    this.#shorts[revents(1)] = 0;
    const rc = await this.#libc.pollAsync(this.#fds, 2, -1);
    return rc < 0 ? Wakeup.POLL_FAILED : this.#classify();
  }

  /**
   * The same wait as a blocking call on this thread, for at most `timeoutMs`: for a
   * datapath that runs in a Worker of its own (see {@link WorkerReadiness}). A timeout
   * reports `READABLE`, and the read that follows finds nothing.
   */
  waitBlocking(timeoutMs: number): WakeupKind {
    this.#shorts[revents(0)] = 0;
    this.#shorts[revents(1)] = 0;
    return this.#libc.poll(this.#fds, 2, timeoutMs) < 0 ? Wakeup.POLL_FAILED : this.#classify();
  }

  /** Makes a pending or the next {@link Poller.wait} return `WOKEN`. Safe to repeat. */
  wake(): void {
    if (!this.#closed) this.#libc.writeBuffer(this.#wakeFd, this.#one);
  }

  /** The wake-up descriptor, for another thread to write to (see `src/datapath/queue.ts`). */
  get wakeFd(): number {
    return this.#wakeFd;
  }

  /** Clears the wake-ups so far: the next wait reports `WOKEN` only for a new one. */
  clearWake(): void {
    if (!this.#closed) this.#libc.readBuffer(this.#wakeFd, this.#drain);
  }

  /** Closes the eventfd; call only when no wait is pending. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#libc.close(this.#wakeFd);
  }

  #classify(): WakeupKind {
    if (this.#shorts[revents(1)] & POLLIN) return Wakeup.WOKEN;
    const ready = this.#shorts[revents(0)];
    if (ready & (POLLERR | POLLHUP | POLLNVAL)) return Wakeup.DEVICE_ERROR;
    return Wakeup.READABLE;
  }
}

/**
 * Readiness for a datapath in a Worker of its own: the thread blocks in `poll` itself, so
 * a packet wakes the thread that translates it (one wake-up, as in a C translator;
 * {@link Poller.wait} goes through a helper thread and the event loop, two). The
 * Worker's event loop gets a turn only when another thread writes the wake-up
 * descriptor after posting it a message: a turn takes a millisecond or more on a busy
 * CPU while the TUN queue fills. Periodic work runs on this thread instead: `due()` runs
 * what is due and says how long until the next, which bounds the wait. While a request
 * still runs on the event loop (`busy()`: a state save waiting on file I/O), every wait
 * is a turn, so it finishes.
 */
export class WorkerReadiness {
  readonly #poller: Poller;
  readonly #due: () => number;
  readonly #busy: () => boolean;
  readonly #maxWaitMs: number;

  /**
   * `due`: runs due periodic work, returns ms until more is due; `busy`: whether a request
   * is still running on the event loop; waits last `maxWaitMs` at most.
   */
  constructor(poller: Poller, due: () => number, busy: () => boolean, maxWaitMs = 1000) {
    this.#poller = poller;
    this.#due = due;
    this.#busy = busy;
    this.#maxWaitMs = maxWaitMs;
  }

  /** Blocks until the TUN is readable or due work is, or gives the event loop its turn after a wake-up. */
  wait(): WakeupKind | Promise<WakeupKind> {
    if (this.#busy()) {
      this.#poller.clearWake();
      return this.#turn();
    }
    const timeout = Math.min(this.#due(), this.#maxWaitMs);
    const woke = this.#poller.waitBlocking(Math.ceil(timeout));
    if (woke !== Wakeup.WOKEN) return woke;
    this.#poller.clearWake();
    return this.#turn();
  }

  /** Wakes a blocked {@link WorkerReadiness.wait}. */
  wake(): void {
    this.#poller.wake();
  }

  /** Lets the event loop take its messages (a macrotask, without a timer's delay), then reports `READABLE`. */
  async #turn(): Promise<WakeupKind> {
    await new Promise<void>((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
    return Wakeup.READABLE;
  }
}

/**
 * A token bucket: at most `burst` events at once, refilled at `ratePerS` events per
 * second. Used to rate-limit per-session log lines so a flood of new sessions cannot
 * turn the log into the bottleneck.
 *
 * @module
 */

/** Admits events at a sustained rate with bounded bursts. */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #clock: () => number;
  #tokens: number;
  #lastMs: number;

  /** `clock` returns milliseconds from any fixed origin (monotonic). */
  constructor(ratePerS: number, burst: number, clock: () => number = () => performance.now()) {
    if (!(ratePerS > 0) || !(burst >= 1)) {
      throw new Error("a token bucket needs a rate above 0 and a burst of at least 1");
    }
    this.#ratePerMs = ratePerS / 1000;
    this.#burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#lastMs = clock();
  }

  /** Takes one token if there is one; false means the event should be dropped. */
  take(): boolean {
    const now = this.#clock();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#lastMs) * this.#ratePerMs);
    this.#lastMs = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

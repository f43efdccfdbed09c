/**
 * The gateway's memory as the kernel sees it: the resident set size (VmRSS of
 * /proc/PID/status), read once or sampled on a timer while a flood runs, so a test can
 * compare before, the peak during, and after.
 *
 * @module
 */

/** The resident set size of process `pid` in KiB. */
export function rssKiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!m) throw new Error(`/proc/${pid}/status has no VmRSS line (is ${pid} a kernel thread?)`);
  return Number(m[1]);
}

/** Reads a process's RSS every `everyMs` until stopped. */
export class RssSampler {
  readonly #pid: number;
  readonly #samples: number[] = [];
  readonly #timer: ReturnType<typeof setInterval>;

  /** Starts sampling `pid` now and every `everyMs` after. */
  constructor(pid: number, everyMs = 250) {
    this.#pid = pid;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), everyMs);
  }

  #sample(): void {
    try {
      this.#samples.push(rssKiB(this.#pid));
    } catch {
      // The process ended; the samples so far stand, and the test that expected it alive says so.
    }
  }

  /** Stops sampling (after one last sample) and returns every sample in KiB, oldest first. */
  stop(): number[] {
    clearInterval(this.#timer);
    this.#sample();
    return [...this.#samples];
  }
}

/** KiB as MiB with one decimal, for reports. */
export function mib(kib: number): string {
  return (kib / 1024).toFixed(1);
}

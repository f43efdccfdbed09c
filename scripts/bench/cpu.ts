/**
 * CPU time of a translator: utime + stime of a process and all its descendants, read
 * from /proc (proc(5)). The gateway runs as `deno task` with `deno run` as its child,
 * so the whole tree is counted; TAYGA is a single process. Time the kernel spends in a
 * process's system calls (a TUN write forwarding the packet on) is its stime, so the
 * figure includes the forwarding the translator's writes cause.
 *
 * @module
 */

import { processTree } from "./proctree.ts";

/**
 * utime + stime, in clock ticks, from the text of /proc/<pid>/stat. The command name
 * (field 2) is in parentheses and may itself hold spaces or ')', so fields are counted
 * from the last ')'.
 */
export function parseStatTicks(text: string): number {
  const close = text.lastIndexOf(")");
  if (close < 0) throw new Error("a /proc/<pid>/stat line without the (comm) field");
  // After "pid (comm) " come fields 3 (state) onwards; utime and stime are fields 14 and 15.
  const rest = text.slice(close + 2).trim().split(/\s+/);
  const utime = Number(rest[14 - 3]);
  const stime = Number(rest[15 - 3]);
  if (!Number.isInteger(utime) || !Number.isInteger(stime)) {
    throw new Error("a /proc/<pid>/stat line too short for utime and stime");
  }
  return utime + stime;
}

/** utime + stime ticks of `pid` and all its descendants now alive; 0 for a process that is gone. */
export function treeTicks(pid: number): number {
  let total = 0;
  for (const member of processTree(pid)) {
    try {
      total += parseStatTicks(Deno.readTextFileSync(`/proc/${member}/stat`));
    } catch (err) {
      // It ended between listing and reading: its time is no longer the tree's.
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return total;
}

/** Clock ticks per second (sysconf(_SC_CLK_TCK)), from `getconf CLK_TCK`. */
export async function clockTicksPerSecond(): Promise<number> {
  const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped", stderr: "null" }).output();
  const hz = Number(new TextDecoder().decode(out.stdout).trim());
  if (!out.success || !Number.isInteger(hz) || hz <= 0) throw new Error("getconf CLK_TCK gave no tick rate");
  return hz;
}

/** Measures how many CPUs' worth of time a process tree uses between `start()` and `stop()`. */
export class CpuMeter {
  readonly #pid: number;
  readonly #hz: number;
  #ticks = 0;
  #t0 = 0;

  /** A meter for the tree rooted at `pid`, with `hz` ticks per second. */
  constructor(pid: number, hz: number) {
    this.#pid = pid;
    this.#hz = hz;
  }

  /** Starts an interval. */
  start(): void {
    this.#ticks = treeTicks(this.#pid);
    this.#t0 = performance.now();
  }

  /** CPUs busy on average since `start()` (1.0 = one core all the time). */
  stop(): number {
    const seconds = (performance.now() - this.#t0) / 1000;
    return (treeTicks(this.#pid) - this.#ticks) / this.#hz / seconds;
  }
}

/** Busy and total jiffies summed over all CPUs, from the "cpu" line of /proc/stat. */
export function parseCpuLine(text: string): { busy: number; total: number } {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) throw new Error('/proc/stat has no "cpu" line');
  // user nice system idle iowait irq softirq steal ...; idle and iowait are the idle ones.
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  if (fields.length < 5 || fields.some((n) => !Number.isFinite(n))) {
    throw new Error("/proc/stat's cpu line is malformed");
  }
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - fields[3] - fields[4], total };
}

/**
 * How busy the whole machine is, percent of all CPUs, over `ms` milliseconds before the
 * bench starts: on a shared machine, other people's work is the largest error in the figures.
 */
export async function machineBusyPercent(ms: number): Promise<number> {
  const a = parseCpuLine(await Deno.readTextFile("/proc/stat"));
  await new Promise((r) => setTimeout(r, ms));
  const b = parseCpuLine(await Deno.readTextFile("/proc/stat"));
  return b.total > a.total ? (100 * (b.busy - a.busy)) / (b.total - a.total) : 0;
}

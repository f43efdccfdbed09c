/**
 * The DNS64 figures, folded in from the DNS64 engineer's scripts/bench-dns64 (dnsperf
 * against this listener and against Unbound's dns64 module). Its report is read from
 * the last JSON line it prints, or else from the newest results/*dns64*.json it wrote
 * during the run. The capacity figures are `<side>.<phase>.qps` for the sides "ours" and
 * "unbound" and the phases "hot" and "cold" (cache); its "latency" phase runs at a fixed
 * rate, so its qps is a setting, not a result, and is left out.
 *
 * @module
 */

import type { Dns64Result } from "./report.ts";
import { capture } from "./proc.ts";

const REPO = new URL("../..", import.meta.url).pathname;
const DNS64_BENCH = `${REPO}scripts/bench-dns64`;
/** scripts/bench-dns64 bounds each of its runs; this bounds all of them together. */
const TIMEOUT_MS = 400_000;
/**
 * Its longest dnsperf run: it makes nine runs per round and seven rounds, so the suite's
 * per-iperf3 seconds would make it far longer than the rest of the suite.
 */
const MAX_RUN_SECONDS = 3;

const SIDES = ["ours", "unbound"] as const;
const PHASES = ["hot", "cold"] as const;

/** The capacity figures of a bench-dns64 report, as {"ours.hot": qps, ...}; only those present. */
export function qpsFigures(report: unknown): Record<string, number> {
  const found: Record<string, number> = {};
  const at = (
    o: unknown,
    key: string,
  ): unknown => (typeof o === "object" && o !== null ? (o as Record<string, unknown>)[key] : undefined);
  for (const side of SIDES) {
    for (const phase of PHASES) {
      const qps = at(at(at(report, side), phase), "qps");
      if (typeof qps === "number" && Number.isFinite(qps)) found[`${side}.${phase}`] = qps;
    }
  }
  return found;
}

/** The last line of `stdout` that is a JSON object, or null. */
export function lastJsonLine(stdout: string): unknown {
  for (const line of stdout.trim().split("\n").reverse()) {
    const t = line.trim();
    if (!t.startsWith("{")) continue;
    try {
      return JSON.parse(t);
    } catch {
      // A line that only looks like JSON; keep looking.
    }
  }
  return null;
}

/** The newest results/*dns64*.json modified at or after `since` (ms since the epoch), or null. */
async function newestReport(since: number): Promise<unknown> {
  let best: { path: string; mtime: number } | null = null;
  try {
    for await (const e of Deno.readDir(`${REPO}results`)) {
      if (!e.isFile || !/dns64.*\.json$/.test(e.name)) continue;
      const mtime = (await Deno.stat(`${REPO}results/${e.name}`)).mtime?.getTime() ?? 0;
      if (mtime >= since && (!best || mtime > best.mtime)) best = { path: `${REPO}results/${e.name}`, mtime };
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  if (!best) return null;
  try {
    return JSON.parse(await Deno.readTextFile(best.path));
  } catch {
    throw new Error(`${best.path} is not JSON`);
  }
}

/**
 * Runs scripts/bench-dns64 with `seconds` per dnsperf run (at most MAX_RUN_SECONDS) when it
 * exists and returns its figures; never throws.
 */
export async function runDns64Bench(seconds: number): Promise<Dns64Result> {
  const none = { qps: {}, report: null };
  try {
    await Deno.stat(DNS64_BENCH);
  } catch {
    return { status: "unavailable", note: "scripts/bench-dns64 does not exist yet", ...none };
  }
  const since = Date.now() - 1000; // mtimes may be a little coarse
  const runSeconds = Math.min(seconds, MAX_RUN_SECONDS);
  const out = await capture([DNS64_BENCH, "--seconds", String(runSeconds)], TIMEOUT_MS, REPO);
  if (out.timedOut) return { status: "failed", note: `no result within ${TIMEOUT_MS / 1000} s`, ...none };
  if (out.code !== 0) {
    const why = out.stderr.trim().split("\n").at(-1) || `exit ${out.code}`;
    return { status: "failed", note: `scripts/bench-dns64: ${why}`, ...none };
  }
  try {
    const report = lastJsonLine(out.stdout) ?? await newestReport(since);
    if (report === null) return { status: "failed", note: "scripts/bench-dns64 printed and wrote no JSON", ...none };
    const qps = qpsFigures(report);
    if (Object.keys(qps).length === 0) {
      return { status: "failed", note: "its report has no ours/unbound hot/cold qps", qps, report };
    }
    return { status: "ok", note: "", qps, report };
  } catch (err) {
    return { status: "failed", note: (err as Error).message, ...none };
  }
}

/**
 * The DNS64 figures, folded in from the DNS64 engineer's scripts/bench-dns64. Its report
 * is read from the last JSON line it prints, or else from the newest
 * results/*dns64*.json it wrote during the run; every number in it whose name says
 * "qps" is shown.
 *
 * @module
 */

import type { Dns64Result } from "./report.ts";
import { capture } from "./proc.ts";

const REPO = new URL("../..", import.meta.url).pathname;
const DNS64_BENCH = `${REPO}scripts/bench-dns64`;
/** scripts/bench-dns64 bounds each of its runs; this bounds all of them together. */
const TIMEOUT_MS = 300_000;

/** Every finite number in `report` whose key contains "qps", by dotted path ("unbound.qps"). */
export function qpsFigures(report: unknown, path = ""): Record<string, number> {
  const found: Record<string, number> = {};
  if (typeof report !== "object" || report === null) return found;
  for (const [key, value] of Object.entries(report)) {
    const here = path ? `${path}.${key}` : key;
    if (typeof value === "number" && Number.isFinite(value) && /qps/i.test(key)) found[here] = value;
    else Object.assign(found, qpsFigures(value, here));
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

/** Runs scripts/bench-dns64 when it exists and returns its figures; never throws. */
export async function runDns64Bench(): Promise<Dns64Result> {
  const none = { qps: {}, report: null };
  try {
    await Deno.stat(DNS64_BENCH);
  } catch {
    return { status: "unavailable", note: "scripts/bench-dns64 does not exist yet", ...none };
  }
  const since = Date.now() - 1000; // mtimes may be a little coarse
  const out = await capture([DNS64_BENCH], TIMEOUT_MS, REPO);
  if (out.timedOut) return { status: "failed", note: `no result within ${TIMEOUT_MS / 1000} s`, ...none };
  if (out.code !== 0) {
    const why = out.stderr.trim().split("\n").at(-1) || `exit ${out.code}`;
    return { status: "failed", note: `scripts/bench-dns64: ${why}`, ...none };
  }
  try {
    const report = lastJsonLine(out.stdout) ?? await newestReport(since);
    if (report === null) return { status: "failed", note: "scripts/bench-dns64 printed and wrote no JSON", ...none };
    return { status: "ok", note: "", qps: qpsFigures(report), report };
  } catch (err) {
    return { status: "failed", note: (err as Error).message, ...none };
  }
}

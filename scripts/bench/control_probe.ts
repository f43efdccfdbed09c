/**
 * Does `nat64 stats` stay responsive while the datapath is busy? While a load runs, the
 * bench asks the gateway's control socket what `nat64 stats` asks (status and counters
 * in one exchange, one connection per query, as the CLI does) every QUERY_INTERVAL_MS
 * and times each answer; then it runs the real CLI once, still under load, and times that too (which
 * includes Deno's own start-up, so only the socket figures are held to the budget).
 * The bench itself competes for the same two busy CPUs, so it also reports how late its
 * own timers fired meanwhile: the share of a query's time that is the bench's, not the
 * gateway's.
 *
 * @module
 */

import { ControlClient } from "../../src/control/client.ts";
import { median } from "./stats.ts";
import { capture } from "./proc.ts";
import type { ControlStatsResult } from "./report.ts";

/** The longest a stats query may take under load. */
export const STATS_BUDGET_MS = 50;
const QUERY_INTERVAL_MS = 100;
/** A query slower than this is a failure, not a figure. */
const QUERY_TIMEOUT_MS = 2000;
/** Socket queries before the CLI's one run, so the load is well under way by then. */
const QUERIES_BEFORE_CLI = 10;
const REPO = new URL("../..", import.meta.url).pathname;

/** The CLI command whose answer is timed once under load. */
export function statsCommand(controlSocket: string): string[] {
  return [Deno.execPath(), "task", "nat64", "stats", "--json", "--control-socket", controlSocket];
}

async function query(socket: string): Promise<number> {
  const t0 = performance.now();
  const client = await ControlClient.connect(socket, QUERY_TIMEOUT_MS);
  try {
    await client.stats();
  } finally {
    client.close();
  }
  return performance.now() - t0;
}

/**
 * Queries `socket` repeatedly until `load` settles, then runs the CLI once; the load
 * must last longer than the CLI's start-up for that one to count as "under load".
 */
export async function probeStatsDuring<T>(socket: string, load: Promise<T>): Promise<{
  load: T;
  stats: ControlStatsResult;
}> {
  let settled = false;
  const watched = load.finally(() => (settled = true));
  const times: number[] = [];
  const late: number[] = [];
  let failure = "";
  let cliMs: number | null = null;
  const probing = (async () => {
    while (!settled && !failure) {
      try {
        times.push(await query(socket));
      } catch (err) {
        failure = (err as Error).message;
      }
      if (times.length === QUERIES_BEFORE_CLI && cliMs === null) {
        const t0 = performance.now();
        const out = await capture(statsCommand(socket), 30_000, REPO);
        cliMs = performance.now() - t0;
        if (out.code !== 0) failure = `nat64 stats --json: ${out.stderr.trim().split("\n").at(-1) ?? out.code}`;
        else if (!out.stdout.trim().startsWith("{")) failure = "nat64 stats --json printed no JSON";
      }
      const slept = performance.now();
      await new Promise((r) => setTimeout(r, QUERY_INTERVAL_MS));
      late.push(performance.now() - slept - QUERY_INTERVAL_MS);
    }
  })();
  let loadError: unknown = null;
  const result = await watched.catch((err) => {
    loadError = err;
  });
  await probing;
  if (loadError !== null) throw loadError;
  const stats: ControlStatsResult = {
    status: failure ? "failed" : times.length ? "ok" : "failed",
    note: failure || (times.length ? "" : "the load ended before any query"),
    timesMs: times,
    medianMs: times.length ? median(times) : null,
    maxMs: times.length ? Math.max(...times) : null,
    budgetMs: STATS_BUDGET_MS,
    cliMs,
    benchTimerLateMs: late.length ? median(late) : null,
  };
  return { load: result as T, stats };
}

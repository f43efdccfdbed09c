/**
 * `nat64 stats`: the running gateway's status and counters, once (a table or `--json`)
 * or as a live view (`--watch`) that redraws in place every `--interval` seconds with
 * packet and bit rates computed from the change since the last refresh, until Ctrl-C.
 *
 * @module
 */

import { ControlClient } from "./client.ts";
import { COMMON_HELP, parseOperatorArgs } from "./cli_flags.ts";
import { toJson } from "./json.ts";
import { renderStats, type StatsSnapshot } from "./stats_render.ts";
import type { GatewayStatus } from "./view.ts";

const USAGE = `usage: nat64 stats [flags]
  the running gateway's status and counters (zero counters hidden)
  --all                   show zero counters too
  --watch                 redraw every --interval seconds with rates, until Ctrl-C
  --interval S            seconds between refreshes (default 1, from 0.1 to 3600)
${COMMON_HELP}`;

const MIN_INTERVAL_S = 0.1;
const MAX_INTERVAL_S = 3600;

/** ANSI: cursor home, clear to end of line / screen, hide and show the cursor. */
const HOME = "\x1b[H";
const CLEAR_LINE_END = "\x1b[K";
const CLEAR_SCREEN_END = "\x1b[J";
const CLEAR_SCREEN = "\x1b[2J";
const HIDE_CURSOR = "\x1b[?25l";
const SHOW_CURSOR = "\x1b[?25h";

const encoder = new TextEncoder();

function print(text: string): void {
  const bytes = encoder.encode(text);
  let done = 0;
  while (done < bytes.length) done += Deno.stdout.writeSync(bytes.subarray(done));
}

async function readStats(client: ControlClient): Promise<{ status: GatewayStatus; snap: StatsSnapshot }> {
  const { status, counters } = await client.stats();
  return { status, snap: { counters, atMs: performance.now() } };
}

function intervalFlag(text: string | undefined): number {
  if (text === undefined) return 1;
  const s = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || s < MIN_INTERVAL_S || s > MAX_INTERVAL_S) {
    throw new Error(`--interval: "${text}" is not a number of seconds from ${MIN_INTERVAL_S} to ${MAX_INTERVAL_S}`);
  }
  return s;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

/**
 * The live view. On a terminal each frame overwrites the last; otherwise (a pipe, a
 * log) frames follow each other separated by a blank line. A gateway that goes away
 * (a restart) is shown as an error line and retried at every refresh.
 */
async function watch(socket: string, intervalS: number, all: boolean): Promise<number> {
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  Deno.addSignalListener("SIGINT", onInterrupt);
  const tty = Deno.stdout.isTerminal();
  if (tty) print(HIDE_CURSOR + CLEAR_SCREEN);
  let client: ControlClient | undefined;
  let previous: StatsSnapshot | undefined;
  try {
    while (!stop.signal.aborted) {
      let lines: string[];
      try {
        client ??= await ControlClient.connect(socket);
        const { status, snap } = await readStats(client);
        lines = renderStats(status, snap, { all, previous });
        lines.push("", `every ${intervalS} s, rates since the last refresh; Ctrl-C ends`);
        previous = snap;
      } catch (err) {
        client?.close();
        client = undefined;
        previous = undefined;
        lines = [`nat64 stats: ${(err as Error).message}`, `retrying every ${intervalS} s; Ctrl-C ends`];
      }
      print(
        tty
          ? HOME + lines.join(CLEAR_LINE_END + "\n") + CLEAR_LINE_END + "\n" + CLEAR_SCREEN_END
          : lines.join("\n") + "\n\n",
      );
      await sleep(intervalS * 1000, stop.signal);
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    client?.close();
    if (tty) print(SHOW_CURSOR);
  }
  return 0;
}

/** `nat64 stats [flags]`: prints the gateway's counters; returns the exit code. */
export async function runStatsCommand(args: string[]): Promise<number> {
  const opts = parseOperatorArgs(args, {
    all: { type: "boolean" },
    watch: { type: "boolean" },
    interval: { type: "string" },
  });
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  const intervalS = intervalFlag(opts.extra.interval as string | undefined);
  const all = opts.extra.all === true;
  if (opts.extra.watch) {
    if (opts.json) throw new Error("--watch draws a table; --json prints one snapshot: use one of them");
    return await watch(opts.socket, intervalS, all);
  }
  if (opts.extra.interval !== undefined) throw new Error("--interval only applies with --watch");
  const client = await ControlClient.connect(opts.socket);
  try {
    const { status, snap } = await readStats(client);
    console.log(
      opts.json ? toJson({ status, counters: snap.counters }) : renderStats(status, snap, { all }).join("\n"),
    );
  } finally {
    client.close();
  }
  return 0;
}

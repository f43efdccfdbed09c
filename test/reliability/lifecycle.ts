/**
 * What the fault tests do to a gateway process from outside: signals, waiting for it to
 * exit on its own, waiting for a line in its log, and a lab with a temporary directory
 * for tests that start and restart gateways themselves instead of through `withGateway`.
 *
 * @module
 */

import { type Gateway, Lab } from "../e2e/harness.ts";
import { gatewayPid } from "./counters.ts";

/** Runs `body` with a fresh lab and a temporary directory; always removes both. */
export async function withLab(tag: string, body: (lab: Lab, dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nat64-rel-" });
  let lab: Lab | undefined;
  try {
    lab = await Lab.up(tag);
    await body(lab, dir);
  } finally {
    await lab?.down();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Whether process `pid` is still there (a zombie counts as gone: it has exited). */
export function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(Deno.readTextFileSync(`/proc/${pid}/status`));
  } catch {
    return false;
  }
}

/** Waits up to `timeoutMs` for process `pid` to exit; true when it did. */
export async function exitedWithin(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** Waits up to `timeoutMs` for a log line matching `pattern` after the first `skip` lines; returns it. */
export async function logLine(gw: Gateway, pattern: RegExp, timeoutMs: number, skip = 0): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = gw.log.split("\n").slice(skip).find((l) => pattern.test(l));
    if (line !== undefined) return line;
    if (Date.now() > deadline) throw new Error(`the gateway logged no ${pattern} within ${timeoutMs} ms:\n${gw.log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** How many lines the gateway has logged so far (to look only at what comes after). */
export function logLength(gw: Gateway): number {
  return gw.log.split("\n").length;
}

/** Writes `text` to the config `file`, sends the gateway SIGHUP, and returns its log line about the reload. */
export async function reloadWith(gw: Gateway, file: string, text: string): Promise<string> {
  await Deno.writeTextFile(file, text);
  const from = logLength(gw);
  Deno.kill(await gatewayPid(gw.socket), "SIGHUP");
  return await logLine(gw, /reload refused|configuration reloaded/, 10_000, from);
}

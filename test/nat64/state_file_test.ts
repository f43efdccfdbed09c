/**
 * The state file: saved atomically, restored under another clock; a missing file is a
 * first start, a damaged or unreadable one a warning and empty tables, never a crash.
 */

import { deepStrictEqual as eq, match, ok, rejects } from "node:assert/strict";
import { Engine } from "../../src/engine/engine.ts";
import { parseFlags } from "../../src/config/flags.ts";
import { Logger } from "../../src/control/logger.ts";
import { Checkpoints, restoreState, saveState } from "../../src/nat64/state_file.ts";

const FLAGS = ["--mode", "nat64", "--pool6", "64:ff9b::/96", "--allow-nonglobal-wkp", "--pool4", "192.0.2.0/30"];

function engine(flags = FLAGS): Engine {
  const e = Engine.create({ slotCount: 4, sessionCapacity: 8192 });
  e.configure(parseFlags(flags).config);
  return e;
}

function logger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: new Logger({ write: (l) => lines.push(l), timestamp: () => "t" }), lines };
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nat64-state-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a saved state file restores the sessions, with their lifetimes, under another clock", () =>
  withDir(async (dir) => {
    const a = engine();
    a.fill(3000, 4, 10_000);
    const saved = await saveState(a, `${dir}/state`, 70_000);
    eq(saved.sessions, 3000);
    eq([...Deno.readDirSync(dir)].map((e) => e.name), ["state"], "no temporary file left");
    eq((await Deno.stat(`${dir}/state`)).mode! & 0o777, 0o600);
    const b = engine();
    const { logger: log, lines } = logger();
    eq(await restoreState(b, `${dir}/state`, 5_000_000, log), { sessions: 3000, skipped: 0 });
    eq(lines, []);
    eq(b.listSessions({ limit: 1 }, 0, 5_000_000).records[0].remainingMs, 240_000);
  }));

Deno.test("a missing state file is a first start; a damaged one is one warning and empty tables", () =>
  withDir(async (dir) => {
    const { logger: log, lines } = logger();
    eq(await restoreState(engine(), `${dir}/none`, 0, log), null);
    eq(lines, []);
    const a = engine();
    a.fill(100, 2, 0);
    await saveState(a, `${dir}/state`, 0);
    const bytes = await Deno.readFile(`${dir}/state`);
    bytes[77] ^= 1;
    await Deno.writeFile(`${dir}/state`, bytes);
    const b = engine();
    eq(await restoreState(b, `${dir}/state`, 0, log), null);
    eq(lines.length, 1);
    match(lines[0], /state file refused, starting with empty NAT64 tables.*checksum/);
    eq(b.counters().sessions_udp, 0n);
    await Deno.writeTextFile(`${dir}/text`, "not a snapshot at all, but long enough for a header");
    eq(await restoreState(b, `${dir}/text`, 0, log), null);
    match(lines[1], /bad magic/);
    await Deno.mkdir(`${dir}/adir`);
    eq(await restoreState(b, `${dir}/adir`, 0, log), null);
    match(lines[2], /state file unreadable/);
  }));

Deno.test("records a narrower configuration no longer allows are skipped, the rest restored", () =>
  withDir(async (dir) => {
    const a = engine();
    a.fill(400, 8, 0);
    await saveState(a, `${dir}/state`, 0);
    // Half of the hosts were paired with addresses this pool4 no longer has.
    const narrower = engine([
      "--mode",
      "nat64",
      "--pool6",
      "64:ff9b::/96",
      "--allow-nonglobal-wkp",
      "--pool4",
      "192.0.2.0/31",
    ]);
    const r = await restoreState(narrower, `${dir}/state`, 0, logger().logger);
    ok(r && r.sessions + r.skipped === 400 && r.skipped > 0, JSON.stringify(r));
  }));

Deno.test("a save that cannot write names the file; checkpoints log the failure and go on", () =>
  withDir(async (dir) => {
    await rejects(saveState(engine(), `${dir}/missing/state`, 0), /state file .*missing\/state: /);
    const { logger: log, lines } = logger();
    let calls = 0;
    const checkpoints = new Checkpoints(() => {
      calls++;
      return saveState(engine(), `${dir}/missing/state`, 0);
    }, log);
    await checkpoints.run();
    eq(calls, 1);
    match(lines[0], /checkpoint of the NAT64 tables failed/);
    checkpoints.start(0.02);
    await new Promise((r) => setTimeout(r, 70));
    await checkpoints.stop();
    ok(calls >= 2, `${calls} checkpoint(s)`);
    const after = calls;
    await new Promise((r) => setTimeout(r, 50));
    eq(calls, after, "no checkpoint after stop");
  }));

/**
 * `deno task bench`: this gateway beside TAYGA and the kernel's own IPv6 forwarding, in
 * namespaces of its own (scripts/lab under the prefix n64bench<pid>), one fresh lab per
 * column and round; each column's figures are its best round's (rounds.ts). Prints a table of figures and ratios, writes results/bench-<date>.json and
 * results/bench-latest.svg, and always tears down what it built (also on Ctrl-C).
 * Needs root.
 *
 *   deno task bench [--quick] [--only kernel,tayga,gateway-no-offloads,gateway,dns64] [--gateway-mode nat64|siit]
 *                   [--rounds N] [--wait-quiet S]
 *
 * --quick        one round of 2-second runs and 200 pings instead of 3 rounds of 8 (+1 omitted)
 *                and 2000: a smoke check
 * --rounds       rounds of each column (interleaved), default 3 (1 with --quick)
 * --only         the columns (and DNS64) to run; the others are shown as skipped
 * --gateway-mode stateful NAT64 (the mode judged) or SIIT (the mode comparable to TAYGA)
 * --wait-quiet   before each column, wait up to S seconds for other work to leave the CPUs
 *                (on a shared machine it is the largest error in the figures)
 *
 * @module
 */

import { parseArgs } from "node:util";
import { clockTicksPerSecond, machineBusyPercent } from "./cpu.ts";
import { gatewayCommand, type GatewayMode, NotAvailable, startGateway } from "./gateway.ts";
import { KERNEL_V6, Lab, LAB_ADDRESSES, TRANSLATED_SERVER } from "./lab.ts";
import { describePinning, pinningFor, rpsMask, taskset } from "./pinning.ts";
import { type Background, capture, stopAll } from "./proc.ts";
import {
  type BenchResult,
  BUSY_WARNING_PCT,
  COLUMN_LABELS,
  type ColumnName,
  type ColumnResult,
  COLUMNS,
  type ControlStatsResult,
  type Dns64Result,
  figuresTable,
  notes,
  ratios,
  type RoundResult,
} from "./report.ts";
import { renderChart } from "./svg.ts";
import { runDns64Bench } from "./fold_dns64.ts";
import { columnOf, mergeStats } from "./rounds.ts";
import { type Endpoint, runSuite, type SuiteOptions, type Translator } from "./suite.ts";
import { startTayga } from "./tayga.ts";
import { STATS_BUDGET_MS } from "./control_probe.ts";

const USAGE = "usage: deno task bench [--quick] [--only kernel,tayga,gateway-no-offloads,gateway,dns64] " +
  "[--gateway-mode nat64|siit] " +
  "[--rounds N] [--wait-quiet SECONDS]";
const PARTS = [...COLUMNS, "dns64"] as const;
type Part = typeof PARTS[number];
const RESULTS = new URL("../../results/", import.meta.url).pathname;

/** The bench's settings from its command line; throws one sentence for a bad flag. */
function settings(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      "gateway-mode": { type: "string", default: "nat64" },
      "wait-quiet": { type: "string", default: "0" },
      rounds: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  const only = values.only === undefined ? [...PARTS] : values.only.split(",").map((s) => s.trim());
  for (const p of only) {
    if (!(PARTS as readonly string[]).includes(p)) {
      throw new Error(`--only: unknown part "${p}" (choose from ${PARTS.join(", ")})`);
    }
  }
  const waitQuiet = Number(values["wait-quiet"]);
  if (!Number.isInteger(waitQuiet) || waitQuiet < 0) {
    throw new Error(`--wait-quiet takes whole seconds, not "${values["wait-quiet"]}"`);
  }
  const rounds = Number(values.rounds ?? (values.quick ? 1 : 3));
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new Error(`--rounds takes a whole number from 1, not "${values.rounds}"`);
  }
  const mode = values["gateway-mode"];
  if (mode !== "nat64" && mode !== "siit") throw new Error(`--gateway-mode must be nat64 or siit, not "${mode}"`);
  return {
    help: values.help,
    quick: values.quick,
    only: new Set(only as Part[]),
    mode: mode as GatewayMode,
    waitQuiet,
    rounds,
    seconds: values.quick ? 2 : 8,
    omit: values.quick ? 0 : 1,
    rttCount: values.quick ? 200 : 2000,
  };
}

function loadavg(): string {
  return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
}

function stamp(d: Date): string {
  return d.toISOString().slice(0, 19).replace(/:/g, "-");
}

const unavailableStats = (note: string): ControlStatsResult => ({
  status: "unavailable",
  note,
  timesMs: [],
  medianMs: null,
  maxMs: null,
  budgetMs: STATS_BUDGET_MS,
  cliMs: null,
  benchTimerLateMs: null,
});

/**
 * The machine's busy share over one second, measured again each second while it is above
 * BUSY_WARNING_PCT, for up to `seconds`; returns the last measurement.
 */
async function waitQuiet(seconds: number, log: (line: string) => void): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let busy = await machineBusyPercent(1000);
  if (busy > BUSY_WARNING_PCT && seconds > 0) {
    log(`other work keeps ${busy.toFixed(0)} % of the CPUs busy; waiting up to ${seconds} s for it to drop`);
    while (busy > BUSY_WARNING_PCT && performance.now() < deadline) busy = await machineBusyPercent(1000);
  }
  return busy;
}

/** Sets up `column` in a fresh lab, measures one round of it, tears it all down again. */
async function measureRound(
  column: ColumnName,
  lab: Lab,
  dir: string,
  mode: GatewayMode,
  opts: SuiteOptions,
  busyBefore: number,
): Promise<{ round: RoundResult; stats: ControlStatsResult | null }> {
  const pin = pinningFor(navigator.hardwareConcurrency, column !== "kernel");
  const round: RoundResult = { status: "ok", note: "", busyPct: { before: busyBefore, after: 0 }, metrics: {} };
  const log = (line: string) => console.log(`  ${COLUMN_LABELS[column]}: ${line}`);
  let process: Background | null = null;
  let stats: ControlStatsResult | null = null;
  const notes: string[] = [];
  try {
    await lab.up();
    await lab.steerGatewayReceive(rpsMask(pin.gatewayRx));
    let at: Endpoint = { target: TRANSLATED_SERVER, serverBind: LAB_ADDRESSES.serverV4 };
    const translator: Translator = { pid: null, controlSocket: null };
    if (column === "kernel") {
      await lab.addServerIPv6();
      at = { target: KERNEL_V6.server, serverBind: KERNEL_V6.server };
    } else if (column === "tayga") {
      process = await startTayga(lab, dir, taskset(pin.translator));
      translator.pid = process.pid;
    } else {
      const socket = `${dir}/control.sock`;
      const offloads = column === "gateway";
      process = await startGateway(lab, mode, socket, taskset(pin.translator), offloads);
      translator.pid = process.pid;
      translator.controlSocket = socket;
      notes.push(`--mode ${mode}${offloads ? "" : " --no-offloads"}`);
    }
    stats = await runSuite(lab, at, pin, translator, opts, round.metrics, notes, log);
  } catch (err) {
    round.status = err instanceof NotAvailable ? "unavailable" : "failed";
    notes.push((err as Error).message);
    log((err as Error).message);
  } finally {
    await process?.stop();
    await lab.down();
  }
  round.note = notes.join("; ");
  round.busyPct.after = await machineBusyPercent(1000);
  return { round, stats };
}

async function main(args: string[]): Promise<number> {
  const s = settings(args);
  if (s.help) {
    console.log(USAGE);
    return 0;
  }
  if (Deno.uid() !== 0) throw new Error("must run as root (network namespaces, TUN devices)");
  for (const [tool, pkg] of [["iperf3", "iperf3"], ["ping", "iputils-ping"]]) {
    if ((await capture(["which", tool])).code !== 0) {
      throw new Error(`${tool} is not installed (apt-get install ${pkg})`);
    }
  }

  const date = new Date();
  const opts: SuiteOptions = {
    seconds: s.seconds,
    omit: s.omit,
    rttCount: s.rttCount,
    hz: await clockTicksPerSecond(),
  };
  const loadavgBefore = loadavg();
  const dir = await Deno.makeTempDir({ prefix: "nat64-bench-" });
  const lab = new Lab(`n64bench${Deno.pid}`);
  const cleanup = async () => {
    await stopAll();
    await lab.down();
    await Deno.remove(dir, { recursive: true });
  };
  const onSignal = async () => {
    console.error("bench: interrupted, tearing down");
    await cleanup();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  console.log(
    `bench: ${s.seconds} s per iperf3 run${s.omit ? ` (+${s.omit} s omitted)` : ""}, ${s.rttCount} pings, ` +
      `${navigator.hardwareConcurrency} CPUs, load average ${loadavgBefore}`,
  );
  const rounds = Object.fromEntries(COLUMNS.map((c) => [c, [] as RoundResult[]])) as Record<ColumnName, RoundResult[]>;
  const statsRounds: ControlStatsResult[] = [];
  let dns64: Dns64Result = { status: "skipped", note: "not selected (--only)", qps: {}, report: null };
  try {
    // Rounds interleave the columns, so a burst of other work spreads over all of them.
    for (let r = 1; r <= s.rounds; r++) {
      if (s.rounds > 1) console.log(`round ${r} of ${s.rounds}`);
      for (const c of COLUMNS) {
        // A column that cannot run (no `nat64 run`, an engine without the mode) is not retried.
        if (!s.only.has(c) || rounds[c][0]?.status === "unavailable") continue;
        const busy = await waitQuiet(s.waitQuiet, (line) => console.log(`  ${COLUMN_LABELS[c]}: ${line}`));
        const { round, stats } = await measureRound(c, lab, dir, s.mode, opts, busy);
        rounds[c].push(round);
        if (stats) statsRounds.push(stats);
      }
    }
    if (s.only.has("dns64")) {
      console.log(`  DNS64: scripts/bench-dns64 --seconds ${s.seconds}`);
      dns64 = await runDns64Bench(s.seconds);
    }
  } finally {
    await cleanup();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }

  const columns = {} as Record<ColumnName, ColumnResult>;
  for (const c of COLUMNS) {
    columns[c] = s.only.has(c)
      ? columnOf(rounds[c], describePinning(pinningFor(navigator.hardwareConcurrency, c !== "kernel")))
      : { status: "skipped", note: "not selected (--only)", pinning: "", metrics: {}, rounds: [] };
  }
  const controlStats = mergeStats(statsRounds) ??
    unavailableStats(s.only.has("gateway") ? columns.gateway.note : "the gateway column did not run");
  const result: BenchResult = {
    format: "nat64-bench/1",
    date: date.toISOString(),
    quick: s.quick,
    host: {
      kernel: Deno.osRelease(),
      cpus: navigator.hardwareConcurrency,
      loadavgBefore,
      loadavgAfter: loadavg(),
    },
    settings: {
      seconds: s.seconds,
      omitSeconds: s.omit,
      rounds: s.rounds,
      rttCount: s.rttCount,
      gatewayMode: s.mode,
      gatewayCommand: gatewayCommand(s.mode, "<dir>/control.sock"),
      nat64Prefix: LAB_ADDRESSES.nat64Prefix,
      target: TRANSLATED_SERVER,
    },
    columns,
    ratios: {
      gatewayVsTayga: ratios(columns.gateway, columns.tayga),
      gatewayVsKernel: ratios(columns.gateway, columns.kernel),
      gatewayVsNoOffloads: ratios(columns.gateway, columns["gateway-no-offloads"]),
    },
    controlStats,
    dns64,
  };
  await Deno.mkdir(RESULTS, { recursive: true });
  const json = `${RESULTS}bench-${stamp(date)}.json`;
  await Deno.writeTextFile(json, JSON.stringify(result, null, 2) + "\n");
  await Deno.writeTextFile(`${RESULTS}bench-latest.svg`, renderChart(result));
  console.log("");
  for (const line of [...figuresTable(result), "", ...notes(result)]) console.log(line);
  console.log(`\nwrote ${json} and ${RESULTS}bench-latest.svg`);
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (err) {
    console.error(`bench: ${(err as Error).message}`);
    Deno.exit(1);
  }
}

/**
 * Control-socket benchmark: how fast `nat64 stats` is answered by a gateway under
 * iperf3 load, and whether asking lowers the gateway's throughput.
 *
 * In a lab of its own (scripts/lab with a private prefix) the real gateway (`nat64 run`,
 * SIIT, pinned to CPU 0) translates an iperf3 TCP stream from the IPv6-only client to
 * the IPv4-only server (both on CPU 1; all at nice -10, as the box's main work). Each
 * round runs the stream three times, in
 * rotating order:
 *   idle    nobody asks the control socket
 *   poll    `nat64 stats` requests (connect, status, counters, close) 20 times a second
 *   flood   the same requests back to back, as fast as the socket answers
 * and the bench prints throughput per mode (median of the rounds), the change against
 * idle, and the answer time of every request made under load (p50, p99, max), plus the
 * wall time of whole `nat64 stats` processes (Deno start-up included). Needs root.
 *
 *   deno run -A test/control/bench_stats.ts [--seconds 10] [--rounds 5] [--hz 20]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ControlClient } from "../../src/control/client.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "10" },
    rounds: { type: "string", default: "5" },
    hz: { type: "string", default: "20" },
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const HZ = Number(values.hz);

const REPO = new URL("../..", import.meta.url).pathname;
const LAB = `${REPO}scripts/lab`;
const POLLER = new URL("./fixtures/stats_poller.ts", import.meta.url).pathname;
const PREFIX = `n64bs${Deno.pid}`;
const SERVER_VIA_PREFIX = "2001:db8:64::c633:6402"; // 198.51.100.2 under the lab's NAT64 prefix
const pinned = navigator.hardwareConcurrency >= 2;
/**
 * Pinned to `cpu` (when there are two) at nice -10: the gateway and its load are the
 * box's main work, so other jobs on a shared machine take less from them.
 */
const onCpu = (cpu: number) => ["nice", "-n", "-10", ...(pinned ? ["taskset", "-c", String(cpu)] : [])];
const decoder = new TextDecoder();

async function run(argv: string[], env: Record<string, string> = {}): Promise<string> {
  const out = await new Deno.Command(argv[0], { args: argv.slice(1), env, stdout: "piped", stderr: "piped" }).output();
  const text = decoder.decode(out.stdout);
  if (!out.success) throw new Error(`${argv.join(" ")} failed: ${text}${decoder.decode(out.stderr)}`);
  return text;
}

const lab = (verb: string) => run([LAB, verb], { NAT64_LAB_PREFIX: PREFIX });
const inNs = (ns: string, argv: string[]) => ["ip", "netns", "exec", `${PREFIX}-${ns}`, ...argv];

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One `nat64 stats` exchange as the CLI makes it; returns its milliseconds. */
async function askStats(socket: string): Promise<number> {
  const t0 = performance.now();
  const client = await ControlClient.connect(socket);
  try {
    await client.stats();
  } finally {
    client.close();
  }
  return performance.now() - t0;
}

/**
 * Starts the poller fixture on CPU 1. At `hz` > 0 it runs at nice -20 (nice -10 twice),
 * so the times it measures are the gateway's answers rather than its own wait for a CPU
 * that iperf3 keeps busy; the back-to-back flood runs at iperf3's priority, or it would
 * starve it.
 */
function startPoller(socket: string, hz: number): Deno.ChildProcess {
  const nice = hz > 0 ? ["nice", "-n", "-10"] : [];
  const argv = [...nice, ...onCpu(1), Deno.execPath(), "run", "-A", POLLER, "--socket", socket, "--hz", String(hz)];
  return new Deno.Command(argv[0], { args: argv.slice(1), stdout: "piped", stderr: "inherit" }).spawn();
}

/** Stops the poller; returns the milliseconds of each exchange it made. */
async function stopPoller(poller: Deno.ChildProcess): Promise<number[]> {
  poller.kill("SIGTERM");
  const out = await poller.output();
  return JSON.parse(decoder.decode(out.stdout));
}

/** Runs one iperf3 stream; returns received Mbit/s. */
async function stream(): Promise<number> {
  const json = await run(inNs("client", [...onCpu(1), "iperf3", "-c", SERVER_VIA_PREFIX, "-t", String(SECONDS), "-J"]));
  return JSON.parse(json).end.sum_received.bits_per_second / 1e6;
}

async function main(): Promise<void> {
  if (Deno.uid() !== 0) throw new Error("needs root (network namespaces)");
  // Other work on the machine skews both figures; the load average before and after says how much.
  const loadBefore = Deno.loadavg()[0];
  const dir = await Deno.makeTempDir();
  const socket = `${dir}/control.sock`;
  await lab("up");
  const gateway = new Deno.Command("ip", {
    args: inNs("gw", [
      ...onCpu(0),
      Deno.execPath(),
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-net",
      "--allow-env",
      "--allow-run",
      "--allow-ffi",
      "--allow-sys",
      `${REPO}src/main.ts`,
      "run",
      "--mode",
      "siit",
      "--pool6",
      "2001:db8:64::/96",
      "--eamt",
      "2001:db8:1::2/128=192.0.2.2/32",
      "--control-socket",
      socket,
      "--log-level",
      "warn",
    ]).slice(1),
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const iperfServer = new Deno.Command("ip", {
    args: inNs("server", [...onCpu(1), "iperf3", "-s"]).slice(1),
    stdout: "null",
  })
    .spawn();
  try {
    for (let i = 0;; i++) {
      try {
        await askStats(socket);
        break;
      } catch (err) {
        if (i === 100) throw new Error(`the gateway never answered on ${socket}: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const modes = ["idle", "poll", "flood"] as const;
    const mbps: Record<string, number[]> = { idle: [], poll: [], flood: [] };
    const answers: Record<string, number[]> = { poll: [], flood: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < modes.length; k++) {
        const mode = modes[(round + k) % modes.length];
        const poller = mode === "idle" ? undefined : startPoller(socket, mode === "poll" ? HZ : 0);
        mbps[mode].push(await stream());
        if (poller) answers[mode].push(...await stopPoller(poller));
        console.log(`round ${round + 1} ${mode.padEnd(5)} ${mbps[mode].at(-1)!.toFixed(0)} Mbit/s`);
      }
    }
    const cli: number[] = [];
    const load = stream();
    await new Promise((r) => setTimeout(r, 1000));
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await run([Deno.execPath(), "run", "-A", `${REPO}src/main.ts`, "stats", "--control-socket", socket]);
      cli.push(performance.now() - t0);
    }
    await load;

    const base = median(mbps.idle);
    console.log(
      `\nTCP through the gateway (SIIT), ${SECONDS} s streams, median of ${ROUNDS} rounds, CPUs ${
        pinned ? "pinned" : "shared"
      }`,
    );
    console.log("mode    Mbit/s (min-max of rounds)   vs idle   stats answers   p50 ms   p99 ms   max ms");
    for (const mode of modes) {
      const t = [...(answers[mode] ?? [])].sort((a, b) => a - b);
      const change = mode === "idle" ? "" : `${(((median(mbps[mode]) - base) / base) * 100).toFixed(1)}%`;
      const spread = `(${Math.min(...mbps[mode]).toFixed(0)}-${Math.max(...mbps[mode]).toFixed(0)})`;
      const lat = t.length
        ? `${String(t.length).padStart(13)}   ${percentile(t, 50).toFixed(2).padStart(6)}   ${
          percentile(t, 99).toFixed(2).padStart(6)
        }   ${t.at(-1)!.toFixed(2).padStart(6)}`
        : "";
      console.log(
        `${mode.padEnd(6)}  ${median(mbps[mode]).toFixed(0).padStart(6)} ${spread.padEnd(20)}   ${
          change.padStart(7)
        }   ${lat}`,
      );
    }
    console.log(
      `whole "nat64 stats" processes under load (Deno start-up included): median ${median(cli).toFixed(0)} ms`,
    );
    console.log(
      `machine load average (1 min) ${loadBefore.toFixed(2)} before, ${Deno.loadavg()[0].toFixed(2)} after ` +
        `(the bench itself adds about 2)`,
    );
  } finally {
    try {
      gateway.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await gateway.status;
    iperfServer.kill("SIGTERM");
    await iperfServer.status;
    await lab("down");
    await Deno.remove(dir, { recursive: true });
  }
}

await main();

/**
 * DNS64 benchmark: dnsperf (one client thread) against this listener and against Unbound
 * with its dns64 module (one thread), the same nsd upstream and the same query files, in
 * one run. Also this listener on its network-only path (no FFI), cache-hot only.
 *
 * Rounds: in each, every server runs each phase back to back, the order alternating
 * between rounds, so the machine's other load hits both sides alike (dns64_summary.ts).
 * The phases: cache-cold (names nothing has asked for yet, a fresh set each round),
 * cache-hot at full speed (qps), cache-hot at full load with every answer's latency
 * (dnsperf -v: p50/p99), and cache-hot at a fixed rate (p50/p99). With two CPUs or more
 * the servers run on CPU 0 and dnsperf on CPU 1 (taskset), each the same for every server.
 *
 * Prints a table of medians over rounds, the per-round ratios, and whether the issue's
 * target holds (cache-hot qps >= 1.0x Unbound's; p99 <= Unbound's); writes JSON to
 * results/dns64-bench.json and prints it as the last stdout line. Every dnsperf run is
 * bounded in time.
 *
 * Usage: scripts/bench-dns64 [--seconds N] [--rounds N] [--cold-names N] [--latency-qps N] [--no-pin]
 */

import { parseArgs } from "node:util";
import {
  type Daemon,
  findBinary,
  freePort,
  missingBinary,
  startNsd,
  startUnbound,
  ZONES,
} from "../../test/dns64/daemons.ts";
import { exchange } from "../../test/dns64/client.ts";
import { defaultLibcPath } from "../../src/tun/libc.ts";
import {
  medians,
  pairedRatio,
  parseDnsperf,
  type Phase,
  roundOrder,
  type RoundRuns,
  type Run,
  verdict,
} from "./dns64_summary.ts";

const PREFIX = "2001:db8:64::/96";
const BENCH_ZONE = "bench.example";
const ROOT = new URL("../../", import.meta.url);
/** Names in the cache-hot file under the bench zone. */
const HOT_BENCH_NAMES = 92;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "seconds": { type: "string", default: "3" },
    "rounds": { type: "string", default: "7" },
    "cold-names": { type: "string", default: "20000" },
    "latency-qps": { type: "string", default: "5000" },
    "no-pin": { type: "boolean", default: false },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const coldNames = Number(values["cold-names"]);
const latencyQps = Number(values["latency-qps"]);
for (
  const [flag, v] of [["seconds", seconds], ["rounds", rounds], ["cold-names", coldNames], [
    "latency-qps",
    latencyQps,
  ]] as const
) {
  if (!Number.isInteger(v) || v <= 0) {
    console.error(`bench-dns64: --${flag} must be a positive whole number`);
    Deno.exit(2);
  }
}
const missing = missingBinary("nsd", "unbound", "dnsperf", ...(values["no-pin"] ? [] : ["taskset"]));
if (missing) {
  console.error(`bench-dns64: ${missing} is not installed (scripts/setup installs it)`);
  Deno.exit(1);
}
/** CPUs for the servers and for dnsperf, or null for no pinning. */
const pin = !values["no-pin"] && navigator.hardwareConcurrency >= 2 ? { server: 0, client: 1 } : null;
const placement = pin ? `servers on CPU ${pin.server}, dnsperf on CPU ${pin.client}` : "not pinned";

/** The cold names of round `r` (`c<r>-<i>`), and the hot ones (`h<i>`): one A record each, so AAAA is a synthesis. */
function benchZone(): string {
  const lines = [
    `$ORIGIN ${BENCH_ZONE}.`,
    "$TTL 3600",
    "@ SOA ns admin 1 3600 600 86400 600",
    "@ NS ns",
    "ns A 192.0.2.53",
  ];
  for (let i = 1; i <= HOT_BENCH_NAMES; i++) lines.push(`h${i} A 198.51.100.${(i % 250) + 1}`);
  for (let r = 0; r < rounds; r++) {
    for (let i = 1; i <= coldNames; i++) lines.push(`c${r}-${i} A 198.51.100.${(i % 250) + 1}`);
  }
  return lines.join("\n") + "\n";
}

/** The cache-hot mix: synthesis, real AAAA, chains, negative answers and plain A. */
const HOT_QUERIES = [
  "v4only.dns64.example AAAA",
  "two.dns64.example AAAA",
  "dual.dns64.example AAAA",
  "alias2.dns64.example AAAA",
  "host.sub.dns64.example AAAA",
  "nodata.dns64.example AAAA",
  "missing.dns64.example AAAA",
  "v4only.dns64.example A",
  ...Array.from({ length: HOT_BENCH_NAMES }, (_, i) => `h${i + 1}.${BENCH_ZONE} AAAA`),
];

/** A server under test: its port and pid (for pinning), and how to stop it. */
interface Server extends Daemon {
  readonly name: string;
}

/** Runs dnsperf (on the client CPU), its output going to a file so that reading it takes no CPU during the run. */
async function dnsperf(port: number, file: string, extra: string[], out: string): Promise<Run> {
  const argv = [
    ...(pin ? ["taskset", "-c", String(pin.client)] : []),
    findBinary("dnsperf")!,
    ...["-s", "127.0.0.1", "-p", String(port), "-d", file, "-c", "1", "-T", "1", "-t", "2", ...extra],
  ];
  const status = await new Deno.Command("sh", {
    args: ["-c", 'out="$1"; shift; exec "$@" > "$out"', "sh", out, ...argv],
    stdout: "null",
    stderr: "null",
  }).output();
  const text = await Deno.readTextFile(out);
  await Deno.remove(out);
  if (!status.success && !/Queries per second/.test(text)) throw new Error(`dnsperf failed on port ${port}`);
  return parseDnsperf(text);
}

/** Pins every thread of `pid` (and so the threads it starts later) to the server CPU. */
async function pinServer(pid: number): Promise<void> {
  if (!pin) return;
  const out = await new Deno.Command("taskset", {
    args: ["-a", "-p", "-c", String(pin.server), String(pid)],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`taskset cannot pin process ${pid}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/**
 * Starts this listener as its own process, as `nat64 dns64` runs: with FFI to libc (UDP
 * batches), or with network permission only (the sandboxed path).
 */
async function startOurs(upstreamPort: number, ffi: boolean): Promise<Daemon> {
  const port = await freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--config",
      new URL("deno.json", ROOT).pathname,
      "--allow-net",
      ...(ffi ? [`--allow-ffi=${defaultLibcPath()}`] : []),
      new URL("scripts/bench/dns64_listener.ts", ROOT).pathname,
      "--listen",
      `127.0.0.1:${port}`,
      "--upstream",
      `127.0.0.1:${upstreamPort}`,
      "--prefix",
      PREFIX,
      "--cache-size",
      String(rounds * coldNames + HOT_QUERIES.length * 2),
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const labels = `ns.${BENCH_ZONE}`.split(".").flatMap((l) => [l.length, ...new TextEncoder().encode(l)]);
  const probe = Uint8Array.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1]);
  for (let i = 0; i < 100; i++) {
    if (await exchange(port, probe, "udp", 200)) {
      return {
        port,
        pid: child.pid,
        stop: async () => {
          child.kill("SIGTERM");
          await child.status;
          await stderr;
        },
      };
    }
  }
  child.kill("SIGKILL");
  await child.status;
  throw new Error(`the DNS64 listener did not start: ${(await stderr).trim()}`);
}

const dir = await Deno.makeTempDir({ prefix: "bench-dns64-" });
const started: Daemon[] = [];
try {
  const hotFile = `${dir}/hot.txt`;
  await Deno.writeTextFile(hotFile, HOT_QUERIES.join("\n") + "\n");
  for (let r = 0; r < rounds; r++) {
    await Deno.writeTextFile(
      `${dir}/cold${r}.txt`,
      Array.from({ length: coldNames }, (_, i) => `c${r}-${i + 1}.${BENCH_ZONE} AAAA`).join("\n") + "\n",
    );
  }
  console.error(`bench-dns64: nsd with ${rounds * coldNames + HOT_BENCH_NAMES} names...`);
  const nsd = await startNsd([{ name: BENCH_ZONE, text: benchZone() }]);
  started.push(nsd);
  const stubs = [...ZONES.map((z) => z.name), BENCH_ZONE].map((name) => ({ name, port: nsd.port }));
  const named = async (name: string, start: Promise<Daemon>): Promise<Server> => {
    const d = await start;
    started.push(d);
    await pinServer(d.pid);
    return { ...d, name };
  };
  const ours = await named("ours", startOurs(nsd.port, true));
  const networkOnly = await named("ours, network only", startOurs(nsd.port, false));
  const unbound = await named("unbound dns64", startUnbound({ stubs, dns64Prefix: PREFIX }));
  const servers = [ours, unbound];
  const runs = new Map<Server, RoundRuns[]>([[ours, []], [networkOnly, []], [unbound, []]]);
  const out = `${dir}/dnsperf.out`;

  console.error(`bench-dns64: ${placement}; warming the caches and the JIT...`);
  for (const s of [ours, networkOnly, unbound]) {
    await dnsperf(s.port, hotFile, ["-n", "1"], out);
    await dnsperf(s.port, hotFile, ["-l", "1"], out);
  }
  for (let r = 0; r < rounds; r++) {
    console.error(`bench-dns64: round ${r + 1} of ${rounds}...`);
    const round = new Map<Server, RoundRuns>([[ours, {}], [networkOnly, {}], [unbound, {}]]);
    const phase = async (which: Phase, list: Server[], file: string, extra: string[]) => {
      for (const s of roundOrder(list, r)) round.get(s)![which] = await dnsperf(s.port, file, extra, out);
    };
    await phase("cold", servers, `${dir}/cold${r}.txt`, ["-n", "1", "-l", String(seconds)]);
    await phase("hot", [ours, networkOnly, unbound], hotFile, ["-l", String(seconds)]);
    await phase("loaded", servers, hotFile, ["-l", String(seconds), "-v"]);
    await phase("latency", servers, hotFile, ["-l", String(seconds), "-Q", String(latencyQps), "-v"]);
    for (const [s, rr] of round) runs.get(s)!.push(rr);
  }

  const oursRuns = runs.get(ours)!, unboundRuns = runs.get(unbound)!, networkOnlyRuns = runs.get(networkOnly)!;
  const med = new Map([...runs].map(([s, rr]) => [s, medians(rr)]));
  const f = (
    v: number | null | undefined,
    d = 2,
  ) => (v === null || v === undefined || Number.isNaN(v) ? "-" : v.toFixed(d));
  const rows = [
    ["cache-hot, max qps", "hot"],
    ["cache-hot, full load -v", "loaded"],
    [`cache-hot @ ${latencyQps} qps -v`, "latency"],
    ["cache-cold", "cold"],
  ] as const;
  console.log(
    `DNS64 benchmark: dnsperf, 1 client thread, ${seconds} s runs, ${rounds} rounds (medians), upstream nsd on ` +
      `loopback, prefix ${PREFIX}, ${placement}`,
  );
  console.log(
    "scenario                  | server             |      qps | vs unbound | p50 ms | p99 ms | avg ms | lost",
  );
  console.log(
    "--------------------------|--------------------|----------|------------|--------|--------|--------|-----",
  );
  for (const [label, key] of rows) {
    for (const s of [ours, networkOnly, unbound]) {
      const r = med.get(s)![key];
      if (!r) continue;
      const ratio = pairedRatio(runs.get(s)!, unboundRuns, key, (x) => x.qps).median;
      console.log(
        `${label.padEnd(25)} | ${s.name.padEnd(18)} | ${f(r.qps, 0).padStart(8)} | ${f(ratio).padStart(10)} | ` +
          `${f(r.p50ms, 3).padStart(6)} | ${f(r.p99ms, 3).padStart(6)} | ${f(r.avgms, 3).padStart(6)} | ${r.lost}`,
      );
    }
  }
  const perRound = (phase: Phase, figure: (r: Run) => number | null) =>
    pairedRatio(oursRuns, unboundRuns, phase, figure).rounds.map((x) => x.toFixed(2)).join(" ");
  console.log(
    `per round, ours/unbound: cache-hot qps ${perRound("hot", (r) => r.qps)}; cache-cold qps ${
      perRound("cold", (r) => r.qps)
    }`,
  );
  console.log(
    `  p99 at full load ${perRound("loaded", (r) => r.p99ms)}; p99 at ${latencyQps} qps ${
      perRound("latency", (r) => r.p99ms)
    }`,
  );
  const verdicts = [verdict(oursRuns, unboundRuns, "median"), verdict(oursRuns, unboundRuns, "best")];
  for (const v of verdicts) {
    console.log(
      `target (cache-hot qps >= 1.0x Unbound's, p99 <= Unbound's) ${
        v.method === "median" ? "on the medians of the rounds' ratios" : "on each side's least disturbed round"
      }: ${v.met ? "met" : "NOT met"}: qps ${f(v.hotQpsRatio)}x, p99 at full load ${f(v.loadedP99Ratio)}x, ` +
        `p99 at ${latencyQps} qps ${f(v.fixedRateP99Ratio)}x`,
    );
  }
  console.log(
    "The full-speed run has no -v (printing each answer slows dnsperf), so its latency is dnsperf's average.",
  );

  const results = new URL("results/", ROOT);
  await Deno.mkdir(results, { recursive: true });
  const ratios = (rr: RoundRuns[]) =>
    Object.fromEntries(rows.flatMap(([, key]) => {
      const m = pairedRatio(rr, unboundRuns, key, (r) => r.qps).median;
      return m === null ? [] : [[key, m]];
    }));
  const report = {
    date: new Date().toISOString(),
    seconds,
    rounds,
    coldNames,
    latencyQps,
    prefix: PREFIX,
    placement,
    ours: med.get(ours),
    oursNetworkOnly: med.get(networkOnly),
    unbound: med.get(unbound),
    ratio: ratios(oursRuns),
    ratioNetworkOnly: ratios(networkOnlyRuns),
    target: { median: verdicts[0], best: verdicts[1] },
    perRound: { ours: oursRuns, oursNetworkOnly: networkOnlyRuns, unbound: unboundRuns },
  };
  await Deno.writeTextFile(new URL("dns64-bench.json", results), JSON.stringify(report, null, 2) + "\n");
  console.log(`written: results/dns64-bench.json`);
  // The last stdout line is the report as one JSON object, for `deno task bench` to fold in.
  console.log(JSON.stringify(report));
} finally {
  for (const d of started.reverse()) await d.stop();
  await Deno.remove(dir, { recursive: true });
}

/**
 * DNS64 benchmark: dnsperf against this listener (with the udp-batch path and with the
 * network-only path) and against Unbound with its dns64 module, one thread each, the
 * same nsd upstream, the same query files, cache-cold and cache-hot, in one run. Prints a table (qps, p50/p99 latency, ratio) and writes JSON to
 * results/dns64-bench.json (and prints it as the last stdout line). Every dnsperf run is
 * bounded in time.
 *
 * Usage: scripts/bench-dns64 [--seconds N] [--cold-names N] [--latency-qps N]
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

const PREFIX = "2001:db8:64::/96";
const BENCH_ZONE = "bench.example";
const ROOT = new URL("../../", import.meta.url);

interface Run {
  readonly qps: number;
  readonly p50ms: number | null;
  readonly p99ms: number | null;
  readonly avgms: number;
  readonly lost: number;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "seconds": { type: "string", default: "10" },
    "cold-names": { type: "string", default: "30000" },
    "latency-qps": { type: "string", default: "5000" },
  },
});
const seconds = Number(values.seconds);
const coldNames = Number(values["cold-names"]);
const latencyQps = Number(values["latency-qps"]);
for (const [flag, v] of [["seconds", seconds], ["cold-names", coldNames], ["latency-qps", latencyQps]] as const) {
  if (!Number.isInteger(v) || v <= 0) {
    console.error(`bench-dns64: --${flag} must be a positive whole number`);
    Deno.exit(2);
  }
}
const missing = missingBinary("nsd", "unbound", "dnsperf");
if (missing) {
  console.error(`bench-dns64: ${missing} is not installed (scripts/setup installs it)`);
  Deno.exit(1);
}

/** One A record per name, spread over a documentation range: every AAAA query is a synthesis. */
function benchZone(): string {
  const lines = [
    `$ORIGIN ${BENCH_ZONE}.`,
    "$TTL 3600",
    "@ SOA ns admin 1 3600 600 86400 600",
    "@ NS ns",
    "ns A 192.0.2.53",
  ];
  for (let i = 1; i <= coldNames; i++) lines.push(`h${i} A 198.51.100.${(i % 250) + 1}`);
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
  ...Array.from({ length: 92 }, (_, i) => `h${i + 1}.${BENCH_ZONE} AAAA`),
];

async function dnsperf(port: number, file: string, extra: string[]): Promise<Run> {
  const out = await new Deno.Command(findBinary("dnsperf")!, {
    args: ["-s", "127.0.0.1", "-p", String(port), "-d", file, "-c", "1", "-T", "1", "-t", "2", ...extra],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const latencies: number[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("> ")) latencies.push(Number(line.split(" ").at(-1)));
  }
  latencies.sort((a, b) => a - b);
  const pick = (p: number) =>
    latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] * 1000 : null;
  const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  return {
    qps: num(/Queries per second:\s+([\d.]+)/),
    p50ms: pick(0.5),
    p99ms: pick(0.99),
    avgms: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    lost: num(/Queries lost:\s+(\d+)/),
  };
}

/**
 * Starts our listener as its own process: with network permission only (the sandboxed
 * way), or with the udp-batch path, which also needs FFI.
 */
async function startOurs(upstreamPort: number, batch: boolean): Promise<Daemon> {
  const port = await freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--config",
      new URL("deno.json", ROOT).pathname,
      "--allow-net",
      ...(batch ? [`--allow-ffi=${defaultLibcPath()}`] : []),
      new URL("scripts/bench/dns64_listener.ts", ROOT).pathname,
      "--listen",
      `127.0.0.1:${port}`,
      "--upstream",
      `127.0.0.1:${upstreamPort}`,
      "--prefix",
      PREFIX,
      "--cache-size",
      String(coldNames * 2),
      ...(batch ? ["--udp-batch"] : []),
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const probe = Uint8Array.from([
    0,
    1,
    1,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    2,
    0x6e,
    0x73,
    5,
    ...new TextEncoder().encode("bench"),
    7,
    ...new TextEncoder().encode("example"),
    0,
    0,
    1,
    0,
    1,
  ]);
  for (let i = 0; i < 100; i++) {
    if (await exchange(port, probe, "udp", 200)) {
      return {
        port,
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

async function measure(name: string, start: () => Promise<Daemon>, dir: string): Promise<Record<string, Run>> {
  const server = await start();
  try {
    console.error(`bench-dns64: ${name}: cache-cold (${coldNames} names, each asked once)...`);
    const cold = await dnsperf(server.port, `${dir}/cold.txt`, ["-n", "1", "-l", String(seconds), "-v"]);
    await dnsperf(server.port, `${dir}/hot.txt`, ["-n", "1"]);
    console.error(`bench-dns64: ${name}: cache-hot, as fast as it answers...`);
    const hot = await dnsperf(server.port, `${dir}/hot.txt`, ["-l", String(seconds)]);
    console.error(`bench-dns64: ${name}: cache-hot latency at full load...`);
    const loaded = await dnsperf(server.port, `${dir}/hot.txt`, ["-l", String(Math.min(seconds, 5)), "-v"]);
    console.error(`bench-dns64: ${name}: cache-hot latency at ${latencyQps} qps...`);
    const latency = await dnsperf(server.port, `${dir}/hot.txt`, [
      "-l",
      String(Math.min(seconds, 5)),
      "-Q",
      String(latencyQps),
      "-v",
    ]);
    return { cold, hot, loaded, latency };
  } finally {
    await server.stop();
  }
}

const dir = await Deno.makeTempDir({ prefix: "bench-dns64-" });
let nsd: Daemon | null = null;
try {
  await Deno.writeTextFile(`${dir}/hot.txt`, HOT_QUERIES.join("\n") + "\n");
  await Deno.writeTextFile(
    `${dir}/cold.txt`,
    Array.from({ length: coldNames }, (_, i) => `h${i + 1}.${BENCH_ZONE} AAAA`).join("\n") + "\n",
  );
  nsd = await startNsd([{ name: BENCH_ZONE, text: benchZone() }]);
  const upstream = nsd.port;
  const stubs = [...ZONES.map((z) => z.name), BENCH_ZONE].map((name) => ({ name, port: upstream }));
  const sandboxed = await measure("this listener, network only", () => startOurs(upstream, false), dir);
  const batch = await measure("this listener, udp-batch", () => startOurs(upstream, true), dir);
  const unbound = await measure("unbound dns64", () => startUnbound({ stubs, dns64Prefix: PREFIX }), dir);

  const f = (v: number | null, d = 2) => (v === null || Number.isNaN(v) ? "-" : v.toFixed(d));
  const rows = [
    ["cache-hot, max qps", "hot"],
    ["cache-hot, full load -v", "loaded"],
    [`cache-hot @ ${latencyQps} qps`, "latency"],
    ["cache-cold", "cold"],
  ] as const;
  const servers = [["ours, udp-batch", batch], ["ours, network only", sandboxed], ["unbound dns64", unbound]] as const;
  console.log(
    `DNS64 benchmark: dnsperf, 1 client thread, ${seconds} s runs, upstream nsd on loopback, prefix ${PREFIX}`,
  );
  console.log("scenario                | server             |      qps | vs unbound | p50 ms | p99 ms | avg ms | lost");
  console.log("------------------------|--------------------|----------|------------|--------|--------|--------|-----");
  for (const [label, key] of rows) {
    for (const [name, runs] of servers) {
      const r = runs[key];
      console.log(
        `${label.padEnd(23)} | ${name.padEnd(18)} | ${f(r.qps, 0).padStart(8)} | ${
          f(r.qps / unbound[key].qps).padStart(10)
        } | ` +
          `${f(r.p50ms, 3).padStart(6)} | ${f(r.p99ms, 3).padStart(6)} | ${f(r.avgms, 3).padStart(6)} | ${r.lost}`,
      );
    }
  }
  console.log("p50/p99 come from every answer (dnsperf -v); the max-qps run has no -v, as printing each answer slows");
  console.log("dnsperf, so its latency is dnsperf's average only. Figures vary with other load on the machine.");

  const results = new URL("results/", ROOT);
  await Deno.mkdir(results, { recursive: true });
  const report = {
    date: new Date().toISOString(),
    seconds,
    coldNames,
    latencyQps,
    prefix: PREFIX,
    ours: batch,
    oursNetworkOnly: sandboxed,
    unbound,
    ratio: Object.fromEntries(rows.map(([, key]) => [key, batch[key].qps / unbound[key].qps])),
    ratioNetworkOnly: Object.fromEntries(rows.map(([, key]) => [key, sandboxed[key].qps / unbound[key].qps])),
  };
  await Deno.writeTextFile(new URL("dns64-bench.json", results), JSON.stringify(report, null, 2) + "\n");
  console.log(`written: results/dns64-bench.json`);
  // The last stdout line is the report as one JSON object, for `deno task bench` to fold in.
  console.log(JSON.stringify(report));
} finally {
  await nsd?.stop();
  await Deno.remove(dir, { recursive: true });
}

/**
 * Datapath benchmark: packets per second and round-trip time through a real TUN, for
 * the two ways of waiting for packets:
 *   async   the loop on the main thread, waiting with `poll` as non-blocking FFI
 *           (one Promise per batch; the event loop stays free) — what the gateway uses
 *   worker  the loop in a Worker, waiting with a blocking `poll` (a Worker loads its
 *           modules at run time, so it needs `--allow-read` of the source tree on top of
 *           the gateway's permissions)
 *
 * In a network namespace of its own, the echo gateway (test/tun/fixtures) answers every
 * UDP datagram routed into its TUN, and a libc-driven UDP socket (udp_load.ts) floods
 * it for `--seconds`, then measures `--count` round trips one at a time. The gateway
 * is pinned to CPU 0 and the load to CPU 1 (when there are two), so runs compare the
 * same placement; modes alternate for `--rounds` and the median of each is printed.
 * Needs root.
 *
 *   deno run -A test/tun/bench_datapath.ts [--seconds 5] [--count 20000] [--slots 64] [--rounds 3]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { GATEWAY_PERMISSIONS, Netns } from "./netns.ts";
import { defaultLibcPath } from "../../src/tun/libc.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "5" },
    count: { type: "string", default: "20000" },
    slots: { type: "string", default: "64" },
    rounds: { type: "string", default: "3" },
    modes: { type: "string", default: "async,worker" },
  },
});

const TARGET = "2001:db8:64::c633:6402";
const REPO = new URL("../..", import.meta.url).pathname;
const pinned = navigator.hardwareConcurrency >= 2;
const onCpu = (cpu: number) => (pinned ? ["taskset", "-c", String(cpu)] : []);

interface Row {
  mode: string;
  floodSentPerS: number;
  echoedPerS: number;
  gatewayInPerS: number;
  meanBatch: number;
  writeErrors: number;
  rttP50us: number;
  rttP90us: number;
  rttP99us: number;
}

async function measure(ns: Netns, mode: string): Promise<Row> {
  const permissions = mode === "worker" ? [...GATEWAY_PERMISSIONS, `--allow-read=${REPO}`] : GATEWAY_PERMISSIONS;
  const gw = ns.spawnDeno(
    "echo_gateway.ts",
    [
      "--mode",
      mode,
      "--name",
      "bench0",
      "--slots",
      values.slots,
      "--address",
      "2001:db8:1::1/128",
      "--route",
      "2001:db8:64::/96",
    ],
    permissions,
    onCpu(0),
  );
  try {
    const ready = await gw.line(10_000);
    if (!ready?.startsWith("ready")) throw new Error(`echo gateway did not start: ${ready}`);
    const ffi = [`--allow-ffi=${defaultLibcPath()}`];
    const load = (args: string[]) => ns.runDenoJson("udp_load.ts", ["--to", TARGET, ...args], ffi, onCpu(1));
    const pp = await load(["--mode", "pingpong", "--count", values.count]);
    const flood = await load(["--mode", "flood", "--seconds", values.seconds]);
    const exit = await gw.stop();
    if (exit.error) throw new Error(`echo gateway: ${exit.error}`);
    const stats = exit.stats as Record<string, number>;
    const floodIn = stats.packetsIn - Number(values.count);
    return {
      mode,
      floodSentPerS: Math.round(Number(flood.sent) / Number(flood.seconds)),
      echoedPerS: Number(flood.receivedPerSecond),
      gatewayInPerS: Math.round(floodIn / Number(flood.seconds)),
      meanBatch: Math.round((stats.packetsIn / stats.batches) * 10) / 10,
      writeErrors: stats.writeErrors,
      rttP50us: Number(pp.rttP50us),
      rttP90us: Number(pp.rttP90us),
      rttP99us: Number(pp.rttP99us),
    };
  } finally {
    await gw.kill();
  }
}

function median(rows: Row[], mode: string): Row {
  const mid = <K extends keyof Row>(k: K) => {
    const v = rows.map((r) => r[k] as number).sort((a, b) => a - b);
    return v[Math.floor(v.length / 2)];
  };
  return {
    mode: `${mode} (median)`,
    floodSentPerS: mid("floodSentPerS"),
    echoedPerS: mid("echoedPerS"),
    gatewayInPerS: mid("gatewayInPerS"),
    meanBatch: mid("meanBatch"),
    writeErrors: mid("writeErrors"),
    rttP50us: mid("rttP50us"),
    rttP90us: mid("rttP90us"),
    rttP99us: mid("rttP99us"),
  };
}

const ns = await Netns.create("bench");
try {
  const modes = values.modes.split(",");
  const rows: Row[] = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const mode of modes) rows.push(await measure(ns, mode));
  }
  console.log(
    `datapath through a TUN: echo engine, ${values.slots} slots, 64-byte UDP payloads, ` +
      `${values.seconds} s flood + ${values.count} round trips per run, ${Deno.build.arch}, ` +
      `${navigator.hardwareConcurrency} CPUs${pinned ? ", gateway on CPU 0, load on CPU 1" : ""}`,
  );
  console.table([...rows, ...modes.map((m) => median(rows.filter((r) => r.mode === m), m))]);
} finally {
  await ns.delete();
}

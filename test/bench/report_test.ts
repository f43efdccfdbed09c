/** Ratios, number formatting, and the printed table and notes of a bench result. */

import { deepStrictEqual as eq, match } from "node:assert/strict";
import {
  alignColumns,
  type BenchResult,
  type ColumnResult,
  figuresTable,
  formatRatio,
  formatValue,
  notes,
  ratios,
} from "../../scripts/bench/report.ts";

const column = (metrics: ColumnResult["metrics"], status: ColumnResult["status"] = "ok"): ColumnResult => ({
  status,
  note: "",
  pinning: "iperf3 client CPU 1, iperf3 server CPU 1",
  metrics,
  rounds: [
    { status, note: "", busyPct: { before: 2, after: 3 }, metrics },
    { status, note: "", busyPct: { before: 50, after: 3 }, metrics: {} },
  ],
});

/** A result shaped like a real run; the figures are made up for the test. */
export function sampleResult(): BenchResult {
  const kernel = column({ tcp1Gbps: 16, udp64Kpps: 400, udp64LossPct: 1, rttMedianUs: 40 });
  const tayga = column({ tcp1Gbps: 1.25, udp64Kpps: 90, udp64LossPct: 70, rttMedianUs: 80, cpuPerGbps: 0.8 });
  const plain = column({ tcp1Gbps: 0.25, udp64Kpps: 0, udp64LossPct: 99.5, rttMedianUs: 250 });
  const gateway = column({ tcp1Gbps: 0.5, udp64Kpps: 0, udp64LossPct: 99, rttMedianUs: 200, cpuPerGbps: 2 });
  return {
    format: "nat64-bench/1",
    date: "2026-01-02T03:04:05.000Z",
    quick: false,
    host: { kernel: "6.1", cpus: 2, loadavgBefore: "0.1 0.2 0.3", loadavgAfter: "1 1 1" },
    settings: {
      seconds: 8,
      omitSeconds: 1,
      rounds: 2,
      rttCount: 2000,
      gatewayMode: "nat64",
      gatewayCommand: ["deno", "task", "nat64", "run"],
      nat64Prefix: "2001:db8:64::/96",
      target: "2001:db8:64::c633:6402",
    },
    columns: { kernel, tayga, "gateway-no-offloads": plain, gateway },
    ratios: {
      gatewayVsTayga: ratios(gateway, tayga),
      gatewayVsKernel: ratios(gateway, kernel),
      gatewayVsNoOffloads: ratios(gateway, plain),
    },
    controlStats: {
      status: "ok",
      note: "",
      timesMs: [1, 1.25, 1.5, 61],
      medianMs: 1.25,
      maxMs: 61,
      budgetMs: 50,
      cliMs: 412.4,
      benchTimerLateMs: 0.25,
    },
    dns64: {
      status: "ok",
      note: "",
      qps: { "ours.hot": 20123.4, "unbound.hot": 150000, "ours.cold": 135, "unbound.cold": 0 },
      report: {},
    },
  };
}

Deno.test("ratios: only metrics both columns have, never for loss, never over zero", () => {
  const r = ratios(
    column({ tcp1Gbps: 0.5, udp64Kpps: 9, udp64LossPct: 50, rttMedianUs: 100 }),
    column({ tcp1Gbps: 2, udp64Kpps: 0, udp64LossPct: 25, cpuPerGbps: 1 }),
  );
  eq(r, { tcp1Gbps: 0.25 });
});

Deno.test("values and ratios: decimals, n/a and a dash for what is missing", () => {
  eq(formatValue(1.236, 2), "1.24");
  eq(formatValue(undefined, 2), "n/a");
  eq(formatValue(null, 0), "n/a");
  eq(formatValue(NaN, 1), "n/a");
  eq(formatRatio(0.4), "0.40×");
  eq(formatRatio(12.34), "12.3×");
  eq(formatRatio(undefined), "—");
});

Deno.test("columns line up: label left, figures right, µs and × counted as one character each", () => {
  eq(alignColumns([["a", "x"], ["µs long", "10×"]]), ["a          x", "µs long  10×"]);
});

Deno.test("the table: a header, one row per metric, the gateway's ratios to TAYGA, the kernel and itself without offloads", () => {
  const lines = figuresTable(sampleResult());
  match(lines[0], /^\s+kernel IPv6\s+TAYGA\s+gw no offloads\s+this gateway\s+gw\/TAYGA\s+gw\/kernel\s+offloads$/);
  eq(lines.length, 14);
  eq(lines[1].split(/\s{2,}/), ["TCP 1 stream (Gbit/s)", "16.00", "1.25", "0.25", "0.50", "0.40×", "0.03×", "2.00×"]);
  eq(lines.find((l) => l.startsWith("UDP 64 B loss"))!.split(/\s{2,}/), [
    "UDP 64 B loss (%)",
    "1.0",
    "70.0",
    "99.5",
    "99.0",
    "—",
    "—",
    "—",
  ]);
  eq(lines.find((l) => l.startsWith("ping RTT median"))!.split(/\s{2,}/), [
    "ping RTT median (µs)",
    "40",
    "80",
    "250",
    "200",
    "2.50×",
    "5.00×",
    "0.80×",
  ]);
  eq(lines.find((l) => l.startsWith("CPU per"))!.split(/\s{2,}/), [
    "CPU per Gbit/s (cores, TCP 1)",
    "n/a",
    "0.80",
    "n/a",
    "2.00",
    "2.50×",
    "—",
    "—",
  ]);
});

Deno.test("notes: rounds and pinning per column, the stats check against its budget, DNS64 qps", () => {
  const r = sampleResult();
  r.columns.gateway = {
    ...r.columns.gateway,
    status: "unavailable",
    note: "not available yet: no run",
    rounds: [{
      status: "unavailable",
      note: "not available yet: no run",
      busyPct: { before: 1, after: 1 },
      metrics: {},
    }],
  };
  eq(notes(r), [
    "kernel IPv6: 2 rounds, 1 quiet; iperf3 client CPU 1, iperf3 server CPU 1",
    "TAYGA: 2 rounds, 1 quiet; iperf3 client CPU 1, iperf3 server CPU 1",
    "gw no offloads: 2 rounds, 1 quiet; iperf3 client CPU 1, iperf3 server CPU 1",
    "this gateway [unavailable]: not available yet: no run; 1 round, 1 quiet; iperf3 client CPU 1, iperf3 server CPU 1",
    "nat64 stats under iperf3 load: 4 control-socket queries, median 1.3 ms, max 61.0 ms (NOT within 50 ms; " +
    "the bench's own timers ran 0.3 ms late); the CLI took 412 ms with Deno's start-up",
    "DNS64 qps, this listener vs Unbound (scripts/bench-dns64): cache-hot 20123 vs 150000 (0.13×); cache-cold 135 vs 0",
  ]);
});

Deno.test("notes: a missing stats check or DNS64 bench says so; a column without a quiet round is flagged", () => {
  const r = sampleResult();
  r.controlStats = { ...r.controlStats, status: "unavailable", note: "the gateway column did not run" };
  r.dns64 = { status: "unavailable", note: "scripts/bench-dns64 does not exist yet", qps: {}, report: null };
  r.columns.kernel.rounds[0].busyPct = { before: 3, after: 37 };
  r.columns.tayga.rounds[0].busyPct = { before: 10, after: 10 };
  r.columns.gateway.rounds[0].busyPct = { before: 91.6, after: 1 };
  eq(notes(r).slice(4), [
    "nat64 stats under iperf3 load: unavailable (the gateway column did not run)",
    "DNS64 qps, this listener vs Unbound (scripts/bench-dns64): not available (scripts/bench-dns64 does not exist yet)",
    "warning: no round of kernel IPv6, this gateway had the machine to itself (other work above 10 % of the CPUs " +
    "before or after); those figures are unreliable",
  ]);
  r.controlStats = { ...sampleResult().controlStats, maxMs: 12 };
  match(notes(r)[4], /max 12\.0 ms \(within 50 ms;/);
});

Deno.test("notes: the stats check says what the queries cost the gateway's throughput", () => {
  const r = sampleResult();
  r.columns.gateway.metrics = { ...r.columns.gateway.metrics, tcp4Gbps: 9, tcp4QuietGbps: 9.2 };
  match(notes(r)[4], /moved 9\.00 Gbit\/s over 4 streams while queried, 9\.20 without \(0\.98×\)$/);
});

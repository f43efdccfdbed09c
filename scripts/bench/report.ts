/**
 * The bench's results: their shape (the JSON written under results/), the ratios of this
 * gateway to TAYGA and to the kernel, and the table printed at the end.
 *
 * @module
 */

/**
 * The things measured side by side: the kernel's own forwarding (the ceiling), TAYGA,
 * and this gateway twice, without TUN offloads (`--no-offloads`: one packet per read and
 * write, the way TAYGA works) and as it ships, so the table shows what offloads bring.
 */
export type ColumnName = "kernel" | "tayga" | "gateway-no-offloads" | "gateway";

/** The columns in the order they are run and shown. */
export const COLUMNS: readonly ColumnName[] = ["kernel", "tayga", "gateway-no-offloads", "gateway"];

/** How each column is headed. */
export const COLUMN_LABELS: Record<ColumnName, string> = {
  kernel: "kernel IPv6",
  tayga: "TAYGA",
  "gateway-no-offloads": "gw no offloads",
  gateway: "this gateway",
};

/** The figures of one column, by metric key. */
export type MetricKey =
  | "tcp1Gbps"
  | "tcp4Gbps"
  | "tcp4QuietGbps"
  | "udp64Kpps"
  | "udp64OfferedKpps"
  | "udp64LossPct"
  | "udp64LosslessKpps"
  | "udp1400Kpps"
  | "udp1400OfferedKpps"
  | "udp1400LossPct"
  | "rttMedianUs"
  | "rttP99Us"
  | "cpuPerGbps";

/** How a metric is shown. */
export interface MetricSpec {
  key: MetricKey;
  /** Row label, with the unit. */
  label: string;
  /** Decimals shown. */
  digits: number;
  /** Whether gateway/other ratios mean anything (not for loss percentages). */
  ratio: boolean;
  /** Which way is better, for the chart's panel title. */
  better: "higher" | "lower";
  /** Whether the SVG chart draws it. */
  chart: boolean;
}

/** Every metric, in table order. */
export const METRICS: readonly MetricSpec[] = [
  { key: "tcp1Gbps", label: "TCP 1 stream (Gbit/s)", digits: 2, ratio: true, better: "higher", chart: true },
  { key: "tcp4Gbps", label: "TCP 4 streams (Gbit/s)", digits: 2, ratio: true, better: "higher", chart: true },
  {
    key: "tcp4QuietGbps",
    label: "TCP 4 streams, no stats queries (Gbit/s)",
    digits: 2,
    ratio: false,
    better: "higher",
    chart: false,
  },
  { key: "udp64Kpps", label: "UDP 64 B delivered (kpps)", digits: 1, ratio: true, better: "higher", chart: true },
  {
    key: "udp64OfferedKpps",
    label: "UDP 64 B offered (kpps)",
    digits: 1,
    ratio: false,
    better: "higher",
    chart: false,
  },
  { key: "udp64LossPct", label: "UDP 64 B loss (%)", digits: 1, ratio: false, better: "lower", chart: false },
  {
    key: "udp64LosslessKpps",
    label: "UDP 64 B at ≤0.1 % loss (kpps)",
    digits: 1,
    ratio: true,
    better: "higher",
    chart: true,
  },
  { key: "udp1400Kpps", label: "UDP 1400 B delivered (kpps)", digits: 1, ratio: true, better: "higher", chart: true },
  {
    key: "udp1400OfferedKpps",
    label: "UDP 1400 B offered (kpps)",
    digits: 1,
    ratio: false,
    better: "higher",
    chart: false,
  },
  { key: "udp1400LossPct", label: "UDP 1400 B loss (%)", digits: 1, ratio: false, better: "lower", chart: false },
  { key: "rttMedianUs", label: "ping RTT median (µs)", digits: 0, ratio: true, better: "lower", chart: true },
  { key: "rttP99Us", label: "ping RTT p99 (µs)", digits: 0, ratio: true, better: "lower", chart: true },
  { key: "cpuPerGbps", label: "CPU per Gbit/s (cores, TCP 1)", digits: 2, ratio: true, better: "lower", chart: true },
];

/** What happened to a column (or to the DNS64 or stats check). */
export type Status = "ok" | "unavailable" | "failed" | "skipped";

/** One round of one column. */
export interface RoundResult {
  status: Status;
  /** Why it is not "ok", or what to know about it; "" when there is nothing to say. */
  note: string;
  /** Share of all CPUs other work kept busy in the second before the round and the second after, percent. */
  busyPct: { before: number; after: number };
  /** The figures measured; a round that failed half-way keeps the ones it got. */
  metrics: Partial<Record<MetricKey, number>>;
}

/** One column's outcome over its rounds (see rounds.ts). */
export interface ColumnResult {
  /** "ok" if any round was. */
  status: Status;
  /** The distinct notes of its rounds. */
  note: string;
  /** Where its processes ran (see pinning.ts). */
  pinning: string;
  /** The best figures over the rounds, group by group. */
  metrics: Partial<Record<MetricKey, number>>;
  /** Every round as measured. */
  rounds: RoundResult[];
}

/** The `nat64 stats` check: control-socket queries timed while iperf3 loads the gateway. */
export interface ControlStatsResult {
  status: Status;
  note: string;
  /** Each answered query's time. */
  timesMs: number[];
  medianMs: number | null;
  maxMs: number | null;
  /** The longest a query may take to pass. */
  budgetMs: number;
  /** Wall time of one `deno task nat64 stats --json` under load, Deno's start-up included. */
  cliMs: number | null;
  /** Median lateness of the bench's own timers meanwhile: its share of a query's time. */
  benchTimerLateMs: number | null;
}

/** The DNS64 figures folded in from scripts/bench-dns64. */
export interface Dns64Result {
  status: Status;
  note: string;
  /** Queries per second by "<side>.<phase>": sides "ours" and "unbound", phases "hot" and "cold" (cache). */
  qps: Record<string, number>;
  /** Its report, as it wrote it. */
  report: unknown;
}

/** Everything one bench run writes to results/bench-<date>.json. */
export interface BenchResult {
  format: "nat64-bench/1";
  date: string;
  quick: boolean;
  host: { kernel: string; cpus: number; loadavgBefore: string; loadavgAfter: string };
  settings: {
    seconds: number;
    omitSeconds: number;
    /** Rounds of each column; the figures are the best round's (see rounds.ts). */
    rounds: number;
    rttCount: number;
    gatewayMode: string;
    gatewayCommand: string[];
    nat64Prefix: string;
    target: string;
  };
  columns: Record<ColumnName, ColumnResult>;
  ratios: {
    gatewayVsTayga: Partial<Record<MetricKey, number>>;
    gatewayVsKernel: Partial<Record<MetricKey, number>>;
    /** What the offloads bring: the gateway over itself with `--no-offloads`. */
    gatewayVsNoOffloads: Partial<Record<MetricKey, number>>;
  };
  controlStats: ControlStatsResult;
  dns64: Dns64Result;
}

/** `num / den` for every ratio metric both columns have (and `den` is not 0). */
export function ratios(
  num: ColumnResult,
  den: ColumnResult,
): Partial<Record<MetricKey, number>> {
  const out: Partial<Record<MetricKey, number>> = {};
  for (const m of METRICS) {
    const a = num.metrics[m.key], b = den.metrics[m.key];
    if (m.ratio && a !== undefined && b !== undefined && b !== 0) out[m.key] = a / b;
  }
  return out;
}

/** `value` with `digits` decimals, or "n/a". */
export function formatValue(value: number | undefined | null, digits: number): string {
  return value === undefined || value === null || !Number.isFinite(value) ? "n/a" : value.toFixed(digits);
}

/** A ratio as "0.42×", or "—" when there is none. */
export function formatRatio(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return "—";
  return `${value < 10 ? value.toFixed(2) : value.toFixed(1)}×`;
}

/** Lays out rows of cells: the first column left-aligned, the others right-aligned. */
export function alignColumns(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => [...r[i]].length)));
  return rows.map((r) =>
    r.map((cell, i) => {
      const pad = " ".repeat(widths[i] - [...cell].length);
      return i === 0 ? cell + pad : pad + cell;
    }).join("  ").trimEnd()
  );
}

/** The figures table: one row per metric, the columns, then gateway/TAYGA, gateway/kernel and offloads on/off. */
export function figuresTable(result: BenchResult): string[] {
  const head = ["", ...COLUMNS.map((c) => COLUMN_LABELS[c]), "gw/TAYGA", "gw/kernel", "offloads"];
  const rows = METRICS.map((m) => [
    m.label,
    ...COLUMNS.map((c) => formatValue(result.columns[c].metrics[m.key], m.digits)),
    formatRatio(result.ratios.gatewayVsTayga[m.key]),
    formatRatio(result.ratios.gatewayVsKernel[m.key]),
    formatRatio(result.ratios.gatewayVsNoOffloads?.[m.key]),
  ]);
  return alignColumns([head, ...rows]);
}

/** "cache-hot 19140 vs Unbound 147564 (0.13×)" for each phase both sides have. */
function dns64Line(d: Dns64Result): string {
  const head = "DNS64 qps, this listener vs Unbound (scripts/bench-dns64)";
  if (d.status !== "ok") {
    return `${head}: ${d.status === "unavailable" ? "not available" : d.status}${d.note ? ` (${d.note})` : ""}`;
  }
  const phases = ["hot", "cold"].flatMap((phase) => {
    const ours = d.qps[`ours.${phase}`], unbound = d.qps[`unbound.${phase}`];
    if (ours === undefined || unbound === undefined) return [];
    const ratio = unbound > 0 ? ` (${formatRatio(ours / unbound)})` : "";
    return [`cache-${phase} ${ours.toFixed(0)} vs ${unbound.toFixed(0)}${ratio}`];
  });
  return `${head}: ${phases.length ? phases.join("; ") : "no phase with both sides"}`;
}

/** Above this share of all CPUs busy before or after a round, the round is not quiet. */
export const BUSY_WARNING_PCT = 10;

/** True when other work stayed at or below BUSY_WARNING_PCT before and after the round. */
export function quiet(round: RoundResult): boolean {
  return Math.max(round.busyPct.before, round.busyPct.after) <= BUSY_WARNING_PCT;
}

/** The lines under the table: each column's status and pinning, the stats check, DNS64, machine load. */
export function notes(result: BenchResult): string[] {
  const lines = COLUMNS.map((c) => {
    const col = result.columns[c];
    const state = col.status === "ok" ? "" : ` [${col.status}]`;
    const rounds = col.rounds.length === 0
      ? ""
      : `${col.rounds.length} round${col.rounds.length === 1 ? "" : "s"}, ${col.rounds.filter(quiet).length} quiet`;
    return `${COLUMN_LABELS[c]}${state}: ${[col.note, rounds, col.pinning].filter((t) => t !== "").join("; ")}`;
  });
  const cs = result.controlStats;
  if (cs.status === "ok") {
    const verdict = cs.maxMs !== null && cs.maxMs <= cs.budgetMs ? "within" : "NOT within";
    const gw = result.columns.gateway.metrics;
    const cost = gw.tcp4Gbps !== undefined && gw.tcp4QuietGbps
      ? `; this gateway moved ${gw.tcp4Gbps.toFixed(2)} Gbit/s over 4 streams while queried, ${
        gw.tcp4QuietGbps.toFixed(2)
      } without (${formatRatio(gw.tcp4Gbps / gw.tcp4QuietGbps)})`
      : "";
    const ms = (v: number | null, digits = 1) => `${formatValue(v, digits)} ms`;
    lines.push(
      `nat64 stats under iperf3 load: ${cs.timesMs.length} control-socket queries, median ${ms(cs.medianMs)}, ` +
        `max ${ms(cs.maxMs)} (${verdict} ${cs.budgetMs} ms; the bench's own timers ran ${
          ms(cs.benchTimerLateMs)
        } late); the CLI took ${ms(cs.cliMs, 0)} with Deno's start-up${cost}`,
    );
  } else {
    lines.push(`nat64 stats under iperf3 load: ${cs.status}${cs.note ? ` (${cs.note})` : ""}`);
  }
  lines.push(dns64Line(result.dns64));
  const noisy = COLUMNS.filter((c) => result.columns[c].rounds.length > 0 && !result.columns[c].rounds.some(quiet))
    .map((c) => COLUMN_LABELS[c]);
  if (noisy.length > 0) {
    lines.push(
      `warning: no round of ${noisy.join(", ")} had the machine to itself (other work above ${BUSY_WARNING_PCT} % ` +
        `of the CPUs before or after); those figures are unreliable`,
    );
  }
  return lines;
}

/**
 * `nat64 stats` as text: the gateway's status line, then traffic per side, direction
 * and protocol, drops by reason, ICMP errors sent, sessions/BIB/pool4 per protocol,
 * DNS64 and any other counters. Like `jool stats display`, zero counters are hidden
 * unless `all` is set. Given the previous snapshot, each counter also gets its rate
 * (the `--watch` view).
 *
 * @module
 */

import { classifyCounter, type CounterClass, toNumber } from "./counters.ts";
import { type Column, renderTable } from "./table.ts";
import { formatDuration, formatSi } from "./units.ts";
import type { GatewayStatus } from "./view.ts";

/** Counters read at one moment. */
export interface StatsSnapshot {
  /** The counters by name. */
  counters: Record<string, number | bigint>;
  /** When they were read, monotonic milliseconds. */
  atMs: number;
}

/** What to show. */
export interface StatsRenderOptions {
  /** Show zero counters too. */
  all?: boolean;
  /** The snapshot before this one: adds per-second rates. */
  previous?: StatsSnapshot;
}

/** Known protocols first, then others by name, then the all-protocol totals. */
const PROTO_ORDER = ["tcp", "udp", "icmp"];
/** Translation direction first (6→4: in6 then out4; 4→6: in4 then out6), then protocol. */
const SIDE_ORDER = ["in6", "out4", "in4", "out6"];

const protoRank = (p: string) =>
  PROTO_ORDER.includes(p) ? PROTO_ORDER.indexOf(p) : p === "all" ? PROTO_ORDER.length + 1 : PROTO_ORDER.length;
const byProto = (a: string, b: string) => protoRank(a) - protoRank(b) || a.localeCompare(b);

/** Per-second rate of `name` between two snapshots, or undefined without a previous one. */
function rate(name: string, now: StatsSnapshot, previous?: StatsSnapshot): number | undefined {
  if (!previous || !(name in previous.counters)) return undefined;
  const dt = (now.atMs - previous.atMs) / 1000;
  if (dt <= 0) return undefined;
  // A counter that went down means the gateway restarted; its rate is unknown, not negative.
  const delta = toNumber(now.counters[name]) - toNumber(previous.counters[name]);
  return delta < 0 ? undefined : delta / dt;
}

const rateText = (r: number | undefined) => (r === undefined ? "" : formatSi(r));
const isZero = (v: number | bigint | undefined) => v === undefined || v === 0 || v === 0n;

function statusLine(s: GatewayStatus): string {
  return `nat64 ${s.version}  mode ${s.mode}  tun ${s.tun}  pid ${s.pid}  up ${
    formatDuration(s.uptimeS)
  }  since ${s.startedAt}`;
}

interface Classified {
  name: string;
  value: number | bigint;
  cls: CounterClass;
}

/** The items of one kind, typed as that kind. */
function pick<K extends CounterClass["kind"]>(items: Classified[], kind: K) {
  return items.filter((i) => i.cls.kind === kind) as (Classified & { cls: Extract<CounterClass, { kind: K }> })[];
}

function trafficSection(items: Classified[], snap: StatsSnapshot, opts: StatsRenderOptions): string[] {
  const rows = new Map<string, { side: string; proto: string; packets?: string; bytes?: string }>();
  for (const { name, cls } of items) {
    if (cls.kind !== "traffic") continue;
    const side = `${cls.direction}${cls.family}`;
    const key = `${side} ${cls.proto}`;
    const row = rows.get(key) ?? { side, proto: cls.proto };
    row[cls.unit] = name;
    rows.set(key, row);
  }
  const ordered = [...rows.values()]
    .filter((r) => opts.all || !isZero(snap.counters[r.packets ?? ""]) || !isZero(snap.counters[r.bytes ?? ""]))
    .sort((a, b) => SIDE_ORDER.indexOf(a.side) - SIDE_ORDER.indexOf(b.side) || byProto(a.proto, b.proto));
  if (ordered.length === 0) return [];
  const withRates = opts.previous !== undefined;
  const columns: Column[] = [
    { title: "traffic", align: "left" },
    { title: "", align: "left" },
    { title: "packets", align: "right" },
    { title: "bytes", align: "right" },
  ];
  if (withRates) columns.push({ title: "pkt/s", align: "right" }, { title: "bit/s", align: "right" });
  const sideText = (side: string) => `  ${side.startsWith("in") ? "in from" : "out to"} IPv${side.slice(-1)}`;
  return renderTable(
    columns,
    ordered.map((r) => {
      const cells = [
        sideText(r.side),
        r.proto,
        r.packets ? String(snap.counters[r.packets]) : "",
        r.bytes ? String(snap.counters[r.bytes]) : "",
      ];
      if (withRates) {
        const bytesRate = r.bytes ? rate(r.bytes, snap, opts.previous) : undefined;
        cells.push(
          r.packets ? rateText(rate(r.packets, snap, opts.previous)) : "",
          rateText(bytesRate === undefined ? undefined : bytesRate * 8),
        );
      }
      return cells;
    }),
  );
}

/** A two- or three-column section: label, value, and the rate in watch mode. */
function listSection(
  title: string,
  rows: { label: string; name: string }[],
  snap: StatsSnapshot,
  opts: StatsRenderOptions,
) {
  const shown = rows.filter((r) => opts.all || !isZero(snap.counters[r.name]));
  if (shown.length === 0) return [];
  const withRates = opts.previous !== undefined;
  const columns: Column[] = [{ title: title, align: "left" }, { title: "count", align: "right" }];
  if (withRates) columns.push({ title: "/s", align: "right" });
  return renderTable(
    columns,
    shown.map((r) => {
      const cells = [`  ${r.label}`, String(snap.counters[r.name])];
      if (withRates) cells.push(rateText(rate(r.name, snap, opts.previous)));
      return cells;
    }),
  );
}

function stateSection(items: Classified[], snap: StatsSnapshot): string[] {
  const protos = new Set<string>();
  const names = new Map<string, string>();
  for (const { name, cls } of items) {
    if (cls.kind === "sessions" || cls.kind === "bib") names.set(`${cls.kind} ${cls.proto}`, name);
    else if (cls.kind === "pool4") names.set(`pool4_${cls.use} ${cls.proto}`, name);
    else continue;
    protos.add(cls.proto);
  }
  if (protos.size === 0) return [];
  const value = (key: string) => {
    const name = names.get(key);
    return name === undefined ? undefined : snap.counters[name];
  };
  const columns: Column[] = [
    { title: "state", align: "left" },
    { title: "sessions", align: "right" },
    { title: "BIB", align: "right" },
    { title: "pool4 used", align: "right" },
    { title: "pool4 size", align: "right" },
    { title: "used", align: "right" },
  ];
  return renderTable(
    columns,
    [...protos].sort(byProto).map((proto) => {
      const used = value(`pool4_used ${proto}`);
      const size = value(`pool4_size ${proto}`);
      const share = used !== undefined && size !== undefined && toNumber(size) > 0
        ? `${(100 * toNumber(used) / toNumber(size)).toFixed(1)}%`
        : "";
      const text = (v: number | bigint | undefined) => (v === undefined ? "-" : String(v));
      return [
        `  ${proto}`,
        text(value(`sessions ${proto}`)),
        text(value(`bib ${proto}`)),
        text(used),
        text(size),
        share,
      ];
    }),
  );
}

/** The stats view as lines of text. */
export function renderStats(status: GatewayStatus, snap: StatsSnapshot, opts: StatsRenderOptions = {}): string[] {
  const items: Classified[] = Object.entries(snap.counters)
    .map(([name, value]) => ({ name, value, cls: classifyCounter(name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const sections: string[][] = [
    trafficSection(items, snap, opts),
    listSection(
      "translated",
      pick(items, "translated").map((i) => ({ label: i.cls.direction.replace("to", " → "), name: i.name })),
      snap,
      opts,
    ),
    listSection("drops", pick(items, "drop").map((i) => ({ label: i.cls.reason, name: i.name })), snap, opts),
    listSection(
      "ICMP errors sent",
      pick(items, "icmp_error").map((i) => ({
        label: `ICMPv${i.cls.family}${i.cls.type ? ` ${i.cls.type}` : ""}`,
        name: i.name,
      })),
      snap,
      opts,
    ),
    stateSection(items, snap),
    listSection("DNS64", pick(items, "dns64").map((i) => ({ label: i.cls.name, name: i.name })), snap, opts),
    listSection("other", pick(items, "other").map((i) => ({ label: i.name, name: i.name })), snap, opts),
  ];
  const lines = [statusLine(status)];
  for (const s of sections) if (s.length > 0) lines.push("", ...s);
  if (lines.length === 1) {
    lines.push("", items.length === 0 ? "the gateway reports no counters" : "every counter is zero (--all shows them)");
  }
  return lines;
}

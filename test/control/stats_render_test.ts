/** The stats view's arithmetic and the counter grammar: rates from deltas, resets, units, names. */

import { deepStrictEqual as eq, match, ok } from "node:assert/strict";
import { classifyCounter, isGauge } from "../../src/control/counters.ts";
import { renderStats } from "../../src/control/stats_render.ts";
import { renderTable } from "../../src/control/table.ts";
import { formatDuration, formatSi } from "../../src/control/units.ts";
import type { GatewayStatus } from "../../src/control/view.ts";

const STATUS: GatewayStatus = {
  version: "1",
  mode: "siit",
  startedAt: "2026-01-01T00:00:00Z",
  uptimeS: 90061,
  tun: "t",
  pid: 1,
};

Deno.test("rates: packets and bits per second from the change over the elapsed time", () => {
  const previous = { counters: { in6_udp_packets: 1000, in6_udp_bytes: 1_000_000, drop_ttl_expired: 5 }, atMs: 10_000 };
  const now = { counters: { in6_udp_packets: 3000, in6_udp_bytes: 2_250_000, drop_ttl_expired: 9 }, atMs: 12_000 };
  const text = renderStats(STATUS, now, { previous }).join("\n");
  // 2000 packets and 1.25 MB in 2 s: 1000 pkt/s, 5 Mbit/s; 4 drops in 2 s: 2/s.
  match(text, /^ {2}in from IPv6 {2}udp +3000 +2250000 +1\.00k +5\.00M$/m);
  match(text, /^ {2}ttl_expired +9 +2$/m);
  match(text, /^nat64 1 {2}mode siit {2}tun t {2}pid 1 {2}up 1d 1:01:01 {2}since 2026-01-01T00:00:00Z$/m);
});

Deno.test("a counter that went down (gateway restart) has no rate rather than a negative one", () => {
  const previous = { counters: { in6_udp_packets: 5000 }, atMs: 0 };
  const now = { counters: { in6_udp_packets: 10 }, atMs: 1000 };
  const row = renderStats(STATUS, now, { previous }).find((l) => l.includes("in from IPv6"));
  eq(row, "  in from IPv6  udp       10");
});

Deno.test("BigInt counters above 2^53 are printed exactly and still give rates", () => {
  const base = 2n ** 60n;
  const previous = { counters: { out4_tcp_bytes: base }, atMs: 0 };
  const now = { counters: { out4_tcp_bytes: base + 125_000_000n }, atMs: 1000 };
  const text = renderStats(STATUS, now, { previous }).join("\n");
  match(text, /1152921504731846976 +1\.00G$/m);
});

Deno.test("with every counter zero the view says so, and --all shows them", () => {
  const snap = { counters: { drop_ttl_expired: 0, packets_in_v4: 0 }, atMs: 0 };
  eq(renderStats(STATUS, snap).slice(1), ["", "every counter is zero (--all shows them)"]);
  const all = renderStats(STATUS, snap, { all: true }).join("\n");
  match(all, /^ {2}in from IPv4 {2}all +0$/m);
  match(all, /^ {2}ttl_expired +0$/m);
  eq(renderStats(STATUS, { counters: {}, atMs: 0 }).slice(1), ["", "the gateway reports no counters"]);
});

Deno.test("traffic rows: 6→4 before 4→6, known protocols first, totals last", () => {
  const counters = {
    out6_udp_packets: 1,
    in4_udp_packets: 1,
    out4_tcp_packets: 1,
    in6_udp_packets: 1,
    in6_tcp_packets: 1,
    in6_gre_packets: 1,
    packets_in_v6: 3,
  };
  const rows = renderStats(STATUS, { counters, atMs: 0 }).filter((l) => /^ {2}(in|out) /.test(l));
  eq(rows.map((r) => r.trim().split(/ {2,}/).slice(0, 2).join(" ")), [
    "in from IPv6 tcp",
    "in from IPv6 udp",
    "in from IPv6 gre",
    "in from IPv6 all",
    "out to IPv4 tcp",
    "in from IPv4 udp",
    "out to IPv6 udp",
  ]);
});

Deno.test("counter names: every form of the grammar, and gauges", () => {
  eq(classifyCounter("in6_udp_packets"), {
    kind: "traffic",
    direction: "in",
    family: 6,
    proto: "udp",
    unit: "packets",
  });
  eq(classifyCounter("out4_icmp_bytes"), {
    kind: "traffic",
    direction: "out",
    family: 4,
    proto: "icmp",
    unit: "bytes",
  });
  eq(classifyCounter("packets_in_v4"), { kind: "traffic", direction: "in", family: 4, proto: "all", unit: "packets" });
  eq(classifyCounter("translated_6to4"), { kind: "translated", direction: "6to4" });
  eq(classifyCounter("drop_ttl_expired"), { kind: "drop", reason: "ttl_expired" });
  eq(classifyCounter("icmp6_errors_sent"), { kind: "icmp_error", family: 6, type: undefined });
  eq(classifyCounter("icmp4_errors_sent_time_exceeded"), { kind: "icmp_error", family: 4, type: "time_exceeded" });
  eq(classifyCounter("sessions_tcp"), { kind: "sessions", proto: "tcp" });
  eq(classifyCounter("bib_icmp"), { kind: "bib", proto: "icmp" });
  eq(classifyCounter("pool4_size_udp"), { kind: "pool4", use: "size", proto: "udp" });
  eq(classifyCounter("dns64_synthesized"), { kind: "dns64", name: "synthesized" });
  eq(classifyCounter("hairpinned"), { kind: "other", name: "hairpinned" });
  ok(isGauge(classifyCounter("sessions_udp")) && isGauge(classifyCounter("pool4_used_tcp")));
  ok(!isGauge(classifyCounter("in6_udp_packets")) && !isGauge(classifyCounter("dns64_queries")));
});

Deno.test("units: SI prefixes with three significant digits, durations as Jool shows them", () => {
  eq([0, 7, 999, 1000, 12_345, 999_499, 999_500, 1.05e9, 2.5].map(formatSi), [
    "0",
    "7",
    "999",
    "1.00k",
    "12.3k",
    "999k",
    "1.00M",
    "1.05G",
    "2.50",
  ]);
  eq([0, 59, 61, 3600, 7199, 86400 + 3661].map(formatDuration), [
    "0:00:00",
    "0:00:59",
    "0:01:01",
    "1:00:00",
    "1:59:59",
    "1d 1:01:01",
  ]);
});

Deno.test("tables: columns as wide as their widest cell, numbers right-aligned, no trailing spaces", () => {
  eq(
    renderTable([{ title: "name", align: "left" }, { title: "n", align: "right" }, { title: "note", align: "left" }], [
      ["a", "1000", ""],
      ["longer", "2", "x"],
    ]),
    ["name       n  note", "a       1000", "longer     2  x"],
  );
});

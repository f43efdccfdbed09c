/** The SVG chart: well-formed, one panel per charted metric, bars scaled per panel, text escaped. */

import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { escapeXml, renderChart } from "../../scripts/bench/svg.ts";
import { METRICS } from "../../scripts/bench/report.ts";
import { sampleResult } from "./report_test.ts";

/** Every bar (the background has no x), as [y, width]. */
function bars(svg: string): number[][] {
  return [...svg.matchAll(/<rect x="\d+" y="(\d+)" width="(\d+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

Deno.test("a document with a title, a panel per charted metric and its better direction", () => {
  const svg = renderChart(sampleResult());
  ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  ok(svg.trimEnd().endsWith("</svg>"));
  ok(svg.includes(">NAT64 bench 2026-01-02T03:04:05.000Z</text>"));
  ok(
    svg.includes(
      ">2 CPUs; best of each column's rounds; quiet rounds: kernel IPv6 1 of 2, TAYGA 1 of 2, gw no offloads 1 of 2, this gateway 1 of 2<",
    ),
  );
  for (const m of METRICS.filter((m) => m.chart)) {
    ok(svg.includes(`>${escapeXml(`${m.label}, ${m.better} is better`)}</text>`), m.label);
  }
  ok(!svg.includes("UDP 64 B loss"), "loss is in the table, not the chart");
  // Every opened tag is closed or self-closing.
  eq((svg.match(/<text /g) ?? []).length, (svg.match(/<\/text>/g) ?? []).length);
});

Deno.test("bars: the largest in a panel is full width, the others in proportion; no figure, no bar", () => {
  const svg = renderChart(sampleResult());
  // TCP 1 stream: kernel 16, TAYGA 1.25, gateway without offloads 0.25, gateway 0.5 → 540, 42, 8, 17 px.
  const tcp = bars(svg).slice(0, 4).map(([, w]) => w);
  eq(tcp, [540, 42, 8, 17]);
  ok(svg.includes(">16.00</text>") && svg.includes(">0.50</text>"));
  // Figures in the sample: TCP 1 ×4, UDP 64 B ×4, RTT median ×4, CPU per Gbit/s ×2; the other
  // eighteen charted places (TCP 4 streams ×4, UDP 64 B lossless ×4, UDP 1400 B ×4, RTT p99 ×4, two
  // columns' CPU) say n/a.
  eq(bars(svg).length, 14);
  eq((svg.match(/>n\/a<\/text>/g) ?? []).length, 18);
  // A zero is drawn as a 1-pixel bar, so it is visibly a measurement, not a gap.
  ok(bars(svg).some(([, w]) => w === 1));
});

Deno.test("text is escaped", () => {
  eq(escapeXml(`a<b & "c">`), "a&lt;b &amp; &quot;c&quot;&gt;");
});

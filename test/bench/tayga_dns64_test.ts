/** TAYGA's config text, and reading qps figures out of scripts/bench-dns64's report. */

import { deepStrictEqual as eq } from "node:assert/strict";
import { LAB_TAYGA, taygaConfig } from "../../scripts/bench/tayga.ts";
import { lastJsonLine, qpsFigures } from "../../scripts/bench/fold_dns64.ts";
import { TRANSLATED_SERVER } from "../../scripts/bench/lab.ts";

Deno.test("TAYGA: the lab's prefix, its own address outside the dynamic pool, both inside pool4", () => {
  eq(
    taygaConfig(LAB_TAYGA),
    "tun-device nat64\nipv4-addr 192.0.2.1\nprefix 2001:db8:64::/96\ndynamic-pool 192.0.2.128/25\n",
  );
});

Deno.test("the client reaches 198.51.100.2 as the RFC 6052 /96 address under the lab prefix", () => {
  eq(TRANSLATED_SERVER, "2001:db8:64::c633:6402");
});

Deno.test("qps figures: hot and cold for each side present; the fixed-rate latency phase is not a figure", () => {
  const report = {
    latencyQps: 5000,
    ours: { cold: { qps: 134.75, p50ms: 0.6 }, hot: { qps: 19139.6 }, latency: { qps: 4999.8 } },
    unbound: { hot: { qps: 147563.5 }, cold: { qps: "1458" } },
    ratio: { hot: 0.13 },
  };
  eq(qpsFigures(report), { "ours.hot": 19139.6, "ours.cold": 134.75, "unbound.hot": 147563.5 });
  eq(qpsFigures(null), {});
  eq(qpsFigures({ ours: 3 }), {});
});

Deno.test("the report is the last line of stdout that parses as a JSON object", () => {
  eq(lastJsonLine('table\n{"qps": 1}\n{broken\nbye\n'), { qps: 1 });
  eq(lastJsonLine("only a table\n"), null);
});

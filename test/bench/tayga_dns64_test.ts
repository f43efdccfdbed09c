/** TAYGA's config text, and reading qps figures out of scripts/bench-dns64's report. */

import { deepStrictEqual as eq } from "node:assert/strict";
import { LAB_TAYGA, taygaConfig } from "../../scripts/bench/tayga.ts";
import { lastJsonLine, qpsFigures } from "../../scripts/bench/dns64.ts";
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

Deno.test("qps figures: every finite number named *qps*, at any depth, by dotted path", () => {
  const report = {
    runs: [{ name: "gateway", qps: 21000.5, p99Ms: 3 }, { name: "unbound", qps: 30000 }],
    ratio: 0.7,
    summary: { gatewayQps: 21000, note: "qps in text is not a figure", badQps: "12" },
  };
  eq(qpsFigures(report), { "runs.0.qps": 21000.5, "runs.1.qps": 30000, "summary.gatewayQps": 21000 });
  eq(qpsFigures(null), {});
});

Deno.test("the report is the last line of stdout that parses as a JSON object", () => {
  eq(lastJsonLine('table\n{"qps": 1}\n{broken\nbye\n'), { qps: 1 });
  eq(lastJsonLine("only a table\n"), null);
});

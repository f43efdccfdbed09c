/**
 * Prometheus metrics: the text is parsed back with the exposition format's rules, then
 * served over HTTP; listen addresses are parsed strictly.
 */

import { deepStrictEqual as eq, match, ok, throws } from "node:assert/strict";
import { MetricsServer, parseListenAddress, renderMetrics } from "../../src/control/metrics.ts";
import { FakeView } from "./fake_view.ts";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: string;
}

interface ParsedFamily {
  help: string;
  type: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Parses exposition text (format 0.0.4), failing on anything the format forbids. */
function parseExposition(text: string): Map<string, ParsedFamily> {
  ok(text.endsWith("\n"), "the text ends with a newline");
  const families = new Map<string, ParsedFamily>();
  let current: string | undefined;
  for (const line of text.slice(0, -1).split("\n")) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const [, what, name, rest] = meta;
      ok(NAME.test(name), `metric name ${name}`);
      let family = families.get(name);
      if (!family) {
        ok(current !== name, line);
        families.set(name, family = { help: "", type: "", samples: [] });
        current = name;
      }
      ok(current === name, `${name}: its lines are not together`);
      if (what === "HELP") family.help = rest;
      else {
        ok(["counter", "gauge"].includes(rest), line);
        ok(family.samples.length === 0, `${name}: TYPE after samples`);
        family.type = rest;
      }
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    ok(sample, `not a sample line: ${line}`);
    const [, name, labelText, value] = sample;
    ok(name === current, `${name} sample outside its family`);
    ok(/^-?\d+(\.\d+)?(e[+-]?\d+)?$/.test(value), `${line}: value`);
    const labels: Record<string, string> = {};
    if (labelText) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
      let m;
      let consumed = 0;
      while ((m = re.exec(labelText))) {
        labels[m[1]] = m[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
        consumed = re.lastIndex;
      }
      ok(consumed === labelText.length, `${line}: labels`);
    }
    families.get(name)!.samples.push({ name, labels, value });
  }
  for (const [name, f] of families) {
    ok(f.help && f.type, `${name} has HELP and TYPE`);
    if (f.type === "counter") ok(name.endsWith("_total"), `counter ${name} ends in _total`);
  }
  return families;
}

Deno.test("metrics text parses back: families with HELP and TYPE, labels, exact values", () => {
  const view = new FakeView();
  const counters = {
    ...view.counters(),
    packets_in_v4: 7,
    translated_6to4: 990,
    icmp6_errors_sent_time_exceeded: 1,
    hairpinned: 4,
    dns64_answers_total: 40,
    "weird-name.1": 1,
  };
  const families = parseExposition(renderMetrics(view.status(), counters));
  const sample = (name: string, labels: Record<string, string> = {}) =>
    families.get(name)?.samples.find((s) => JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
  eq(families.get("nat64_packets_total")!.type, "counter");
  eq(sample("nat64_packets_total", { direction: "in", side: "ipv6", proto: "udp" }), "1000");
  eq(sample("nat64_packets_total", { direction: "in", side: "ipv4", proto: "all" }), "7");
  eq(sample("nat64_bytes_total", { direction: "out", side: "ipv6", proto: "tcp" }), String(2n ** 60n));
  eq(sample("nat64_drops_total", { reason: "ttl_expired" }), "3");
  eq(sample("nat64_drops_total", { reason: "no_binding" }), "0", "zero counters are exported too");
  eq(sample("nat64_icmp_errors_sent_total", { side: "ipv4" }), "2");
  eq(sample("nat64_icmp_errors_sent_total", { side: "ipv6", type: "time_exceeded" }), "1");
  eq(sample("nat64_translated_packets_total", { direction: "6to4" }), "990");
  eq(families.get("nat64_sessions")!.type, "gauge");
  eq(sample("nat64_sessions", { proto: "tcp" }), "2");
  eq(sample("nat64_bib_entries", { proto: "icmp" }), "1");
  eq(sample("nat64_pool4_used", { proto: "udp" }), "2");
  eq(sample("nat64_pool4_size", { proto: "udp" }), "64512");
  eq(sample("nat64_dns64_queries_total"), "42");
  eq(sample("nat64_dns64_answers_total"), "40", "no doubled _total suffix");
  eq(sample("nat64_hairpinned_total"), "4");
  eq(sample("nat64_weird_name_1_total"), "1");
  eq(sample("nat64_info", { version: "0.1.0-test", mode: "nat64", tun: "nat64" }), "1");
  eq(sample("nat64_start_time_seconds"), String(Date.parse("2026-01-02T03:04:05.000Z") / 1000));
});

Deno.test("label values are escaped", () => {
  const view = new FakeView();
  const status = { ...view.status(), tun: 'a"b\\c\nd' };
  const families = parseExposition(renderMetrics(status, {}));
  eq(families.get("nat64_info")!.samples[0].labels.tun, 'a"b\\c\nd');
});

Deno.test("the server answers GET /metrics, refuses other paths and methods, and reports a failing view", async () => {
  const view = new FakeView();
  const server = new MetricsServer(view, { listen: { hostname: "127.0.0.1", port: 0 } });
  server.start();
  const base = `http://127.0.0.1:${server.address.port}`;
  try {
    const ok200 = await fetch(`${base}/metrics`);
    eq(ok200.status, 200);
    match(ok200.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
    parseExposition(await ok200.text());
    const missing = await fetch(`${base}/`);
    eq(missing.status, 404);
    await missing.body?.cancel();
    const post = await fetch(`${base}/metrics`, { method: "POST" });
    eq(post.status, 405);
    await post.body?.cancel();
    view.failWith = "engine gone";
    const failed = await fetch(`${base}/metrics`);
    eq(failed.status, 500);
    match(await failed.text(), /engine gone/);
  } finally {
    await server.close();
  }
});

Deno.test("listen addresses: a bare port stays on loopback; IPv6 needs brackets; names are refused", () => {
  eq(parseListenAddress("9100"), { hostname: "127.0.0.1", port: 9100 });
  eq(parseListenAddress("192.0.2.1:9464"), { hostname: "192.0.2.1", port: 9464 });
  eq(parseListenAddress("[::1]:9464"), { hostname: "::1", port: 9464 });
  eq(parseListenAddress("[2001:DB8::0001]"), { hostname: "2001:db8::1", port: 9464 });
  eq(parseListenAddress("192.0.2.1"), { hostname: "192.0.2.1", port: 9464 });
  throws(() => parseListenAddress("::1:9464"), /"::1:9464" is ambiguous: write an IPv6 address in brackets/);
  throws(
    () => parseListenAddress("localhost:9464"),
    /"localhost:9464" is not ADDR, ADDR:PORT or \[IPV6\]:PORT with a literal IP address/,
  );
  throws(() => parseListenAddress("127.0.0.1:70000"), /"127.0.0.1:70000" has a port outside 0-65535/);
  throws(() => parseListenAddress("127.0.0.1:"), /"127.0.0.1:" has a port outside 0-65535/);
});

Deno.test("an address in use is a sentence naming it", () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const server = new MetricsServer(new FakeView(), {
      listen: { hostname: "127.0.0.1", port: (taken.addr as Deno.NetAddr).port },
    });
    throws(() => server.start(), /cannot serve metrics on 127\.0\.0\.1:\d+: /);
  } finally {
    taken.close();
  }
});

/**
 * The soak's DNS client, run inside the lab's client namespace: AAAA queries at a steady
 * rate to the DNS64 listener, in turn for a cached name, another A-only name, and a
 * fresh name each time (an NXDOMAIN the listener must ask upstream for), each allowed
 * `--timeout-ms`. It prints "started" as the first query goes out, then every `--report`
 * seconds one JSON line of what happened in that stretch; it stops after `--seconds`
 * and a last wait for late answers.
 *
 *   deno run --allow-net scripts/soak_dns.ts --server ADDR --zone ZONE [--rate QPS]
 *        [--seconds S] [--report S] [--timeout-ms MS]
 *
 * @module
 */

import dnsPacket from "dns-packet";
import { Buffer } from "node:buffer";
import dgram from "node:dgram";
import { parseArgs } from "node:util";

/** One stretch of queries, as printed. */
export interface DnsWindow {
  sent: number;
  noerror: number;
  nxdomain: number;
  /** Answers with any other RCODE (SERVFAIL, REFUSED, …). */
  failed: number;
  /** Queries with no answer within the timeout. */
  timeouts: number;
  /** Median and 99th-percentile answer time, ms. */
  p50Ms: number;
  p99Ms: number;
}

function fail(message: string): never {
  console.error(`soak_dns: ${message}`);
  Deno.exit(2);
}

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) fail(`--${name} "${text}" is not a positive number`);
  return n;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : 0;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      server: { type: "string" },
      zone: { type: "string" },
      rate: { type: "string" },
      seconds: { type: "string" },
      report: { type: "string" },
      "timeout-ms": { type: "string" },
    },
  });
  if (!values.server || !values.zone) fail("--server ADDR and --zone ZONE are required");
  const server = values.server, zone = values.zone;
  const rate = positive("rate", values.rate, 20);
  const seconds = positive("seconds", values.seconds, 60);
  const report = positive("report", values.report, 10);
  const timeoutMs = positive("timeout-ms", values["timeout-ms"], 2000);

  const socket = dgram.createSocket(server.includes(":") ? "udp6" : "udp4");
  const pending = new Map<number, { at: number; timer: ReturnType<typeof setTimeout> }>();
  let window: DnsWindow = { sent: 0, noerror: 0, nxdomain: 0, failed: 0, timeouts: 0, p50Ms: 0, p99Ms: 0 };
  let latencies: number[] = [];
  let nextId = 0, fresh = 0;

  socket.on("message", (msg: Buffer) => {
    const id = msg.readUInt16BE(0);
    const query = pending.get(id);
    if (!query) return;
    pending.delete(id);
    clearTimeout(query.timer);
    latencies.push(performance.now() - query.at);
    const rcode = msg[3] & 0x0f;
    if (rcode === 0) window.noerror++;
    else if (rcode === 3) window.nxdomain++;
    else window.failed++;
  });
  await new Promise<void>((resolve) => socket.bind(0, resolve));

  const names = [`www.${zone}`, `ns.${zone}`];
  const send = () => {
    const id = nextId++ & 0xffff;
    // Every third query is a name never asked before: the cache cannot answer it.
    const turn = window.sent % 3;
    const name = turn < 2 ? names[turn] : `soak-${fresh++}.${zone}`;
    const packet = dnsPacket.encode({
      type: "query",
      id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: "AAAA", name }],
    });
    const timer = setTimeout(() => {
      if (pending.delete(id)) window.timeouts++;
    }, timeoutMs);
    pending.set(id, { at: performance.now(), timer });
    window.sent++;
    socket.send(packet, 53, server);
  };
  const flush = () => {
    latencies.sort((a, b) => a - b);
    window.p50Ms = Math.round(percentile(latencies, 0.5) * 10) / 10;
    window.p99Ms = Math.round(percentile(latencies, 0.99) * 10) / 10;
    console.log(JSON.stringify(window));
    window = { sent: 0, noerror: 0, nxdomain: 0, failed: 0, timeouts: 0, p50Ms: 0, p99Ms: 0 };
    latencies = [];
  };

  console.log("started");
  const sender = setInterval(send, 1000 / rate);
  const reporter = setInterval(flush, report * 1000);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  clearInterval(sender);
  await new Promise((r) => setTimeout(r, timeoutMs + 100));
  clearInterval(reporter);
  flush();
  socket.close();
}

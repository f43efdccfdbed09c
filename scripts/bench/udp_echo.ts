/**
 * Round-trip time through a translator, measured with UDP instead of ICMP echo (ping is
 * not installed everywhere, and UDP takes the same path as the throughput runs).
 *
 *   udp_echo.ts serve --listen ADDR --port N          echoes every datagram back; prints "ready"
 *   udp_echo.ts ping --to ADDR --port N --count N     one datagram in flight at a time;
 *                                                     prints {"sent","received","medianUs","p99Us"}
 *
 * A datagram not answered within --timeout-ms counts as lost and the next one is sent.
 * The first --warmup round trips are left out (they set up NAT64 state and ARP/ND).
 *
 * @module
 */

import { parseArgs } from "node:util";
import dgram from "node:dgram";
import { median, percentile } from "./stats.ts";

const PAYLOAD_BYTES = 64;

function family(addr: string): "udp4" | "udp6" {
  return addr.includes(":") ? "udp6" : "udp4";
}

function serve(listen: string, port: number): void {
  const socket = dgram.createSocket(family(listen));
  socket.on("message", (msg, rinfo) => socket.send(msg, rinfo.port, rinfo.address));
  socket.on("error", (err) => {
    console.error(`udp_echo: ${err.message}`);
    Deno.exit(1);
  });
  socket.bind(port, listen, () => console.log("ready"));
}

async function ping(to: string, port: number, count: number, warmup: number, timeoutMs: number): Promise<void> {
  const socket = dgram.createSocket(family(to));
  let waiting: ((seq: number) => void) | null = null;
  socket.on("message", (msg) => waiting?.(msg.readUInt32BE(0)));
  await new Promise<void>((resolve) => socket.bind(0, resolve));
  const payload = Buffer.alloc(PAYLOAD_BYTES);
  const rtts: number[] = [];
  for (let seq = 0; seq < warmup + count; seq++) {
    payload.writeUInt32BE(seq, 0);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answered = new Promise<boolean>((resolve) => {
      // A late answer to an earlier datagram carries an older number and is ignored.
      waiting = (got) => got === seq && resolve(true);
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const t0 = performance.now();
    socket.send(payload, port, to);
    const ok = await answered;
    const rttUs = (performance.now() - t0) * 1000;
    clearTimeout(timer);
    if (ok && seq >= warmup) rtts.push(rttUs);
  }
  socket.close();
  console.log(JSON.stringify({
    sent: count,
    received: rtts.length,
    medianUs: rtts.length ? median(rtts) : null,
    p99Us: rtts.length ? percentile(rtts, 99) : null,
  }));
}

function positive(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`udp_echo: --${name} must be a whole number, not "${text}"`);
    Deno.exit(2);
  }
  return n;
}

const { positionals, values } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    listen: { type: "string" },
    to: { type: "string" },
    port: { type: "string", default: "7007" },
    count: { type: "string", default: "1000" },
    warmup: { type: "string", default: "20" },
    "timeout-ms": { type: "string", default: "500" },
  },
});
const port = positive("port", values.port);
if (positionals[0] === "serve" && values.listen) {
  serve(values.listen, port);
} else if (positionals[0] === "ping" && values.to) {
  await ping(
    values.to,
    port,
    positive("count", values.count),
    positive("warmup", values.warmup),
    positive("timeout-ms", values["timeout-ms"]),
  );
} else {
  console.error("usage: udp_echo.ts serve --listen ADDR [--port N] | ping --to ADDR [--port N] [--count N]");
  Deno.exit(2);
}

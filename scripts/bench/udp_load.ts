/**
 * A UDP load generator and counter for the bench: `send` floods or paces datagrams with
 * `sendmmsg(2)`, `receive` counts them with `recvmmsg(2)`, BATCH per system call.
 *
 * Why not iperf3 for UDP: iperf3 sends and receives one datagram per system call, and on
 * this 2-core machine its client and server share the core the translator does not use.
 * With 64-byte datagrams the two of them saturate that core at ~100 k datagrams/s
 * delivered, whichever path is in between: the kernel's own forwarding column came out at
 * the same figure as the translators, so the figure measured the endpoints. With batched
 * system calls the endpoints cost a fraction of that, and the translator is the narrow
 * point again.
 *
 * Each run prints one JSON line: `send` {"sent", "seconds"}, `receive` {"received",
 * "seconds"} (first to last datagram). The receiver stops on the sender's end marker (a
 * datagram whose first byte is 0xff, sent a few times after the run), after IDLE_MS
 * without a datagram once some came, or at `--limit` seconds.
 *
 *     deno run --allow-ffi scripts/bench/udp_load.ts receive --on 192.0.2.2:5301 --limit 30
 *     deno run --allow-ffi scripts/bench/udp_load.ts send --to 2001:db8:64::c000:202:5301 \
 *       --payload 64 --seconds 5 [--kpps 80]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { defaultLibcPath } from "../../src/tun/libc.ts";
import { sockaddr } from "../../src/dns64/udp_batch.ts";

/** Datagrams per system call. */
const BATCH = 64;
/** Room per received datagram. */
const SLOT = 2048;
/** The receiver's end once datagrams stop coming, ms. */
const IDLE_MS = 1000;
/** End markers the sender sends (some may be lost under load; the idle timeout is the fallback). */
const MARKERS = 5;
/** The pacing step: a paced sender sleeps this long when it is ahead, µs. */
const PACE_SLEEP_US = 20;
const END_MARK = 0xff;

const MMSGHDR = 64;
const IOVEC = 16;
/** Offsets in `struct msghdr` (LP64): msg_iov, msg_iovlen; msg_len follows the 56-byte msghdr. */
const IOV_AT = 16;
const IOVLEN_AT = 24;
const LEN_AT = 56;
const SOCK_DGRAM = 2;
const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_RCVTIMEO = 20;
const SO_RCVBUFFORCE = 33;
const MSG_WAITFORONE = 0x10000;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32" },
  usleep: { parameters: ["u32"], result: "i32" },
} as const;

type Symbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** What one UDP run delivered. */
export interface UdpFigures {
  /** Datagrams sent per second (the offered load). */
  sentPps: number;
  /** Datagrams received per second, over the sender's interval. */
  deliveredPps: number;
  /** Delivered payload rate, Mbit/s. */
  deliveredMbps: number;
  /** Share of sent datagrams never received, percent. */
  lossPercent: number;
}

/** "[v6]:port" or "v4:port". */
export function formatEndpoint(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** argv (after the deno binary) of a receiver on `host`:`port` that gives up after `limit` seconds. */
export function receiveArgs(host: string, port: number, limit: number): string[] {
  return ["run", "--allow-ffi", import.meta.filename!, "receive", "--on", formatEndpoint(host, port), "--limit", String(limit)];
}

/** argv (after the deno binary) of a sender of `payload`-byte datagrams for `seconds`, flat out or at `kpps`. */
export function sendArgs(host: string, port: number, payload: number, seconds: number, kpps?: number): string[] {
  return [
    "run",
    "--allow-ffi",
    import.meta.filename!,
    "send",
    "--to",
    formatEndpoint(host, port),
    "--payload",
    String(payload),
    "--seconds",
    String(seconds),
    ...(kpps === undefined ? [] : ["--kpps", String(kpps)]),
  ];
}

/** The last line of `text` as a JSON object holding the numeric `fields`, or a sentence saying what is wrong. */
function lastJson(text: string, who: string, fields: string[]): Record<string, number> {
  const line = text.trim().split("\n").at(-1) ?? "";
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(line);
  } catch {
    throw new Error(`the UDP ${who} printed no result${line ? `: ${line}` : ""}`);
  }
  for (const f of fields) {
    if (typeof doc?.[f] !== "number") throw new Error(`the UDP ${who}'s result has no number "${f}": ${line}`);
  }
  return doc as Record<string, number>;
}

/** The figures of one run from the sender's and the receiver's output. */
export function parseUdpLoad(sender: string, receiver: string, payload: number): UdpFigures {
  const s = lastJson(sender, "sender", ["sent", "seconds"]);
  const r = lastJson(receiver, "receiver", ["received"]);
  if (s.seconds <= 0) throw new Error("the UDP sender's result covers no time");
  return {
    sentPps: s.sent / s.seconds,
    deliveredPps: r.received / s.seconds,
    deliveredMbps: (r.received * payload * 8) / s.seconds / 1e6,
    lossPercent: s.sent > 0 ? (100 * Math.max(0, s.sent - r.received)) / s.sent : 0,
  };
}

/**
 * The highest rate (kpps) at which a trial loses at most `maxLossPct` percent: the
 * RFC 2544 §26.1 throughput, searched by bisection between 0 and `ceilingKpps` in
 * `steps` trials (resolution ceiling / 2^steps). `trial(kpps)` runs one paced load and
 * returns its loss in percent. 0 when even the lowest rate tried loses more.
 */
export async function searchLossless(
  trial: (kpps: number) => Promise<number>,
  ceilingKpps: number,
  steps: number,
  maxLossPct: number,
): Promise<number> {
  let good = 0, bad = ceilingKpps;
  for (let i = 0; i < steps; i++) {
    const rate = (good + bad) / 2;
    if ((await trial(rate)) <= maxLossPct) good = rate;
    else bad = rate;
  }
  return good;
}

/** "[v6]:port" or "v4:port" → host and port; one sentence when it is neither. */
export function parseEndpoint(text: string): { host: string; port: number } {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(text) ?? /^([0-9.]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port > 0 && port < 65536)) throw new Error(`"${text}" is not ADDRESS:PORT ([v6]:port for IPv6)`);
  return { host: m[1], port };
}

/** A datagram socket of `addr`'s family; throws one sentence naming the call that failed. */
function open(sym: Symbols, addr: Uint8Array): number {
  const fd = sym.socket(addr[0], SOCK_DGRAM, 0);
  if (fd < 0) throw new Error("socket(2) failed");
  return fd;
}

function setInt(sym: Symbols, fd: number, level: number, name: number, value: number): void {
  const v = new Uint8Array(new Int32Array([value]).buffer);
  if (sym.setsockopt(fd, level, name, v, 4) < 0) throw new Error(`setsockopt(${level}, ${name}) failed`);
}

/** BATCH message headers, each with one iovec over `bytes` at `stride` apart in `data`. */
function headers(data: Uint8Array, stride: number, bytes: number): Uint8Array {
  const msgs = new Uint8Array(BATCH * MMSGHDR);
  const iovs = new Uint8Array(BATCH * IOVEC);
  const mv = new DataView(msgs.buffer), iv = new DataView(iovs.buffer);
  const base = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(data)));
  const iovBase = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(iovs)));
  for (let i = 0; i < BATCH; i++) {
    iv.setBigUint64(i * IOVEC, base + BigInt(i * stride), true);
    iv.setBigUint64(i * IOVEC + 8, BigInt(bytes), true);
    mv.setBigUint64(i * MMSGHDR + IOV_AT, iovBase + BigInt(i * IOVEC), true);
    mv.setBigUint64(i * MMSGHDR + IOVLEN_AT, 1n, true);
  }
  // The iovecs must outlive every call: keep them reachable from the headers' buffer.
  (msgs as unknown as { iovs: Uint8Array }).iovs = iovs;
  return msgs;
}

/** Sends `payload`-byte datagrams for `seconds`, as fast as possible or at `kpps`. */
function send(sym: Symbols, to: string, payload: number, seconds: number, kpps: number | null) {
  const { host, port } = parseEndpoint(to);
  const addr = sockaddr(host, port);
  const fd = open(sym, addr);
  setInt(sym, fd, SOL_SOCKET, SO_SNDBUF, 4 << 20);
  if (sym.connect(fd, addr, addr.length) < 0) throw new Error(`connect to ${to} failed`);
  const data = new Uint8Array(payload);
  const msgs = headers(data, 0, payload);
  let sent = 0;
  const start = performance.now(), end = start + seconds * 1000;
  for (let now = start; now < end; now = performance.now()) {
    const due = kpps === null ? BATCH : Math.min(BATCH, Math.floor((now - start) * kpps) - sent);
    if (due <= 0) {
      sym.usleep(PACE_SLEEP_US);
      continue;
    }
    const n = sym.sendmmsg(fd, msgs, due, 0);
    if (n > 0) sent += n;
  }
  const elapsed = (performance.now() - start) / 1000;
  data[0] = END_MARK;
  for (let i = 0; i < MARKERS; i++) {
    sym.sendmmsg(fd, msgs, 1, 0);
    sym.usleep(1000);
  }
  return { sent, seconds: elapsed };
}

/** Counts datagrams arriving at `on` until the end marker, IDLE_MS of quiet, or `limit` seconds. */
function receive(sym: Symbols, on: string, limit: number) {
  const { host, port } = parseEndpoint(on);
  const addr = sockaddr(host, port);
  const fd = open(sym, addr);
  setInt(sym, fd, SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20);
  const timeout = new Uint8Array(new BigInt64Array([0n, 100_000n]).buffer);
  if (sym.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, timeout.length) < 0) throw new Error("SO_RCVTIMEO failed");
  if (sym.bind(fd, addr, addr.length) < 0) throw new Error(`bind ${on} failed`);
  const data = new Uint8Array(BATCH * SLOT);
  const msgs = headers(data, SLOT, SLOT);
  const lens = new DataView(msgs.buffer);
  console.log(JSON.stringify({ listening: on }));
  let received = 0, first = 0, last = 0;
  const deadline = performance.now() + limit * 1000;
  for (;;) {
    const n = sym.recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, null);
    const now = performance.now();
    if (n > 0) {
      let marked = false;
      for (let i = 0; i < n; i++) {
        if (lens.getUint32(i * MMSGHDR + LEN_AT, true) > 0 && data[i * SLOT] === END_MARK) marked = true;
        else received++;
      }
      if (first === 0) first = now;
      last = now;
      if (marked) break;
    } else if (first !== 0 && now - last > IDLE_MS) {
      break;
    }
    if (now > deadline) break;
  }
  return { received, seconds: first === 0 ? 0 : (last - first) / 1000 };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      to: { type: "string" },
      on: { type: "string" },
      payload: { type: "string", default: "64" },
      seconds: { type: "string", default: "5" },
      kpps: { type: "string" },
      limit: { type: "string", default: "60" },
    },
  });
  const lib = Deno.dlopen(defaultLibcPath(), SYMBOLS);
  const mode = positionals[0];
  const result = mode === "send"
    ? send(
      lib.symbols,
      values.to ?? "",
      Number(values.payload),
      Number(values.seconds),
      values.kpps === undefined ? null : Number(values.kpps),
    )
    : mode === "receive"
    ? receive(lib.symbols, values.on ?? "", Number(values.limit))
    : (() => {
      throw new Error(`udp_load: say "send" or "receive", not "${mode ?? ""}"`);
    })();
  console.log(JSON.stringify(result));
}

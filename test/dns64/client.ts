/**
 * A small DNS client for the tests: builds queries with dns-packet, sends them over UDP or
 * TCP to 127.0.0.1, and decodes the answer with dns-packet.
 */

import dnsPacket from "dns-packet";
import { Buffer } from "node:buffer";
import dgram from "node:dgram";

/** How to ask. */
export interface AskOptions {
  type?: string;
  transport?: "udp" | "tcp";
  /** EDNS: false for none; default udpSize 1232, DO off, version 0. */
  edns?: false | { udpSize?: number; dnssecOk?: boolean; version?: number };
  checkingDisabled?: boolean;
  id?: number;
  /** The class (default IN). */
  klass?: string;
  timeoutMs?: number;
}

/** A decoded answer as dns-packet gives it, plus its size. */
export type Answer = any & { size: number };

/** Asks `name` of the server on 127.0.0.1:`port`. */
export async function ask(port: number, name: string, opts: AskOptions = {}): Promise<Answer> {
  const edns = opts.edns === false ? null : { udpSize: 1232, dnssecOk: false, version: 0, ...opts.edns };
  const query = dnsPacket.encode({
    type: "query",
    id: opts.id ?? 4242,
    flags: dnsPacket.RECURSION_DESIRED | (opts.checkingDisabled ? dnsPacket.CHECKING_DISABLED : 0),
    questions: [{ name, type: opts.type ?? "AAAA", class: opts.klass ?? "IN" }],
    additionals: edns
      ? [{
        name: ".",
        type: "OPT",
        udpPayloadSize: edns.udpSize,
        ednsVersion: edns.version,
        flags: edns.dnssecOk ? dnsPacket.DNSSEC_OK : 0,
        options: [],
      }]
      : [],
  });
  const raw = await exchange(port, new Uint8Array(query), opts.transport ?? "udp", opts.timeoutMs ?? 3000);
  if (!raw) throw new Error(`no answer for ${name}`);
  return { ...dnsPacket.decode(Buffer.from(raw)), size: raw.length };
}

/** Sends raw bytes and returns the raw answer, or null when none came within `timeoutMs`. */
export async function exchange(
  port: number,
  query: Uint8Array,
  transport: "udp" | "tcp",
  timeoutMs = 1000,
): Promise<Uint8Array | null> {
  return transport === "udp" ? await udpExchange(port, query, timeoutMs) : await tcpExchange(port, query, timeoutMs);
}

function udpExchange(port: number, query: Uint8Array, timeoutMs: number): Promise<Uint8Array | null> {
  const socket = dgram.createSocket("udp4");
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(null), timeoutMs);
    const done = (v: Uint8Array | null) => {
      clearTimeout(timer);
      socket.close();
      resolve(v);
    };
    socket.on("message", (msg: Uint8Array) => done(new Uint8Array(msg)));
    socket.send(query, port, "127.0.0.1");
  });
}

async function tcpExchange(port: number, query: Uint8Array, timeoutMs: number): Promise<Uint8Array | null> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    await conn.write(Uint8Array.from([query.length >> 8, query.length & 0xff, ...query]));
    const head = await readFull(conn, 2);
    return await readFull(conn, (head[0] << 8) | head[1]);
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // Closed by the timer.
    }
  }
}

async function readFull(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await conn.read(out.subarray(got));
    if (r === null) throw new Error("closed");
    got += r;
  }
  return out;
}

/** The data of the records of `type` in a decoded section. */
export function dataOf(records: any[], type: string): string[] {
  return records.filter((r) => r.type === type).map((r) => String(r.data));
}

/**
 * The client side: asks the upstream resolvers over UDP, retries over TCP when the answer
 * is truncated (RFC 7766 §5), gives each attempt a timeout, and moves on to the next
 * upstream on timeouts, network errors, malformed answers and every RCODE but NOERROR
 * and NXDOMAIN (failover). The upstream
 * that last answered is asked first next time.
 *
 * Replies are matched on source address and port, message ID and the question (RFC 5452
 * §9.1), so a stray or spoofed datagram cannot answer a query.
 *
 * @module
 */

import dgram from "node:dgram";
import { formatIP, parseIP } from "../net/ip.ts";
import type { Endpoint } from "./options.ts";
import { closeQuietly, frame, readExactly, writeAll } from "./tcp.ts";
import { buildQuery, Flag, HEADER_SIZE, type MessageLayout, questionKeyOf, Rcode, scanMessage, u16 } from "./wire.ts";

/** One question for upstream. */
export interface UpstreamQuestion {
  /** The name in wire format, as the client sent it (its letter case is kept, RFC 5452 §9.1 style). */
  readonly nameWire: Uint8Array;
  readonly qtype: number;
  readonly qclass: number;
  /** Copied from the client (RFC 3225 §3). */
  readonly dnssecOk: boolean;
  /** Copied from the client (RFC 4035 §3.2.2). */
  readonly checkingDisabled: boolean;
}

/** An upstream reply, or why there is none. */
export type UpstreamReply =
  | { readonly ok: true; readonly wire: Uint8Array; readonly layout: MessageLayout }
  | { readonly ok: false; readonly reason: string };

/** Settings of the upstream client. */
export interface UpstreamSettings {
  readonly upstream: readonly Endpoint[];
  readonly timeoutMs: number;
  readonly retries: number;
  readonly ednsUdpSize: number;
}

interface Pending {
  readonly server: Endpoint;
  readonly key: string;
  readonly done: (reply: UpstreamReply) => void;
}

/** Sends queries to the configured upstream resolvers. */
export class UpstreamClient {
  readonly #settings: UpstreamSettings;
  readonly #onError: (reason: string) => void;
  readonly #sockets = new Map<4 | 6, dgram.Socket>();
  readonly #pending = new Map<4 | 6, Map<number, Pending>>();
  #preferred = 0;
  #closed = false;

  /** `onError` is told about every failed attempt (for the upstream-errors counter). */
  constructor(settings: UpstreamSettings, onError: (reason: string) => void) {
    this.#settings = settings;
    this.#onError = onError;
  }

  /**
   * Asks the upstreams in turn, `retries` extra passes at most. An upstream that answered
   * with an error RCODE is not asked again for this question; when every upstream fails
   * that way, the last such answer is returned.
   */
  async resolve(q: UpstreamQuestion): Promise<UpstreamReply> {
    const servers = this.#settings.upstream;
    const answered = new Set<number>();
    let fallback: UpstreamReply | null = null;
    let lastReason = "no upstream was asked";
    for (let pass = 0; pass <= this.#settings.retries; pass++) {
      for (let i = 0; i < servers.length; i++) {
        const index = (this.#preferred + i) % servers.length;
        if (answered.has(index)) continue;
        const reply = await this.#attempt(servers[index], q);
        if (!reply.ok) {
          lastReason = reply.reason;
          this.#onError(reply.reason);
          continue;
        }
        const rcode = reply.layout.flags & 0xf;
        if (rcode !== Rcode.NOERROR && rcode !== Rcode.NXDOMAIN) {
          answered.add(index);
          fallback = reply;
          continue;
        }
        this.#preferred = index;
        return reply;
      }
    }
    return fallback ?? { ok: false, reason: lastReason };
  }

  /** Closes the sockets; pending queries fail. */
  close(): void {
    this.#closed = true;
    for (const pending of this.#pending.values()) {
      for (const p of pending.values()) p.done({ ok: false, reason: "the upstream client was closed" });
      pending.clear();
    }
    for (const socket of this.#sockets.values()) socket.close();
    this.#sockets.clear();
  }

  async #attempt(server: Endpoint, q: UpstreamQuestion): Promise<UpstreamReply> {
    const flags = Flag.RD | (q.checkingDisabled ? Flag.CD : 0);
    const build = (id: number) =>
      buildQuery(id, q.nameWire, q.qtype, q.qclass, flags, this.#settings.ednsUdpSize, q.dnssecOk);
    const udp = await this.#udpExchange(server, build);
    if (!udp.ok || !(udp.layout.flags & Flag.TC)) return udp;
    return this.#tcpExchange(server, build(randomId()));
  }

  #udpExchange(server: Endpoint, build: (id: number) => Uint8Array): Promise<UpstreamReply> {
    if (this.#closed) return Promise.resolve({ ok: false, reason: "the upstream client was closed" });
    const socket = this.#socket(server.family);
    const pending = this.#pending.get(server.family)!;
    let id = randomId();
    while (pending.has(id)) id = randomId();
    const query = build(id);
    const key = questionKeyOf(query, query.length - 11);
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => finish({ ok: false, reason: `no answer from ${label(server)} (UDP timeout)` }),
        this.#settings.timeoutMs,
      );
      const finish = (reply: UpstreamReply) => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(reply);
      };
      pending.set(id, { server, key, done: finish });
      socket.send(query, server.port, server.host, (err) => {
        if (err) finish({ ok: false, reason: `cannot send to ${label(server)}: ${err.message}` });
      });
    });
  }

  #socket(family: 4 | 6): dgram.Socket {
    let socket = this.#sockets.get(family);
    if (socket) return socket;
    const pending = new Map<number, Pending>();
    socket = dgram.createSocket(family === 4 ? "udp4" : "udp6");
    socket.on("message", (msg: Uint8Array, rinfo: { address: string; port: number }) => {
      if (msg.length < HEADER_SIZE) return;
      const p = pending.get(u16(msg, 0));
      if (!p || p.server.port !== rinfo.port || p.server.host !== canonicalHost(rinfo.address)) return;
      let layout: MessageLayout;
      try {
        layout = scanMessage(msg);
      } catch (e) {
        // It came from the upstream with our ID, so waiting longer brings nothing better.
        p.done({ ok: false, reason: `${label(p.server)} sent a malformed answer: ${(e as Error).message}` });
        return;
      }
      if (!(layout.flags & Flag.QR) || layout.qdcount !== 1 || questionKeyOf(msg, layout.questionEnd) !== p.key) return;
      p.done({ ok: true, wire: new Uint8Array(msg), layout });
    });
    // ICMP errors for one upstream surface here; that attempt then times out and fails over.
    socket.on("error", () => {});
    this.#sockets.set(family, socket);
    this.#pending.set(family, pending);
    return socket;
  }

  async #tcpExchange(server: Endpoint, query: Uint8Array): Promise<UpstreamReply> {
    const key = questionKeyOf(query, query.length - 11);
    let conn: Deno.TcpConn | null = null;
    let abandoned = false;
    const exchange = async (): Promise<UpstreamReply> => {
      conn = await Deno.connect({ hostname: server.host, port: server.port });
      if (abandoned) {
        conn.close();
        return { ok: false, reason: "abandoned" };
      }
      await writeAll(conn, frame(query));
      const length = await readExactly(conn, 2);
      const wire = await readExactly(conn, u16(length, 0));
      const layout = scanMessage(wire);
      if (
        u16(wire, 0) !== u16(query, 0) || !(layout.flags & Flag.QR) || questionKeyOf(wire, layout.questionEnd) !== key
      ) {
        return { ok: false, reason: `${label(server)} sent a TCP answer that does not match the query` };
      }
      return { ok: true, wire, layout };
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<UpstreamReply>((resolve) => {
      timer = setTimeout(
        () => resolve({ ok: false, reason: `no answer from ${label(server)} (TCP timeout)` }),
        this.#settings.timeoutMs,
      );
    });
    const attempt = exchange().catch((e): UpstreamReply => ({
      ok: false,
      reason: `no answer from ${label(server)} over TCP (${(e as Error).message})`,
    }));
    try {
      return await Promise.race([attempt, timeout]);
    } finally {
      clearTimeout(timer);
      abandoned = true;
      closeQuietly(conn);
    }
  }
}

function label(e: Endpoint): string {
  return e.family === 6 ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** Query IDs come from the CSPRNG so an off-path attacker cannot guess them (RFC 5452 §4.3). */
function randomId(): number {
  return crypto.getRandomValues(new Uint16Array(1))[0];
}

function canonicalHost(address: string): string {
  try {
    return formatIP(parseIP(address));
  } catch {
    return address;
  }
}

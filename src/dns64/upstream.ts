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
 * The datagrams go through node:dgram (network permission only) unless the listener
 * provides its own {@link UpstreamDatagrams}: the UDP batch loop sends them with one
 * system call each and reads the replies with its own, many at a time.
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

/** How UDP queries reach the upstream resolvers and their replies come back. */
export interface UpstreamDatagrams {
  /** Sends `query` to `server`; `failed` is told why when it cannot be sent, now or later. */
  send(server: Endpoint, query: Uint8Array, failed: (reason: string) => void): void;
  /**
   * Where every datagram that arrives goes: its bytes (valid during the call only), and
   * the source address in canonical text and port.
   */
  receive(handler: (msg: Uint8Array, host: string, port: number) => void): void;
  close(): void;
}

/** UDP through node:dgram, a socket per address family, made on first use. */
export function nodeDatagrams(): UpstreamDatagrams {
  const sockets = new Map<4 | 6, dgram.Socket>();
  let handler: (msg: Uint8Array, host: string, port: number) => void = () => {};
  const socket = (family: 4 | 6) => {
    let s = sockets.get(family);
    if (s) return s;
    s = dgram.createSocket(family === 4 ? "udp4" : "udp6");
    s.on("message", (msg: Uint8Array, rinfo: { address: string; port: number }) => {
      handler(msg, canonicalHost(rinfo.address), rinfo.port);
    });
    // ICMP errors for one upstream surface here; that attempt then times out and fails over.
    s.on("error", () => {});
    sockets.set(family, s);
    return s;
  };
  return {
    send(server, query, failed) {
      socket(server.family).send(query, server.port, server.host, (err) => {
        if (err) failed(`cannot send to ${label(server)}: ${err.message}`);
      });
    },
    receive(h) {
      handler = h;
    },
    close() {
      for (const s of sockets.values()) s.close();
      sockets.clear();
    },
  };
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
  readonly #datagrams: UpstreamDatagrams;
  /** UDP queries waiting for their answer, by message ID (unique among them). */
  readonly #pending = new Map<number, Pending>();
  #preferred = 0;
  #closed = false;

  /**
   * `onError` is told about every failed attempt (for the upstream-errors counter).
   * `datagrams` carries the UDP queries; node:dgram unless given.
   */
  constructor(settings: UpstreamSettings, onError: (reason: string) => void, datagrams = nodeDatagrams()) {
    this.#settings = settings;
    this.#onError = onError;
    this.#datagrams = datagrams;
    datagrams.receive((msg, host, port) => this.#received(msg, host, port));
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

  /** UDP queries sent and not yet answered (nor timed out). */
  get waiting(): number {
    return this.#pending.size;
  }

  /** Closes the sockets; pending queries fail. */
  close(): void {
    this.#closed = true;
    for (const p of this.#pending.values()) p.done({ ok: false, reason: "the upstream client was closed" });
    this.#pending.clear();
    this.#datagrams.close();
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
    const pending = this.#pending;
    let id = randomId();
    while (pending.has(id)) id = randomId();
    const query = build(id);
    const key = questionKeyOf(query, query.length - 11);
    return new Promise((resolve) => {
      // Settles once: a send failure may follow the timeout, a late reply follows both.
      const finish = (reply: UpstreamReply) => {
        if (pending.get(id)?.done !== finish) return;
        clearTimeout(timer);
        pending.delete(id);
        resolve(reply);
      };
      pending.set(id, { server, key, done: finish });
      const timer = setTimeout(
        () => finish({ ok: false, reason: `no answer from ${label(server)} (UDP timeout)` }),
        this.#settings.timeoutMs,
      );
      this.#datagrams.send(server, query, (reason) => finish({ ok: false, reason }));
    });
  }

  /** A datagram from upstream: the answer to a pending query when source, ID and question all match. */
  #received(msg: Uint8Array, host: string, port: number): void {
    if (msg.length < HEADER_SIZE) return;
    const p = this.#pending.get(u16(msg, 0));
    if (!p || p.server.port !== port || p.server.host !== host) return;
    let layout: MessageLayout;
    try {
      layout = scanMessage(msg);
    } catch (e) {
      // It came from the upstream with our ID, so waiting longer brings nothing better.
      p.done({ ok: false, reason: `${label(p.server)} sent a malformed answer: ${(e as Error).message}` });
      return;
    }
    if (!(layout.flags & Flag.QR) || layout.qdcount !== 1 || questionKeyOf(msg, layout.questionEnd) !== p.key) return;
    // The bytes may be a view into a receive buffer that is about to be reused.
    p.done({ ok: true, wire: new Uint8Array(msg), layout });
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

/** Random IDs drawn from the CSPRNG a block at a time (one call per 1024 queries instead of one each). */
const randomIds = new Uint16Array(1024);
let randomIdsLeft = 0;

/** Query IDs come from the CSPRNG so an off-path attacker cannot guess them (RFC 5452 §4.3). */
function randomId(): number {
  if (randomIdsLeft === 0) {
    crypto.getRandomValues(randomIds);
    randomIdsLeft = randomIds.length;
  }
  return randomIds[--randomIdsLeft];
}

/** An address in the canonical text the configured endpoints use, so that they compare equal. */
function canonicalHost(address: string): string {
  try {
    return formatIP(parseIP(address));
  } catch {
    return address;
  }
}

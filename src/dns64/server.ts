/**
 * The DNS64 listener: a UDP and a TCP socket on every configured address, each query
 * handed to the resolver and its answer sent back. UDP goes through recvmmsg/sendmmsg
 * batches (udp_batch.ts) when FFI to libc is permitted, and through node:dgram, which
 * needs network permission only, when it is not. The loops never throw: a failing send
 * or a broken connection ends only itself.
 *
 * @module
 */

import dgram from "node:dgram";
import { ResponseCache } from "./cache.ts";
import { CounterSet, type Dns64Counters } from "./counters.ts";
import { type Dns64Config, type Dns64Options, type Endpoint, formatEndpoint, resolveOptions } from "./options.ts";
import { type ClientInfo, Dns64Resolver, type UpstreamNeeded } from "./resolver.ts";
import { closeQuietly, frame, writeAll } from "./tcp.ts";
import { type BatchHandler, BatchLoop } from "./udp_batch.ts";
import { defaultLibcPath } from "../tun/libc.ts";
import { UpstreamClient } from "./upstream.ts";

export type { Dns64Counters, Dns64Options };

/** RFC 7766 §6.2.3: idle TCP connections are closed; seconds, not minutes. */
const TCP_IDLE_MS = 10_000;
/** Open TCP connections at most; more are closed at once, so a flood cannot exhaust descriptors. */
const MAX_TCP_CONNECTIONS = 256;
/** Pipelined queries worked on at once per TCP connection (RFC 7766 §6.2.1.1 allows concurrency). */
const MAX_TCP_INFLIGHT = 32;

/** Free ports tried when port 0 is asked for and TCP cannot have the port UDP got. */
const PORT_ATTEMPTS = 20;

/** A bound UDP listener of either kind. */
interface UdpListener {
  readonly port: number;
  close(): void;
}

/** What the caller provides besides the options: things shared across reloads, and its surroundings. */
export interface Dns64Shared {
  /** A cache to use instead of a new one; its keys include the configuration, so it survives changes safely. */
  readonly cache?: ResponseCache;
  /**
   * Nothing else runs on this thread (`nat64 dns64`), so the UDP loop may block it for a
   * millisecond at a time waiting for the next query. Not in the gateway, whose datapath
   * shares the event loop. Default false.
   */
  readonly exclusive?: boolean;
  /** Where notes about the listener go (one line each); default stderr. */
  readonly log?: (line: string) => void;
}

/** The DNS64 listener. `start()` binds, `stop()` releases everything. */
export class Dns64Server {
  readonly #config: Dns64Config;
  readonly #counters = new CounterSet();
  readonly #cache: ResponseCache;
  readonly #exclusive: boolean;
  readonly #log: (line: string) => void;
  /** Set by start(): the upstream client, and the UDP batch loop when there is one. */
  #upstream: UpstreamClient | null = null;
  #batch: BatchLoop | null = null;
  /** UDP listeners of the network-only path (batch listeners belong to the loop). */
  readonly #udp: UdpListener[] = [];
  readonly #tcp: Deno.TcpListener[] = [];
  readonly #conns = new Set<Deno.TcpConn>();
  readonly #loops = new Set<Promise<void>>();
  readonly #bound: Endpoint[] = [];

  /** Validates `options`; throws `Dns64ConfigError` naming the bad key. */
  constructor(options: Dns64Options, shared: Dns64Shared = {}) {
    this.#config = resolveOptions(options);
    this.#cache = shared.cache ?? new ResponseCache(this.#config.cacheSize);
    this.#exclusive = shared.exclusive ?? false;
    this.#log = shared.log ?? ((line) => console.error(`dns64: ${line}`));
  }

  /**
   * Binds a UDP and a TCP socket on each listen address. Port 0 picks a free UDP port and
   * uses the same one for TCP. Throws an Error naming the address when one cannot be bound.
   */
  async start(): Promise<void> {
    const config = this.#config;
    try {
      // With udp-batch the loop also carries the upstream queries; it reads their replies.
      const batch = this.#useBatch()
        ? BatchLoop.open(this.#exclusive, config.upstream.map((e) => e.family), config.ednsUdpSize)
        : null;
      this.#batch = batch;
      this.#upstream = new UpstreamClient(config, () => this.#counters.upstreamErrors++, batch?.upstream);
      const resolver = new Dns64Resolver(config, {
        upstream: this.#upstream,
        cache: this.#cache,
        counters: this.#counters,
      });
      for (const endpoint of config.listen) this.#bound.push(await this.#listenPair(endpoint, resolver, batch));
      if (batch) this.#track(batch.serve(this.#batchHandler(resolver, this.#upstream)));
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** Closes every socket and connection and the upstream client. */
  async stop(): Promise<void> {
    this.#batch?.close();
    for (const socket of this.#udp.splice(0)) socket.close();
    for (const listener of this.#tcp.splice(0)) closeQuietly(listener);
    for (const conn of this.#conns) closeQuietly(conn);
    this.#conns.clear();
    this.#upstream?.close();
    await Promise.all(this.#loops);
  }

  /** Whether UDP goes through the batch loop: as configured, or when FFI is permitted (with a line when not). */
  #useBatch(): boolean {
    if (this.#config.udpBatch !== "auto") return this.#config.udpBatch;
    if (BatchLoop.permitted()) return true;
    const libc = defaultLibcPath();
    this.#log(`udp-batch is off: FFI to ${libc} is not permitted (--allow-ffi=${libc}), so UDP takes a call per query`);
    return false;
  }

  /** The counters so far. */
  counters(): Dns64Counters {
    return this.#counters.snapshot();
  }

  /** The addresses actually bound (ports resolved when 0 was asked for). */
  addresses(): readonly Endpoint[] {
    return [...this.#bound];
  }

  /**
   * Binds UDP then TCP on one port. With port 0 the UDP port the kernel picked may be
   * taken for TCP; then another is tried.
   */
  async #listenPair(endpoint: Endpoint, resolver: Dns64Resolver, batch: BatchLoop | null): Promise<Endpoint> {
    for (let attempt = 1;; attempt++) {
      const socket = batch ? batch.listen(endpoint) : await this.#listenUdp(endpoint, resolver);
      const bound = { ...endpoint, port: socket.port };
      try {
        this.#listenTcp(bound, resolver);
      } catch (e) {
        socket.close();
        if (endpoint.port === 0 && attempt < PORT_ATTEMPTS) continue;
        throw e;
      }
      if (!batch) this.#udp.push(socket);
      return bound;
    }
  }

  /** What the batch loop does with each query (see udp_batch.ts). */
  #batchHandler(resolver: Dns64Resolver, upstream: UpstreamClient): BatchHandler<UpstreamNeeded> {
    // Datagrams mostly come from a client just seen: its ClientInfo is made once.
    let client: ClientInfo = { address: "", tcp: false };
    return {
      now: (query, address) => {
        if (client.address !== address) client = { address, tcp: false };
        return resolver.answerNow(query, client);
      },
      later: (pending, query) => resolver.answerLater(pending, query),
      idle: () => upstream.waiting === 0,
    };
  }

  #listenUdp(endpoint: Endpoint, resolver: Dns64Resolver): Promise<UdpListener> {
    const socket = dgram.createSocket({ type: endpoint.family === 6 ? "udp6" : "udp4", ipv6Only: true });
    return new Promise((resolve, reject) => {
      socket.once("error", (e: Error) => {
        reject(new Error(`listen: cannot bind UDP ${formatEndpoint(endpoint)}: ${e.message}`));
      });
      socket.bind(endpoint.port, endpoint.host, () => {
        socket.removeAllListeners("error");
        // A send to a vanished client can report ICMP errors here; they concern that client only.
        socket.on("error", () => {});
        socket.on("message", (msg: Uint8Array, rinfo: { address: string; port: number }) => {
          const send = (answer: Uint8Array | null) => {
            if (!answer) return;
            try {
              socket.send(answer, rinfo.port, rinfo.address);
            } catch {
              // The socket was closed by stop() while the answer was being worked out.
            }
          };
          const answer = resolver.handle(msg, { address: rinfo.address, tcp: false });
          if (answer instanceof Promise) answer.then(send);
          else send(answer);
        });
        resolve({ port: socket.address().port, close: () => socket.close() });
      });
    });
  }

  #listenTcp(endpoint: Endpoint, resolver: Dns64Resolver): void {
    let listener: Deno.TcpListener;
    try {
      listener = Deno.listen({ hostname: endpoint.host, port: endpoint.port, transport: "tcp" });
    } catch (e) {
      throw new Error(`listen: cannot bind TCP ${formatEndpoint(endpoint)}: ${(e as Error).message}`);
    }
    this.#tcp.push(listener);
    this.#track(this.#acceptLoop(listener, resolver));
  }

  #track(loop: Promise<void>): void {
    this.#loops.add(loop);
    loop.finally(() => this.#loops.delete(loop));
  }

  async #acceptLoop(listener: Deno.TcpListener, resolver: Dns64Resolver): Promise<void> {
    try {
      for await (const conn of listener) {
        if (this.#conns.size >= MAX_TCP_CONNECTIONS) {
          closeQuietly(conn);
          continue;
        }
        this.#conns.add(conn);
        this.#track(this.#serveConnection(conn, resolver));
      }
    } catch {
      // The listener was closed by stop().
    }
  }

  /** RFC 7766 §8: each message is preceded by its two-byte length. */
  async #serveConnection(conn: Deno.TcpConn, resolver: Dns64Resolver): Promise<void> {
    const address = (conn.remoteAddr as Deno.NetAddr).hostname;
    let pending: Uint8Array = new Uint8Array(0);
    let writing = Promise.resolve();
    const inflight = new Set<Promise<void>>();
    let idle = setTimeout(() => closeQuietly(conn), TCP_IDLE_MS);
    const chunk = new Uint8Array(65538);
    try {
      for (;;) {
        const n = await conn.read(chunk);
        if (n === null) break;
        clearTimeout(idle);
        idle = setTimeout(() => closeQuietly(conn), TCP_IDLE_MS);
        pending = concat(pending, chunk.subarray(0, n));
        while (pending.length >= 2) {
          const length = (pending[0] << 8) | pending[1];
          if (pending.length < length + 2) break;
          const query = pending.slice(2, length + 2);
          pending = pending.slice(length + 2);
          if (inflight.size >= MAX_TCP_INFLIGHT) await Promise.race(inflight);
          const job: Promise<void> = Promise.resolve(resolver.handle(query, { address, tcp: true })).then(
            (answer) => {
              if (!answer) return;
              const framed = frame(answer);
              writing = writing.then(() => writeAll(conn, framed)).catch(() => closeQuietly(conn));
              return writing;
            },
          ).finally(() => inflight.delete(job));
          inflight.add(job);
        }
      }
      await Promise.all(inflight);
    } catch {
      // A reset or a close by the idle timer or stop() ends this connection only.
    } finally {
      clearTimeout(idle);
      this.#conns.delete(conn);
      closeQuietly(conn);
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b.slice();
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

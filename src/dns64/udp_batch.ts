/**
 * UDP in batches through libc: one loop serves every listener socket and the sockets that
 * talk to the upstream resolvers. `recvmmsg(2)` reads up to BATCH datagrams per system
 * call and `sendmmsg(2)` sends the answers that were ready at once, so the per-query cost
 * is a little JavaScript instead of event-loop round trips. Through Deno FFI, so it needs
 * `--allow-ffi=<libc path>`; without that permission the listener uses node:dgram.
 *
 * A query the cache answers is read in place, in its receive slot, and its answer joins
 * the batch sent when the slots have been gone through. A query that needs upstream gets
 * a copy of its bytes; the upstream query leaves at once (`sendto`), the reply is read by
 * this loop, and the answers worked out in the same turn leave in one `sendmmsg`.
 *
 * Waiting: each turn starts with a `poll(2)` over all the sockets. With `exclusive`
 * (nothing else runs on this thread, as in `nat64 dns64`) it may wait there up to SPIN_MS
 * for the next datagram: a wake-up on this thread costs far less than one through a
 * worker thread. With one listener and no upstream reply awaited, the wait is in
 * `recvmmsg` itself (MSG_WAITFORONE, bounded by SO_RCVTIMEO): one system call per
 * wake-up. It yields to the event loop at least every YIELD_MS, so timers, TCP and
 * the resolver's promises keep running. When nothing has come for QUIET_MS, and at once
 * without `exclusive` (the gateway's datapath shares the thread and must not wait behind
 * a blocked call), it waits in `poll(2)` on a Deno worker thread, with an eventfd that
 * close() writes to, so an idle listener costs nothing and stops at once.
 *
 * Struct layouts are those of LP64 Linux (x86-64, AArch64): `struct msghdr` is 56 bytes,
 * `struct mmsghdr` 64, `struct iovec` 16, `struct sockaddr_in6` 28, `struct pollfd` 8.
 *
 * @module
 */

import { defaultLibcPath, EFD_CLOEXEC, EFD_NONBLOCK, Libc, POLLERR, POLLIN, POLLNVAL } from "../tun/libc.ts";
import { formatIPv6, parseIP } from "../net/ip.ts";
import { type Endpoint, formatEndpoint } from "./options.ts";
import type { UpstreamDatagrams } from "./upstream.ts";
import { allocate, Flag, HEADER_SIZE, questionOnly, skipName, u16 } from "./wire.ts";

/** Datagrams per system call. */
const BATCH = 64;
/** Room per query; a larger one (no real query is) is dropped. */
const QUERY_SLOT = 4096;
/** Room per upstream reply at least; a longer one is taken as truncated (asked again over TCP). */
const REPLY_SLOT = 4096;
/** The longest the event loop is held while datagrams keep coming, in milliseconds. */
const YIELD_MS = 1;
/** The longest the loop waits for the next datagram on its own thread (`exclusive` only), in milliseconds. */
const SPIN_MS = 1;
/**
 * How long after the last datagram an exclusive loop keeps waiting on its own thread, a
 * SPIN_MS at a time, in milliseconds. A lull of a few milliseconds (the client, or this
 * process, held up by other work on the CPUs) then costs one wake-up, not two through a
 * worker thread; a listener quiet for longer costs nothing.
 */
const QUIET_MS = 1000;
/** Room per peer address (sockaddr_in6 is 28 bytes). */
const NAME = 32;
const MMSGHDR = 64;
const IOVEC = 16;
const POLLFD = 8;
/** Offsets in `struct mmsghdr`: msg_namelen, msg_flags, and msg_len after the 56-byte msghdr. */
const NAMELEN_AT = 8;
const FLAGS_AT = 48;
const LEN_AT = 56;

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_IPV6 = 41;
const IPV6_V6ONLY = 26;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_SNDBUF = 7;
const SO_RCVTIMEO = 20;
/** recvmmsg reports a datagram cut to its slot (linux/socket.h). */
const MSG_TRUNC = 0x20;
/** recv/send flags (linux/socket.h). */
const MSG_DONTWAIT = 0x40;
const MSG_WAITFORONE = 0x10000;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32" },
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "i32" },
} as const;

type Symbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** What the listener does with each query. */
export interface BatchHandler<Later> {
  /**
   * The answer when it is ready at once, null to send nothing, or a value for `later`.
   * `query` is a view into a receive slot, valid during this call only.
   */
  now(query: Uint8Array, peer: string): Uint8Array | null | Later;
  /** The answer to a query `now` passed on; `query` is a copy the handler may keep. */
  later(pending: Later, query: Uint8Array): Promise<Uint8Array | null>;
  /** True when no upstream reply is awaited, so the loop may wait on a listener alone. */
  idle(): boolean;
}

/** A bound listener socket of a {@link BatchLoop}. */
export interface BatchListener {
  readonly port: number;
  /** Closes it; only before the loop serves (a port that TCP could not also have). */
  close(): void;
}

/** A datagram socket with a ring of receive slots and, for a listener, of send slots. */
class RingSocket {
  readonly fd: number;
  readonly family: 4 | 6;
  readonly port: number;
  readonly #sym: Symbols;
  readonly #slot: number;
  readonly #nameLength: number;
  readonly #rxData: Uint8Array;
  readonly #rxNames = new Uint8Array(BATCH * NAME);
  readonly #rxHeaders = new Uint8Array(BATCH * MMSGHDR);
  readonly #rxView = new DataView(this.#rxHeaders.buffer);
  readonly #rxIovecs = new Uint8Array(BATCH * IOVEC);
  readonly #txData: Uint8Array;
  readonly #txNames: Uint8Array;
  readonly #txHeaders: Uint8Array;
  readonly #txIovecs: DataView;
  /** The last peer's address bytes and text: most datagrams come from a peer just seen. */
  readonly #lastPeer = new Uint8Array(16);
  #lastPeerText = "";
  #txCount = 0;
  #flushQueued = false;

  /** Opens a socket of `family`, bound to `bind` when given; `sends`: it has send slots too. */
  constructor(libc: Libc, sym: Symbols, family: 4 | 6, slot: number, sends: boolean, bind: Endpoint | null) {
    this.#sym = sym;
    this.family = family;
    this.#slot = slot;
    this.#nameLength = family === 6 ? 28 : 16;
    this.#rxData = new Uint8Array(BATCH * slot);
    this.#txData = new Uint8Array(sends ? BATCH * slot : 0);
    this.#txNames = new Uint8Array(sends ? BATCH * NAME : 0);
    this.#txHeaders = new Uint8Array(sends ? BATCH * MMSGHDR : 0);
    this.#txIovecs = new DataView(new ArrayBuffer(sends ? BATCH * IOVEC : 0));
    const what = bind ? `UDP ${family === 6 ? `[${bind.host}]` : bind.host}:${bind.port}` : "the upstream resolvers";
    // A blocking socket, so that a receive can wait for the first datagram (SO_RCVTIMEO
    // bounds it); every other call passes MSG_DONTWAIT.
    const fd = sym.socket(family === 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new Error(`cannot open a UDP socket for ${what}: errno ${libc.errno()}`);
    this.fd = fd;
    try {
      // Room for bursts: a full batch of queries and answers several times over.
      this.#setInt(libc, SOL_SOCKET, SO_RCVBUF, 4 << 20);
      this.#setInt(libc, SOL_SOCKET, SO_SNDBUF, 4 << 20);
      const timeout = new Uint8Array(new BigInt64Array([0n, BigInt(SPIN_MS * 1000)]).buffer);
      if (sym.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, timeout.length) < 0) {
        throw new Error(`setsockopt SO_RCVTIMEO failed: errno ${libc.errno()}`);
      }
      if (bind) {
        if (family === 6) this.#setInt(libc, IPPROTO_IPV6, IPV6_V6ONLY, 1);
        const addr = sockaddr(bind.host, bind.port);
        if (sym.bind(fd, addr, addr.length) < 0) throw new Error(`listen: cannot bind ${what}: errno ${libc.errno()}`);
        const bound = new Uint8Array(NAME);
        sym.getsockname(fd, bound, new Uint8Array(new Uint32Array([NAME]).buffer));
        this.port = (bound[2] << 8) | bound[3];
      } else {
        this.port = 0;
      }
    } catch (e) {
      libc.close(fd);
      throw e;
    }
    this.#layout(libc);
  }

  /**
   * recvmmsg: how many datagrams the slots now hold (0 when none). `wait`: for the first
   * one, up to SPIN_MS, blocking the thread.
   */
  receive(wait: boolean): number {
    const n = this.#sym.recvmmsg(this.fd, this.#rxHeaders, BATCH, wait ? MSG_WAITFORONE : MSG_DONTWAIT, null);
    return n > 0 ? n : 0;
  }

  /**
   * Datagram `i` of the last receive, as a view into its slot (only its beginning when it
   * did not fit: see {@link truncated}). Also gives the slot's address room back for the
   * next receive.
   */
  datagram(i: number): Uint8Array {
    const h = i * MMSGHDR;
    // The kernel wrote the address length it used; the next receive needs the room again.
    this.#rxView.setUint32(h + NAMELEN_AT, NAME, true);
    const at = i * this.#slot;
    return this.#rxData.subarray(at, at + Math.min(this.#rxView.getUint32(h + LEN_AT, true), this.#slot));
  }

  /** True when datagram `i` was longer than its slot. */
  truncated(i: number): boolean {
    return (this.#rxView.getInt32(i * MMSGHDR + FLAGS_AT, true) & MSG_TRUNC) !== 0;
  }

  /** The source of datagram `i` in canonical text, and its port. */
  peer(i: number): string {
    const names = this.#rxNames;
    const from = i * NAME + (this.family === 4 ? 4 : 8);
    const size = this.family === 4 ? 4 : 16;
    const last = this.#lastPeer;
    let same = this.#lastPeerText !== "";
    for (let j = 0; same && j < size; j++) same = names[from + j] === last[j];
    if (same) return this.#lastPeerText;
    last.set(names.subarray(from, from + size));
    this.#lastPeerText = this.family === 4
      ? `${last[0]}.${last[1]}.${last[2]}.${last[3]}`
      : formatIPv6(last.subarray(0, 16));
    return this.#lastPeerText;
  }

  /** The source port of datagram `i`. */
  peerPort(i: number): number {
    return (this.#rxNames[i * NAME + 2] << 8) | this.#rxNames[i * NAME + 3];
  }

  /** A copy of the address room of datagram `i`, to answer it after the slots are reused. */
  peerName(i: number): Uint8Array {
    return this.#rxNames.slice(i * NAME, i * NAME + NAME);
  }

  /** Queues a reply to datagram `i` of the last receive for the next {@link flush}. */
  reply(answer: Uint8Array, i: number): void {
    this.#queue(answer, this.#rxNames, i * NAME);
  }

  /**
   * Queues an answer that came later, for the peer `name` ({@link peerName}); the answers
   * that come in the same turn of the event loop leave together, in a microtask after them.
   */
  replyLater(answer: Uint8Array, name: Uint8Array): void {
    this.#queue(answer, name, 0);
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.flush();
    });
  }

  /** Sends one datagram to the socket address `name` at once; false when the kernel refuses it. */
  sendTo(data: Uint8Array, name: Uint8Array): boolean {
    return this.#sym.sendto(this.fd, data, BigInt(data.length), MSG_DONTWAIT, name, name.length) >= 0;
  }

  /** Sends every queued reply. One that the kernel refuses (an unreachable peer) is dropped, not the rest. */
  flush(): void {
    let sent = 0;
    while (sent < this.#txCount) {
      const rc = this.#sym.sendmmsg(
        this.fd,
        this.#txHeaders.subarray(sent * MMSGHDR),
        this.#txCount - sent,
        MSG_DONTWAIT,
      );
      sent += rc > 0 ? rc : 1;
    }
    this.#txCount = 0;
  }

  /** Queues `answer` for the peer whose address room is at `names[at]`; without allocating in the common case. */
  #queue(answer: Uint8Array, names: Uint8Array, at: number): void {
    if (answer.length > this.#slot) {
      const name = names.subarray(at, at + NAME);
      this.#sym.sendto(this.fd, answer, BigInt(answer.length), MSG_DONTWAIT, name, this.#nameLength);
      return;
    }
    if (this.#txCount === BATCH) this.flush();
    const i = this.#txCount++;
    this.#txData.set(answer, i * this.#slot);
    const tx = this.#txNames;
    for (let j = 0; j < this.#nameLength; j++) tx[i * NAME + j] = names[at + j];
    // iov_len is 64 bits, its high half zero since the layout (slots are far below 4 GiB).
    this.#txIovecs.setUint32(i * IOVEC + 8, answer.length, true);
  }

  /** Points every header at its slot, its address room and its iovec (once: the memory never moves). */
  #layout(libc: Libc): void {
    const at = (v: Uint8Array) => BigInt(libc.addressOf(v));
    const rings: [Uint8Array, Uint8Array, Uint8Array, Uint8Array, number][] = [
      [this.#rxHeaders, this.#rxData, this.#rxNames, this.#rxIovecs, NAME],
    ];
    if (this.#txHeaders.length) {
      rings.push([
        this.#txHeaders,
        this.#txData,
        this.#txNames,
        new Uint8Array(this.#txIovecs.buffer),
        this.#nameLength,
      ]);
    }
    for (const [headerBytes, data, names, iovBytes, nameLength] of rings) {
      const headers = new DataView(headerBytes.buffer);
      const iov = new DataView(iovBytes.buffer);
      for (let i = 0; i < BATCH; i++) {
        iov.setBigUint64(i * IOVEC, at(data.subarray(i * this.#slot)), true);
        iov.setBigUint64(i * IOVEC + 8, BigInt(this.#slot), true);
        const h = i * MMSGHDR;
        headers.setBigUint64(h, at(names.subarray(i * NAME)), true);
        headers.setUint32(h + NAMELEN_AT, nameLength, true);
        headers.setBigUint64(h + 16, at(iovBytes.subarray(i * IOVEC)), true);
        headers.setBigUint64(h + 24, 1n, true);
      }
    }
  }

  #setInt(libc: Libc, level: number, name: number, value: number): void {
    const v = new Uint8Array(new Int32Array([value]).buffer);
    if (this.#sym.setsockopt(this.fd, level, name, v, 4) < 0) {
      throw new Error(`setsockopt ${level}/${name} failed: errno ${libc.errno()}`);
    }
  }
}

/** The upstream side of a {@link BatchLoop}: a socket per address family, read by the loop. */
class LoopUpstream implements UpstreamDatagrams {
  readonly #sockets: Map<4 | 6, RingSocket>;
  readonly #names = new WeakMap<Endpoint, Uint8Array>();
  #handler: (msg: Uint8Array, host: string, port: number) => void = () => {};

  constructor(sockets: Map<4 | 6, RingSocket>) {
    this.#sockets = sockets;
  }

  send(server: Endpoint, query: Uint8Array, failed: (reason: string) => void): void {
    const socket = this.#sockets.get(server.family);
    if (!socket) {
      failed(`no IPv${server.family} socket to reach ${formatEndpoint(server)}`);
      return;
    }
    let name = this.#names.get(server);
    if (!name) {
      name = sockaddr(server.host, server.port);
      this.#names.set(server, name);
    }
    if (!socket.sendTo(query, name)) failed(`cannot send to ${formatEndpoint(server)}`);
  }

  receive(handler: (msg: Uint8Array, host: string, port: number) => void): void {
    this.#handler = handler;
  }

  /** The loop closes the sockets. */
  close(): void {}

  /**
   * Hands the datagrams of the last receive on `socket` to the client. A reply longer than
   * its slot is handed on as what it is, an answer too large for UDP: its header and
   * question with TC set, so that the client asks again over TCP (RFC 7766 §5).
   */
  deliver(socket: RingSocket, n: number): void {
    for (let i = 0; i < n; i++) {
      let msg: Uint8Array | null = socket.datagram(i);
      if (socket.truncated(i)) msg = truncatedReply(msg);
      if (msg) this.#handler(msg, socket.peer(i), socket.peerPort(i));
    }
  }
}

/** One loop for the listener sockets and the upstream sockets. */
export class BatchLoop {
  readonly #libc: Libc;
  readonly #lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  readonly #exclusive: boolean;
  readonly #listeners: RingSocket[] = [];
  readonly #upstreamSockets = new Map<4 | 6, RingSocket>();
  readonly #upstream: LoopUpstream;
  readonly #wakeFd: number;
  #serving = false;
  #closed = false;

  private constructor(
    libc: Libc,
    lib: Deno.DynamicLibrary<typeof SYMBOLS>,
    exclusive: boolean,
    upstreamFamilies: readonly (4 | 6)[],
    upstreamSlot: number,
  ) {
    this.#libc = libc;
    this.#lib = lib;
    this.#exclusive = exclusive;
    const wake = libc.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake < 0) throw new Error(`cannot make an eventfd for the DNS64 UDP loop: errno ${-wake}`);
    this.#wakeFd = wake;
    try {
      for (const family of new Set(upstreamFamilies)) {
        const slot = Math.max(REPLY_SLOT, upstreamSlot);
        this.#upstreamSockets.set(family, new RingSocket(libc, lib.symbols, family, slot, false, null));
      }
    } catch (e) {
      this.#release();
      throw e;
    }
    this.#upstream = new LoopUpstream(this.#upstreamSockets);
  }

  /**
   * Loads libc and opens the upstream sockets (one per family in `upstreamFamilies`, with
   * room for replies of `upstreamSlot` bytes). Throws one sentence naming the FFI
   * permission or what failed. `exclusive`: nothing else needs this thread, so the loop
   * may block it briefly while waiting (see the module comment).
   */
  static open(
    exclusive: boolean,
    upstreamFamilies: readonly (4 | 6)[],
    upstreamSlot: number,
    libcPath: string = defaultLibcPath(),
  ): BatchLoop {
    const libc = Libc.open(libcPath);
    const lib = Deno.dlopen(libcPath, SYMBOLS);
    try {
      return new BatchLoop(libc, lib, exclusive, upstreamFamilies, upstreamSlot);
    } catch (e) {
      lib.close();
      throw e;
    }
  }

  /** True when FFI to `libcPath` is granted, so that {@link open} can work; asks no one. */
  static permitted(libcPath: string = defaultLibcPath()): boolean {
    return Deno.permissions.querySync({ name: "ffi", path: libcPath }).state === "granted";
  }

  /** Binds a listener socket (before {@link serve}); throws one sentence naming the address. */
  listen(endpoint: Endpoint): BatchListener {
    const socket = new RingSocket(this.#libc, this.#lib.symbols, endpoint.family, QUERY_SLOT, true, endpoint);
    this.#listeners.push(socket);
    return {
      port: socket.port,
      close: () => {
        this.#listeners.splice(this.#listeners.indexOf(socket), 1);
        this.#libc.close(socket.fd);
      },
    };
  }

  /** The datagram transport for the upstream client: its replies are read by this loop. */
  get upstream(): UpstreamDatagrams {
    return this.#upstream;
  }

  /** Serves queries until close(), then releases every socket; never throws. */
  async serve<Later>(handler: BatchHandler<Later>): Promise<void> {
    this.#serving = true;
    const sockets = [...this.#listeners, ...this.#upstreamSockets.values()];
    const listeners = this.#listeners.length;
    // pollfd per socket, then the eventfd: { int fd; short events; short revents; }
    const fds = new Uint8Array((sockets.length + 1) * POLLFD);
    const ints = new Int32Array(fds.buffer);
    const shorts = new Int16Array(fds.buffer);
    [...sockets.map((s) => s.fd), this.#wakeFd].forEach((fd, i) => {
      ints[i * 2] = fd;
      shorts[i * 4 + 2] = POLLIN;
    });
    const count = sockets.length + 1;
    const spin = this.#exclusive ? SPIN_MS : 0;
    // The common case gets one system call per wake-up: one listener, nothing awaited from
    // upstream, so the loop can wait for a query in recvmmsg itself.
    const single = this.#exclusive && listeners === 1 ? this.#listeners[0] : null;
    let lastYield = performance.now();
    let lastTraffic = 0;
    try {
      while (!this.#closed) {
        // Let timers, TCP and the resolver's promises run at least every YIELD_MS while busy.
        // A setImmediate turn polls I/O without the thread hop of a worker-thread call.
        if (performance.now() - lastYield >= YIELD_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          lastYield = performance.now();
          continue;
        }
        if (single !== null && handler.idle()) {
          const n = single.receive(true);
          if (n > 0) {
            lastTraffic = performance.now();
            this.#answerAll(handler, single, n);
            continue;
          }
          // A lull in traffic: keep waiting on this thread (after the event loop's turn).
          if (performance.now() - lastTraffic < QUIET_MS) continue;
          await this.#libc.pollAsync(fds, count, -1);
          lastYield = performance.now();
        } else if (this.#libc.poll(fds, count, spin) > 0) {
          lastTraffic = performance.now();
        } else {
          if (this.#exclusive && performance.now() - lastTraffic < QUIET_MS) continue;
          // Quiet (or not exclusive): wait on a worker thread and leave the event loop free.
          await this.#libc.pollAsync(fds, count, -1);
          lastYield = performance.now();
        }
        let replies = 0;
        for (let s = 0; s < sockets.length; s++) {
          const revents = shorts[s * 4 + 3];
          if (revents & (POLLNVAL | POLLERR) && s < listeners) return;
          if (!(revents & POLLIN)) continue;
          const socket = sockets[s];
          const n = socket.receive(false);
          if (s < listeners) {
            this.#answerAll(handler, socket, n);
            continue;
          }
          this.#upstream.deliver(socket, n);
          replies += n;
        }
        // The replies resolved the resolver's promises: let them run now, so that the
        // answers and the next upstream queries they make leave in this turn.
        if (replies > 0) {
          await new Promise((resolve) => setImmediate(resolve));
          lastYield = performance.now();
        }
      }
    } finally {
      this.#closed = true;
      for (const s of sockets) this.#libc.close(s.fd);
      this.#release();
    }
  }

  /** Stops serve(), which then closes the sockets; closes them at once when serve() never ran. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#serving) {
      this.#libc.writeBuffer(this.#wakeFd, new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]));
      return;
    }
    for (const s of [...this.#listeners, ...this.#upstreamSockets.values()]) this.#libc.close(s.fd);
    this.#release();
  }

  #release(): void {
    this.#libc.close(this.#wakeFd);
    this.#lib.close();
  }

  /** Answers the `n` queries of the last receive on `socket`: those ready now in one sendmmsg. */
  #answerAll<Later>(handler: BatchHandler<Later>, socket: RingSocket, n: number): void {
    // The first answers leave at once, the rest in ever larger groups: a short burst is
    // answered query by query, as a server without batches would, and a full batch still
    // takes only a few sendmmsg calls.
    let next = 1;
    for (let i = 0; i < n; i++) {
      this.#answer(handler, socket, i);
      if (i + 1 === next) {
        socket.flush();
        next *= 2;
      }
    }
    socket.flush();
  }

  /** Hands query `i` of `socket` to the handler, in place; an answer ready now joins the batch. */
  #answer<Later>(handler: BatchHandler<Later>, socket: RingSocket, i: number): void {
    const query = socket.datagram(i);
    if (socket.truncated(i)) return;
    let answer: Uint8Array | null | Later;
    try {
      answer = handler.now(query, socket.peer(i));
    } catch {
      return;
    }
    if (answer instanceof Uint8Array) {
      socket.reply(answer, i);
    } else if (answer !== null) {
      // The slot is refilled by the next receive, so the handler keeps its own copy.
      const copy = allocate(query.length);
      copy.set(query);
      const name = socket.peerName(i);
      handler.later(answer, copy).then((a) => {
        if (a && !this.#closed) socket.replyLater(a, name);
      });
    }
  }
}

/** The header and single question of a cut reply, with TC set and no records; null when even those were cut. */
function truncatedReply(cut: Uint8Array): Uint8Array | null {
  if (cut.length < HEADER_SIZE || u16(cut, 4) !== 1) return null;
  let questionEnd: number;
  try {
    questionEnd = skipName(cut, HEADER_SIZE) + 4;
  } catch {
    return null;
  }
  if (questionEnd > cut.length) return null;
  return questionOnly(cut, questionEnd, u16(cut, 2) | Flag.TC, null);
}

/** A `struct sockaddr_in` or `sockaddr_in6` for `host`:`port`. */
export function sockaddr(host: string, port: number): Uint8Array {
  const addr = parseIP(host);
  const out = new Uint8Array(addr.length === 4 ? 16 : 28);
  out[0] = addr.length === 4 ? AF_INET : AF_INET6;
  out[2] = port >> 8;
  out[3] = port & 0xff;
  out.set(addr, addr.length === 4 ? 4 : 8);
  return out;
}

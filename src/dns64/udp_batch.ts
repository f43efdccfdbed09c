/**
 * A UDP listener that moves many datagrams per system call: `recvmmsg(2)` fills up to
 * BATCH slots at once and `sendmmsg(2)` sends the answers that were ready at once, so the
 * per-query cost is a little JavaScript instead of two event-loop round trips. Through
 * Deno FFI, so it needs `--allow-ffi=<libc path>`; without that permission the listener
 * falls back to the network-only path.
 *
 * A query the cache answers is read in place, in its receive slot, and its answer joins
 * the batch sent when the slots have been gone through. A query that needs upstream gets
 * a copy of its bytes; its answer, when it comes, joins the answers of the same event-loop
 * turn in one `sendmmsg`.
 *
 * Waiting for queries: with `exclusive` (nothing else runs on this thread, as in
 * `nat64 dns64`) the loop waits up to SPIN_MS in `recvmmsg` itself, which returns with
 * the first query that arrives (MSG_WAITFORONE with SO_RCVTIMEO): one system call per
 * wake-up, while a worker-thread wake-up costs several. It yields to the event loop at
 * least every YIELD_MS, so upstream answers and timers keep running. When the line stays
 * quiet, while upstream answers are awaited (they come through the event loop), and
 * always without `exclusive` (the gateway's datapath shares the thread and must not wait
 * behind a blocked call), it waits in `poll(2)` on a Deno worker thread, with an
 * eventfd that close() writes to, so an idle listener costs nothing and stops at once.
 *
 * Struct layouts are those of LP64 Linux (x86-64, AArch64): `struct msghdr` is 56 bytes,
 * `struct mmsghdr` 64, `struct iovec` 16, `struct sockaddr_in6` 28, `struct timeval` 16.
 *
 * @module
 */

import { defaultLibcPath, EFD_CLOEXEC, EFD_NONBLOCK, Errno, Libc, POLLIN } from "../tun/libc.ts";
import { formatIPv6, parseIP } from "../net/ip.ts";
import type { Endpoint } from "./options.ts";
import { allocate } from "./wire.ts";

/** Datagrams per system call. */
const BATCH = 64;
/** Room per datagram; a larger query is cut and then refused as malformed. */
const SLOT = 4096;
/** The longest the event loop is held while queries keep coming, in milliseconds. */
const YIELD_MS = 1;
/** The longest the loop waits for the next query on its own thread (`exclusive` only), in milliseconds. */
const SPIN_MS = 1;
/** Room per peer address (sockaddr_in6 is 28 bytes). */
const NAME = 32;
const MMSGHDR = 64;
const IOVEC = 16;
/** Offsets in `struct mmsghdr`: msg_namelen, and msg_len after the 56-byte msghdr. */
const NAMELEN_AT = 8;
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

/** What the listener does with each datagram. */
export interface BatchHandler<Later> {
  /**
   * The answer when it is ready at once, null to send nothing, or a value for `later`.
   * `query` is a view into a receive slot, valid during this call only.
   */
  now(query: Uint8Array, peer: string): Uint8Array | null | Later;
  /** The answer to a query `now` passed on; `query` is a copy the handler may keep. */
  later(pending: Later, query: Uint8Array): Promise<Uint8Array | null>;
}

/** A bound UDP socket served in batches. */
export class BatchUdpSocket {
  readonly port: number;
  readonly #libc: Libc;
  readonly #lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  readonly #fd: number;
  readonly #wakeFd: number;
  readonly #family: 4 | 6;
  readonly #nameLength: number;
  readonly #exclusive: boolean;
  readonly #rxData = new Uint8Array(BATCH * SLOT);
  readonly #rxNames = new Uint8Array(BATCH * NAME);
  readonly #rxHeaders = new Uint8Array(BATCH * MMSGHDR);
  readonly #rxView: DataView;
  readonly #txData = new Uint8Array(BATCH * SLOT);
  readonly #txNames = new Uint8Array(BATCH * NAME);
  readonly #txHeaders = new Uint8Array(BATCH * MMSGHDR);
  readonly #txView: DataView;
  readonly #rxIovecs = new DataView(new ArrayBuffer(BATCH * IOVEC));
  readonly #txIovecs = new DataView(new ArrayBuffer(BATCH * IOVEC));
  readonly #pollFds = new Uint8Array(16);
  /** The last peer's address bytes and text: most datagrams come from a peer just seen. */
  readonly #lastPeer = new Uint8Array(16);
  #lastPeerText = "";
  #txCount = 0;
  /** Queries handed to `later` whose answers have not come yet. */
  #pending = 0;
  #flushQueued = false;
  #serving = false;
  #closed = false;

  private constructor(
    libc: Libc,
    lib: Deno.DynamicLibrary<typeof SYMBOLS>,
    endpoint: Endpoint,
    exclusive: boolean,
  ) {
    this.#libc = libc;
    this.#lib = lib;
    this.#family = endpoint.family;
    this.#nameLength = endpoint.family === 6 ? 28 : 16;
    this.#exclusive = exclusive;
    this.#rxView = new DataView(this.#rxHeaders.buffer);
    this.#txView = new DataView(this.#txHeaders.buffer);
    const what = `UDP ${endpoint.family === 6 ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
    // A blocking socket, so that recvmmsg can wait for the first datagram (SO_RCVTIMEO
    // bounds it); every other call passes MSG_DONTWAIT.
    const fd = lib.symbols.socket(endpoint.family === 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new Error(`listen: cannot open a socket for ${what}: errno ${libc.errno()}`);
    this.#fd = fd;
    try {
      // Room for bursts: a full batch of queries and answers several times over.
      this.#setInt(SOL_SOCKET, SO_RCVBUF, 4 << 20);
      this.#setInt(SOL_SOCKET, SO_SNDBUF, 4 << 20);
      this.#setOption(SOL_SOCKET, SO_RCVTIMEO, new Uint8Array(new BigInt64Array([0n, BigInt(SPIN_MS * 1000)]).buffer));
      if (endpoint.family === 6) this.#setInt(IPPROTO_IPV6, IPV6_V6ONLY, 1);
      const addr = sockaddr(endpoint.host, endpoint.port);
      if (lib.symbols.bind(fd, addr, addr.length) < 0) {
        throw new Error(`listen: cannot bind ${what}: errno ${libc.errno()}`);
      }
      const bound = new Uint8Array(NAME);
      const length = new Uint32Array([NAME]);
      lib.symbols.getsockname(fd, bound, new Uint8Array(length.buffer));
      this.port = (bound[2] << 8) | bound[3];
      const wake = libc.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (wake < 0) throw new Error(`listen: cannot make an eventfd for ${what}: errno ${-wake}`);
      this.#wakeFd = wake;
    } catch (e) {
      libc.close(fd);
      throw e;
    }
    this.#layout();
  }

  /**
   * Opens and binds a socket; throws one sentence naming the address or the FFI
   * permission. `exclusive`: nothing else needs this thread, so the loop may block it
   * briefly while waiting for queries (see the module comment).
   */
  static open(endpoint: Endpoint, exclusive: boolean, libcPath: string = defaultLibcPath()): BatchUdpSocket {
    const libc = Libc.open(libcPath);
    const lib = Deno.dlopen(libcPath, SYMBOLS);
    try {
      return new BatchUdpSocket(libc, lib, endpoint, exclusive);
    } catch (e) {
      lib.close();
      throw e;
    }
  }

  /** True when FFI to `libcPath` is granted, so that {@link open} can work; asks no one. */
  static permitted(libcPath: string = defaultLibcPath()): boolean {
    return Deno.permissions.querySync({ name: "ffi", path: libcPath }).state === "granted";
  }

  /** Serves queries until close(), then releases the socket; never throws. */
  async serve<Later>(handler: BatchHandler<Later>): Promise<void> {
    this.#serving = true;
    const sym = this.#lib.symbols;
    const view = this.#rxView;
    const fds = new DataView(this.#pollFds.buffer);
    fds.setInt32(0, this.#fd, true);
    fds.setInt16(4, POLLIN, true);
    fds.setInt32(8, this.#wakeFd, true);
    fds.setInt16(12, POLLIN, true);
    let lastYield = performance.now();
    try {
      while (!this.#closed) {
        // Let upstream answers, timers and TCP run at least every YIELD_MS while busy. A
        // setImmediate turn polls I/O without the thread hop of a worker-thread call.
        if (performance.now() - lastYield >= YIELD_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          lastYield = performance.now();
          continue;
        }
        // Never block the thread while upstream answers are on their way: they need the event loop.
        const wait = this.#exclusive && this.#pending === 0;
        const n = sym.recvmmsg(this.#fd, this.#rxHeaders, BATCH, wait ? MSG_WAITFORONE : MSG_DONTWAIT, null);
        if (n > 0) {
          for (let i = 0; i < n; i++) {
            this.#answer(handler, i, view.getUint32(i * MMSGHDR + LEN_AT, true));
            // The kernel wrote the address length it used; the next call needs the room again.
            view.setUint32(i * MMSGHDR + NAMELEN_AT, NAME, true);
          }
          this.#flush();
          continue;
        }
        const errno = n < 0 ? this.#libc.errno() : Errno.EAGAIN;
        if (errno !== Errno.EAGAIN && errno !== Errno.EINTR) break;
        // Nothing came (within SPIN_MS when waiting here): wait on a worker thread and leave
        // the event loop free.
        await this.#libc.pollAsync(this.#pollFds, 2, -1);
        lastYield = performance.now();
      }
    } finally {
      this.#closed = true;
      this.#release();
    }
  }

  /** Stops serve(), which then closes the socket; closes it at once when serve() never ran. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#serving) this.#libc.writeBuffer(this.#wakeFd, new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]));
    else this.#release();
  }

  #release(): void {
    this.#libc.close(this.#fd);
    this.#libc.close(this.#wakeFd);
    this.#lib.close();
  }

  /** Hands datagram `i` to the handler, in place; an answer ready now joins the batch. */
  #answer<Later>(handler: BatchHandler<Later>, i: number, length: number): void {
    const at = i * SLOT;
    const peer = this.#peer(i);
    let answer: Uint8Array | null | Later;
    try {
      answer = handler.now(this.#rxData.subarray(at, at + length), peer);
    } catch {
      return;
    }
    if (answer instanceof Uint8Array) {
      this.#queue(answer, this.#rxNames, i * NAME);
    } else if (answer !== null) {
      // The slot is refilled by the next recvmmsg, so the handler keeps its own copy.
      const query = allocate(length);
      query.set(this.#rxData.subarray(at, at + length));
      const name = this.#rxNames.slice(i * NAME, i * NAME + NAME);
      this.#pending++;
      handler.later(answer, query).then((a) => {
        this.#pending--;
        if (a && !this.#closed) this.#queueLater(a, name);
      });
    }
  }

  /** The peer address of datagram `i` in socket text form. */
  #peer(i: number): string {
    const names = this.#rxNames;
    const from = i * NAME + (this.#family === 4 ? 4 : 8);
    const size = this.#family === 4 ? 4 : 16;
    const last = this.#lastPeer;
    let same = this.#lastPeerText !== "";
    for (let j = 0; same && j < size; j++) same = names[from + j] === last[j];
    if (same) return this.#lastPeerText;
    last.set(names.subarray(from, from + size));
    this.#lastPeerText = this.#family === 4
      ? `${last[0]}.${last[1]}.${last[2]}.${last[3]}`
      : formatIPv6(last.subarray(0, 16));
    return this.#lastPeerText;
  }

  /** Adds an answer for the peer at `names[nameAt]` to the next sendmmsg; sends at once when it cannot wait. */
  #queue(answer: Uint8Array, names: Uint8Array, nameAt: number): void {
    const name = names.subarray(nameAt, nameAt + NAME);
    if (answer.length > SLOT) {
      this.#lib.symbols.sendto(this.#fd, answer, BigInt(answer.length), MSG_DONTWAIT, name, this.#nameLength);
      return;
    }
    if (this.#txCount === BATCH) this.#flush();
    const i = this.#txCount++;
    this.#txData.set(answer, i * SLOT);
    this.#txNames.set(name, i * NAME);
    this.#txIovecs.setBigUint64(i * IOVEC + 8, BigInt(answer.length), true);
  }

  /**
   * Queues an answer that came from upstream; the answers that come in the same turn of
   * the event loop leave together, in a microtask after them.
   */
  #queueLater(answer: Uint8Array, name: Uint8Array): void {
    this.#queue(answer, name, 0);
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      if (!this.#closed) this.#flush();
    });
  }

  /** Sends every queued answer. One that the kernel refuses (an unreachable peer) is dropped, not the rest. */
  #flush(): void {
    let sent = 0;
    while (sent < this.#txCount) {
      const rc = this.#lib.symbols.sendmmsg(
        this.#fd,
        this.#txHeaders.subarray(sent * MMSGHDR),
        this.#txCount - sent,
        MSG_DONTWAIT,
      );
      sent += rc > 0 ? rc : 1;
    }
    this.#txCount = 0;
  }

  /** Points every header at its slot, its address room and its iovec (once: the memory never moves). */
  #layout(): void {
    const at = (v: Uint8Array) => BigInt(this.#libc.addressOf(v));
    const rxIov = new Uint8Array(this.#rxIovecs.buffer);
    const txIov = new Uint8Array(this.#txIovecs.buffer);
    for (let i = 0; i < BATCH; i++) {
      for (
        const [headers, data, names, iov, iovBytes, nameLength] of [
          [this.#rxView, this.#rxData, this.#rxNames, this.#rxIovecs, rxIov, NAME],
          [this.#txView, this.#txData, this.#txNames, this.#txIovecs, txIov, this.#nameLength],
        ] as const
      ) {
        iov.setBigUint64(i * IOVEC, at(data.subarray(i * SLOT)), true);
        iov.setBigUint64(i * IOVEC + 8, BigInt(SLOT), true);
        const h = i * MMSGHDR;
        headers.setBigUint64(h, at(names.subarray(i * NAME)), true);
        headers.setUint32(h + NAMELEN_AT, nameLength, true);
        headers.setBigUint64(h + 16, at(iovBytes.subarray(i * IOVEC)), true);
        headers.setBigUint64(h + 24, 1n, true);
      }
    }
  }

  #setInt(level: number, name: number, value: number): void {
    this.#setOption(level, name, new Uint8Array(new Int32Array([value]).buffer));
  }

  #setOption(level: number, name: number, value: Uint8Array): void {
    if (this.#lib.symbols.setsockopt(this.#fd, level, name, value, value.length) < 0) {
      throw new Error(`listen: setsockopt ${level}/${name} failed: errno ${this.#libc.errno()}`);
    }
  }
}

/** A `struct sockaddr_in` or `sockaddr_in6` for `host`:`port`. */
function sockaddr(host: string, port: number): Uint8Array {
  const addr = parseIP(host);
  const out = new Uint8Array(addr.length === 4 ? 16 : 28);
  out[0] = addr.length === 4 ? AF_INET : AF_INET6;
  out[2] = port >> 8;
  out[3] = port & 0xff;
  out.set(addr, addr.length === 4 ? 4 : 8);
  return out;
}

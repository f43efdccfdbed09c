/**
 * A UDP listener that moves many datagrams per system call: `recvmmsg(2)` fills up to
 * BATCH slots at once and `sendmmsg(2)` sends the answers that were ready at once, so the
 * per-query cost is a little JavaScript instead of two event-loop round trips. Through
 * Deno FFI, so it needs `--allow-ffi=<libc path>`; the listener uses it only when asked
 * (`udp-batch`), the default path needing network permission alone.
 *
 * While queries flow, the loop waits up to a millisecond for the next one in `poll(2)` on
 * its own thread (a wake-up there costs microseconds) and yields to the event loop at
 * least every millisecond, so upstream answers and timers keep running. When the line is
 * quiet it waits in `poll(2)` on a Deno worker thread (resolved as a Promise), together
 * with an eventfd that close() writes to, so an idle listener costs nothing and stops at
 * once.
 *
 * Struct layouts are those of LP64 Linux (x86-64, AArch64): `struct msghdr` is 56 bytes,
 * `struct mmsghdr` 64, `struct iovec` 16, `struct sockaddr_in6` 28.
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
/** The longest the loop waits for the next query on its own thread, in milliseconds. */
const SPIN_MS = 1;
/** Room per peer address (sockaddr_in6 is 28 bytes). */
const NAME = 32;
const MMSGHDR = 64;
const IOVEC = 16;

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_IPV6 = 41;
const IPV6_V6ONLY = 26;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_SNDBUF = 7;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32" },
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "i32" },
} as const;

/** Answers one query at once, later (a Promise), or not at all (null). */
export type BatchHandler = (query: Uint8Array, address: string) => Uint8Array | null | Promise<Uint8Array | null>;

/** A bound UDP socket served in batches. */
export class BatchUdpSocket {
  readonly port: number;
  readonly #libc: Libc;
  readonly #lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  readonly #fd: number;
  readonly #wakeFd: number;
  readonly #family: 4 | 6;
  readonly #rxData = new Uint8Array(BATCH * SLOT);
  readonly #rxNames = new Uint8Array(BATCH * NAME);
  readonly #rxHeaders = new Uint8Array(BATCH * MMSGHDR);
  readonly #rxView: DataView;
  readonly #txData = new Uint8Array(BATCH * SLOT);
  readonly #txNames = new Uint8Array(BATCH * NAME);
  readonly #txHeaders = new Uint8Array(BATCH * MMSGHDR);
  readonly #txView: DataView;
  readonly #pollFds = new Uint8Array(16);
  #txCount = 0;
  #closed = false;

  private constructor(libc: Libc, lib: Deno.DynamicLibrary<typeof SYMBOLS>, endpoint: Endpoint) {
    this.#libc = libc;
    this.#lib = lib;
    this.#family = endpoint.family;
    this.#rxView = new DataView(this.#rxHeaders.buffer);
    this.#txView = new DataView(this.#txHeaders.buffer);
    const what = `UDP ${endpoint.family === 6 ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
    const fd = lib.symbols.socket(
      endpoint.family === 6 ? AF_INET6 : AF_INET,
      SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
      0,
    );
    if (fd < 0) throw new Error(`listen: cannot open a socket for ${what}: errno ${libc.errno()}`);
    this.#fd = fd;
    try {
      // Room for bursts: a full batch of queries and answers several times over.
      this.#setInt(SOL_SOCKET, SO_RCVBUF, 4 << 20);
      this.#setInt(SOL_SOCKET, SO_SNDBUF, 4 << 20);
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

  /** Opens and binds a socket; throws one sentence naming the address or the FFI permission. */
  static open(endpoint: Endpoint, libcPath: string = defaultLibcPath()): BatchUdpSocket {
    const libc = Libc.open(libcPath);
    const lib = Deno.dlopen(libcPath, SYMBOLS);
    try {
      return new BatchUdpSocket(libc, lib, endpoint);
    } catch (e) {
      lib.close();
      throw e;
    }
  }

  /** Serves queries until close(), then releases the socket; never throws. */
  async serve(handler: BatchHandler): Promise<void> {
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
        }
        for (let i = 0; i < BATCH; i++) view.setUint32(i * MMSGHDR + 8, NAME, true);
        const n = sym.recvmmsg(this.#fd, this.#rxHeaders, BATCH, 0, null);
        if (n > 0) {
          for (let i = 0; i < n; i++) this.#answer(handler, i, view.getUint32(i * MMSGHDR + 56, true));
          this.#flush();
          continue;
        }
        const errno = n < 0 ? this.#libc.errno() : Errno.EAGAIN;
        if (errno !== Errno.EAGAIN && errno !== Errno.EINTR) break;
        // Nothing queued. While traffic flows the next query is usually microseconds away,
        // so wait for it here, briefly: a worker-thread wake-up costs far more. When the
        // line goes quiet, wait on a worker thread and leave the event loop free.
        if (this.#libc.poll(this.#pollFds, 2, SPIN_MS) > 0) continue;
        await this.#libc.pollAsync(this.#pollFds, 2, -1);
        lastYield = performance.now();
      }
    } finally {
      this.#closed = true;
      this.#libc.close(this.#fd);
      this.#libc.close(this.#wakeFd);
      this.#lib.close();
    }
  }

  /** Stops serve(), which then closes the socket. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#libc.writeBuffer(this.#wakeFd, new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]));
  }

  /** Hands datagram `i` to the handler; answers ready now join the batch, later ones go alone. */
  #answer(handler: BatchHandler, i: number, length: number): void {
    // The slot is refilled by the next recvmmsg, so the handler gets its own copy.
    const query = allocate(length);
    query.set(this.#rxData.subarray(i * SLOT, i * SLOT + length));
    const name = this.#rxNames.subarray(i * NAME, i * NAME + NAME);
    let answer: Uint8Array | null | Promise<Uint8Array | null>;
    try {
      answer = handler(query, peerAddress(name, this.#family));
    } catch {
      return;
    }
    if (answer instanceof Promise) {
      const peer = name.slice();
      answer.then((a) => {
        if (a && !this.#closed) this.#sendNow(a, peer);
      });
    } else if (answer) {
      if (answer.length <= SLOT && this.#txCount < BATCH) this.#queue(answer, name);
      else this.#sendNow(answer, name);
    }
  }

  #queue(answer: Uint8Array, name: Uint8Array): void {
    const i = this.#txCount++;
    this.#txData.set(answer, i * SLOT);
    this.#txNames.set(name, i * NAME);
    this.#txView.setUint32(i * MMSGHDR + 8, this.#family === 6 ? 28 : 16, true);
    this.#txIovecs.setBigUint64(i * IOVEC + 8, BigInt(answer.length), true);
  }

  #flush(): void {
    let sent = 0;
    while (sent < this.#txCount) {
      const rc = this.#lib.symbols.sendmmsg(
        this.#fd,
        this.#txHeaders.subarray(sent * MMSGHDR),
        this.#txCount - sent,
        0,
      );
      if (rc <= 0) break;
      sent += rc;
    }
    this.#txCount = 0;
  }

  #sendNow(answer: Uint8Array, name: Uint8Array): void {
    this.#lib.symbols.sendto(this.#fd, answer, BigInt(answer.length), 0, name, this.#family === 6 ? 28 : 16);
  }

  readonly #rxIovecs = new DataView(new ArrayBuffer(BATCH * IOVEC));
  readonly #txIovecs = new DataView(new ArrayBuffer(BATCH * IOVEC));

  /** Points every header at its slot, its address room and its iovec (once: the memory never moves). */
  #layout(): void {
    const at = (v: Uint8Array) => BigInt(this.#libc.addressOf(v));
    const rxIov = new Uint8Array(this.#rxIovecs.buffer);
    const txIov = new Uint8Array(this.#txIovecs.buffer);
    for (let i = 0; i < BATCH; i++) {
      for (
        const [headers, data, names, iov, iovBytes] of [
          [this.#rxView, this.#rxData, this.#rxNames, this.#rxIovecs, rxIov],
          [this.#txView, this.#txData, this.#txNames, this.#txIovecs, txIov],
        ] as const
      ) {
        iov.setBigUint64(i * IOVEC, at(data.subarray(i * SLOT)), true);
        iov.setBigUint64(i * IOVEC + 8, BigInt(SLOT), true);
        const h = i * MMSGHDR;
        headers.setBigUint64(h, at(names.subarray(i * NAME)), true);
        headers.setUint32(h + 8, NAME, true);
        headers.setBigUint64(h + 16, at(iovBytes.subarray(i * IOVEC)), true);
        headers.setBigUint64(h + 24, 1n, true);
      }
    }
  }

  #setInt(level: number, name: number, value: number): void {
    const v = new Uint8Array(new Int32Array([value]).buffer);
    if (this.#lib.symbols.setsockopt(this.#fd, level, name, v, 4) < 0) {
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

/** The peer address of a received datagram in socket text form. */
function peerAddress(name: Uint8Array, family: 4 | 6): string {
  if (family === 4) return `${name[4]}.${name[5]}.${name[6]}.${name[7]}`;
  return formatIPv6(name.subarray(8, 24));
}

/**
 * A raw ICMPv6 socket bound to one interface, through Deno FFI: sends Router
 * Advertisements with hop limit 255 from the interface's link-local address, and
 * receives Router Solicitations with their hop limit (RFC 4861 §6.1.1 needs it).
 *
 * Like `src/tun/libc.ts` (whose header explains why), no `Deno.UnsafePointer` is used,
 * so `--allow-ffi=<libc path>` stays narrow: structures that hold pointers (`msghdr`,
 * `iovec`) are filled with the numeric addresses of ArrayBuffer-backed arrays, which
 * V8 never moves, and kept referenced for the socket's lifetime. errno, `close`,
 * `eventfd` and `poll` come from that module's {@link Libc}; errno is per thread, so
 * reading it there after a call here is exact.
 *
 * Struct layouts are those of Linux on the 64-bit ABIs Deno ships for (x86-64, AArch64).
 *
 * @module
 */

import {
  defaultLibcPath,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  Errno,
  Libc,
  POLLERR,
  POLLIN,
  POLLNVAL,
  SysError,
} from "../tun/libc.ts";
import { ICMP6_ROUTER_SOLICITATION } from "./ra.ts";

const AF_INET6 = 10;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const IPPROTO_IPV6 = 41;
const IPPROTO_ICMPV6 = 58;
const IPV6_UNICAST_HOPS = 16;
const IPV6_MULTICAST_IF = 17;
const IPV6_MULTICAST_HOPS = 18;
const IPV6_MULTICAST_LOOP = 19;
const IPV6_JOIN_GROUP = 20;
const IPV6_RECVHOPLIMIT = 51;
const IPV6_HOPLIMIT = 52;
const ICMP6_FILTER = 1;

const SOCKADDR_IN6_SIZE = 28;
const MSGHDR_SIZE = 56;
const IOVEC_SIZE = 16;
const CONTROL_SIZE = 64;
/** Larger than any solicitation worth reading; longer ones are truncated and still parsed. */
const RECEIVE_SIZE = 1280;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "i32" },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
} as const;

/** The calls as this module makes them (plain numbers for 64-bit lengths; see libc.ts). */
interface SocketCalls {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, length: number): number;
  bind(fd: number, addr: Uint8Array, length: number): number;
  sendto(fd: number, buf: Uint8Array, length: number, flags: number, addr: Uint8Array, addrLength: number): number;
  recvmsg(fd: number, msg: Uint8Array, flags: number): number;
  if_nametoindex(name: Uint8Array): number;
}

/** A fresh zeroed buffer whose memory never moves (ArrayBuffer-backed, never on the V8 heap). */
const fixedBuffer = (size: number) => new Uint8Array(new ArrayBuffer(size));

/** `sockaddr_in6` for `addr` on interface `scopeId`. */
function sockaddrIn6(addr: Uint8Array, scopeId: number): Uint8Array {
  const sa = fixedBuffer(SOCKADDR_IN6_SIZE);
  const view = new DataView(sa.buffer);
  view.setUint16(0, AF_INET6, true);
  sa.set(addr, 8);
  view.setUint32(24, scopeId, true);
  return sa;
}

const int32 = (value: number) => new Uint8Array(new Int32Array([value]).buffer);

/** One received ICMPv6 message. */
export interface ReceivedMessage {
  /** The ICMPv6 message (type first). */
  message: Uint8Array;
  /** The sender's IPv6 address. */
  source: Uint8Array;
  /** The IPv6 Hop Limit it arrived with; -1 if the kernel did not say. */
  hopLimit: number;
}

/** A raw ICMPv6 socket on one interface; see the module comment. */
export class Icmp6Socket {
  /** The interface's index. */
  readonly ifindex: number;
  readonly #libc: Libc;
  readonly #lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  readonly #sym: SocketCalls;
  readonly #fd: number;
  readonly #wakeFd: number;
  readonly #pollFds = fixedBuffer(16);
  readonly #pollShorts = new Int16Array(this.#pollFds.buffer);
  // recvmsg's structures, each pointing at the next; kept here so they outlive every call.
  readonly #name = fixedBuffer(SOCKADDR_IN6_SIZE);
  readonly #data = fixedBuffer(RECEIVE_SIZE);
  readonly #iov = fixedBuffer(IOVEC_SIZE);
  readonly #control = fixedBuffer(CONTROL_SIZE);
  readonly #msghdr = fixedBuffer(MSGHDR_SIZE);
  readonly #msgView = new DataView(this.#msghdr.buffer);
  #closed = false;

  private constructor(libc: Libc, lib: Deno.DynamicLibrary<typeof SYMBOLS>, ifname: string) {
    this.#libc = libc;
    this.#lib = lib;
    this.#sym = lib.symbols as unknown as SocketCalls;
    this.ifindex = this.#sym.if_nametoindex(new TextEncoder().encode(`${ifname}\0`));
    if (this.ifindex === 0) throw new Error(`no interface named "${ifname}" to send router advertisements on`);
    const fd = this.#sym.socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
    if (fd < 0) {
      const errno = libc.errno();
      throw new SysError(
        "open a raw ICMPv6 socket for router advertisements",
        errno,
        errno === Errno.EPERM ? "it needs CAP_NET_RAW" : undefined,
      );
    }
    this.#fd = fd;
    const wakeFd = libc.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakeFd < 0) {
      libc.close(fd);
      throw new SysError("create the router advertisement wake-up eventfd", -wakeFd);
    }
    this.#wakeFd = wakeFd;
    try {
      this.#configure(ifname);
    } catch (err) {
      libc.close(fd);
      libc.close(wakeFd);
      throw err;
    }
  }

  /** Opens the socket on `ifname`; throws one sentence naming what failed. */
  static open(ifname: string, libcPath: string = defaultLibcPath()): Icmp6Socket {
    const libc = Libc.open(libcPath);
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = Deno.dlopen(libcPath, SYMBOLS);
    } catch (err) {
      throw new Error(`cannot load the socket calls from ${libcPath}: ${(err as Error).message}`);
    }
    try {
      return new Icmp6Socket(libc, lib, ifname);
    } catch (err) {
      lib.close();
      throw err;
    }
  }

  #setsockopt(level: number, name: number, value: Uint8Array, what: string): void {
    if (this.#sym.setsockopt(this.#fd, level, name, value, value.length) < 0) {
      throw new SysError(`set ${what} on the router advertisement socket`, this.#libc.errno());
    }
  }

  #configure(ifname: string): void {
    const name = new TextEncoder().encode(ifname);
    this.#setsockopt(SOL_SOCKET, SO_BINDTODEVICE, name, `SO_BINDTODEVICE ${ifname}`);
    // RFC 4861 §6.1.2: a receiver drops any ND message whose hop limit is not 255.
    this.#setsockopt(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, int32(255), "IPV6_MULTICAST_HOPS 255");
    this.#setsockopt(IPPROTO_IPV6, IPV6_UNICAST_HOPS, int32(255), "IPV6_UNICAST_HOPS 255");
    this.#setsockopt(IPPROTO_IPV6, IPV6_MULTICAST_IF, int32(this.ifindex), `IPV6_MULTICAST_IF ${ifname}`);
    this.#setsockopt(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, int32(0), "IPV6_MULTICAST_LOOP 0");
    this.#setsockopt(IPPROTO_IPV6, IPV6_RECVHOPLIMIT, int32(1), "IPV6_RECVHOPLIMIT");
    // Solicitations go to all-routers (RFC 4861 §6.3.7), so join ff02::2 on the interface.
    const mreq = fixedBuffer(20);
    mreq.set([0xff, 0x02], 0);
    mreq[15] = 2;
    new DataView(mreq.buffer).setUint32(16, this.ifindex, true);
    this.#setsockopt(IPPROTO_IPV6, IPV6_JOIN_GROUP, mreq, `IPV6_JOIN_GROUP ff02::2 on ${ifname}`);
    // ICMP6_FILTER: a set bit blocks a type (glibc/Linux convention); pass Router Solicitations only.
    const filter = new Uint32Array(8).fill(0xffffffff);
    filter[ICMP6_ROUTER_SOLICITATION >> 5] &= ~(1 << (ICMP6_ROUTER_SOLICITATION & 31));
    this.#setsockopt(IPPROTO_ICMPV6, ICMP6_FILTER, new Uint8Array(filter.buffer), "ICMP6_FILTER");

    const view = this.#msgView;
    const iov = new DataView(this.#iov.buffer);
    iov.setBigUint64(0, BigInt(this.#libc.addressOf(this.#data)), true);
    iov.setBigUint64(8, BigInt(RECEIVE_SIZE), true);
    view.setBigUint64(0, BigInt(this.#libc.addressOf(this.#name)), true);
    view.setBigUint64(16, BigInt(this.#libc.addressOf(this.#iov)), true);
    view.setBigUint64(24, 1n, true);
    view.setBigUint64(32, BigInt(this.#libc.addressOf(this.#control)), true);

    const fds = new Int32Array(this.#pollFds.buffer);
    fds[0] = this.#fd;
    fds[2] = this.#wakeFd;
    this.#pollShorts[2] = POLLIN;
    this.#pollShorts[6] = POLLIN;
  }

  /**
   * Sends from `source` (a link-local address of the interface) from now on: RFC 4861
   * §4.2 requires Router Advertisements to come from a link-local address, and a
   * receiver discards any other (§6.1.2). Throws with the errno (EADDRNOTAVAIL while
   * the address is still tentative).
   */
  bindSource(source: Uint8Array): void {
    const sa = sockaddrIn6(source, this.ifindex);
    if (this.#sym.bind(this.#fd, sa, sa.length) < 0) {
      throw new SysError("bind the router advertisement socket to the link-local address", this.#libc.errno());
    }
  }

  /** Sends one ICMPv6 message to `destination`; returns 0 or -errno. */
  send(message: Uint8Array, destination: Uint8Array): number {
    const sa = sockaddrIn6(destination, this.ifindex);
    const rc = this.#sym.sendto(this.#fd, message, message.length, 0, sa, sa.length);
    return rc < 0 ? -this.#libc.errno() : 0;
  }

  /**
   * Waits (on a Deno worker thread, not blocking the event loop) until a message can
   * be read, {@link Icmp6Socket.wake} is called, or the socket fails. An interrupted
   * `poll` is reported as "woken"; the caller decides whether to wait again.
   */
  async wait(): Promise<"readable" | "woken" | "failed"> {
    this.#pollShorts[3] = 0;
    this.#pollShorts[7] = 0;
    const rc = await this.#libc.pollAsync(this.#pollFds, 2, -1);
    if (this.#closed || rc < 0 || this.#pollShorts[7] & POLLIN) return "woken";
    if (this.#pollShorts[3] & POLLIN) return "readable";
    return this.#pollShorts[3] & (POLLERR | POLLNVAL) ? "failed" : "woken";
  }

  /** Ends a pending {@link Icmp6Socket.wait}. */
  wake(): void {
    if (!this.#closed) this.#libc.writeBuffer(this.#wakeFd, new Uint8Array(new BigUint64Array([1n]).buffer));
  }

  /** Reads one pending message, or returns null when none is queued. */
  receive(): ReceivedMessage | null {
    const view = this.#msgView;
    view.setUint32(8, SOCKADDR_IN6_SIZE, true);
    view.setBigUint64(40, BigInt(CONTROL_SIZE), true);
    view.setInt32(48, 0, true);
    const n = this.#sym.recvmsg(this.#fd, this.#msghdr, 0);
    if (n < 0) {
      const errno = this.#libc.errno();
      if (errno === Errno.EAGAIN || errno === Errno.EINTR) return null;
      throw new SysError("receive on the router advertisement socket", errno);
    }
    return {
      message: this.#data.slice(0, Math.min(n, RECEIVE_SIZE)),
      source: this.#name.slice(8, 24),
      hopLimit: this.#hopLimit(Number(view.getBigUint64(40, true))),
    };
  }

  /** The IPV6_HOPLIMIT control message's value, -1 if absent. */
  #hopLimit(controlLength: number): number {
    const c = new DataView(this.#control.buffer);
    // cmsghdr: size_t cmsg_len, int level, int type, then the data, each header 8-aligned.
    for (let at = 0; at + 16 <= controlLength;) {
      const length = Number(c.getBigUint64(at, true));
      if (length < 16) break;
      if (c.getInt32(at + 8, true) === IPPROTO_IPV6 && c.getInt32(at + 12, true) === IPV6_HOPLIMIT) {
        return c.getInt32(at + 16, true);
      }
      at += (length + 7) & ~7;
    }
    return -1;
  }

  /** Closes the socket; call only when no wait is pending. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#libc.close(this.#fd);
    this.#libc.close(this.#wakeFd);
    this.#lib.close();
  }
}

/**
 * The few libc calls the TUN datapath needs, through Deno FFI, and errors that name the
 * errno and what was being done.
 *
 * Two Deno facts shape this module:
 * - `Deno.UnsafePointer` and `Deno.UnsafePointerView` demand `--allow-ffi` with no path
 *   (denoland/deno#15511), so with the narrow `--allow-ffi=<libc path>` they are
 *   unusable. Addresses are therefore plain numbers: the address of a buffer comes from
 *   `memset(buf, 0, 0)` (C11 §7.24.6.1: memset returns its first argument), and errno is
 *   read by `memcpy` from its thread-local address into a small array.
 * - 64-bit FFI results come back as BigInt (one heap object per call), so `read` and
 *   `write` are declared with an `i32` result: on x86-64 and AArch64 the `ssize_t` is
 *   returned in one register whose low half holds the exact value, since no packet
 *   comes near 2^31 bytes. The hot calls thus allocate nothing.
 *
 * Calls are synchronous (`nonblocking: false`, the fast path) except `pollAsync`, which
 * Deno runs on a worker thread and resolves as a Promise, so waiting for a packet never
 * blocks the event loop.
 *
 * @module
 */

/** `open(2)` flags (asm-generic/fcntl.h, the same on x86-64 and AArch64). */
export const O_RDWR = 0o2;
/** Non-blocking I/O: reads on an empty queue fail with EAGAIN. */
export const O_NONBLOCK = 0o4000;
/** Close on exec, so children (`ip`) never inherit the TUN descriptor. */
export const O_CLOEXEC = 0o2000000;

/** `poll(2)` events (asm-generic/poll.h). */
export const POLLIN = 0x001;
/** Error on the descriptor: for a TUN, its device was deleted. */
export const POLLERR = 0x008;
/** Hang-up. */
export const POLLHUP = 0x010;
/** The descriptor is not open. */
export const POLLNVAL = 0x020;

/** `eventfd(2)` flags (the same values as O_NONBLOCK and O_CLOEXEC). */
export const EFD_NONBLOCK = O_NONBLOCK;
/** Close on exec. */
export const EFD_CLOEXEC = O_CLOEXEC;

/** The errno numbers the callers branch on (asm-generic/errno-base.h, errno.h). */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  EBADF: 9,
  EAGAIN: 11,
  EACCES: 13,
  EBUSY: 16,
  ENODEV: 19,
  EINVAL: 22,
  EBADFD: 77,
} as const;

/** Names and descriptions for the errno values these calls can produce on Linux. */
const ERRNO_TEXT: Record<number, [string, string]> = {
  1: ["EPERM", "operation not permitted"],
  2: ["ENOENT", "no such file"],
  4: ["EINTR", "interrupted system call"],
  5: ["EIO", "input/output error"],
  6: ["ENXIO", "no such device or address"],
  9: ["EBADF", "bad file descriptor"],
  11: ["EAGAIN", "resource temporarily unavailable"],
  12: ["ENOMEM", "out of memory"],
  13: ["EACCES", "permission denied"],
  14: ["EFAULT", "bad address"],
  16: ["EBUSY", "device or resource busy"],
  17: ["EEXIST", "file exists"],
  19: ["ENODEV", "no such device"],
  22: ["EINVAL", "invalid argument"],
  23: ["ENFILE", "too many open files in the system"],
  24: ["EMFILE", "too many open files"],
  25: ["ENOTTY", "inappropriate ioctl for device"],
  28: ["ENOSPC", "no space left on device"],
  77: ["EBADFD", "file descriptor in bad state"],
  90: ["EMSGSIZE", "message too long"],
  97: ["EAFNOSUPPORT", "address family not supported"],
  100: ["ENETDOWN", "network is down"],
  101: ["ENETUNREACH", "network is unreachable"],
  105: ["ENOBUFS", "no buffer space available"],
};

/** `ENOENT (no such file)` for a known errno, `errno 123` otherwise. */
export function describeErrno(errno: number): string {
  const text = ERRNO_TEXT[errno];
  return text ? `${text[0]} (${text[1]})` : `errno ${errno}`;
}

/** A failed system call: `errno` is the number, the message one sentence. */
export class SysError extends Error {
  /** The errno the call failed with. */
  readonly errno: number;

  /** `doing` is what was attempted ("open /dev/net/tun"), `hint` what to do about it. */
  constructor(doing: string, errno: number, hint?: string) {
    super(`${doing}: ${describeErrno(errno)}${hint ? `: ${hint}` : ""}`);
    this.name = "SysError";
    this.errno = errno;
  }
}

/** Where Debian-style multiarch systems keep libc for this architecture. */
export function defaultLibcPath(): string {
  const dir = Deno.build.arch === "aarch64" ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
  return `/lib/${dir}/libc.so.6`;
}

const SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  ioctl: { parameters: ["i32", "usize", "buffer"], result: "i32" },
  ioctlValue: { name: "ioctl", parameters: ["i32", "usize", "usize"], result: "i32" },
  read: { parameters: ["i32", "usize", "usize"], result: "i32" },
  write: { parameters: ["i32", "usize", "usize"], result: "i32" },
  readv: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  writev: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  writeBuffer: { name: "write", parameters: ["i32", "buffer", "usize"], result: "i32" },
  readBuffer: { name: "read", parameters: ["i32", "buffer", "usize"], result: "i32" },
  poll: { parameters: ["buffer", "usize", "i32"], result: "i32" },
  pollAsync: { name: "poll", parameters: ["buffer", "usize", "i32"], result: "i32", nonblocking: true },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "usize" },
  memset: { parameters: ["buffer", "i32", "usize"], result: "usize" },
  memcpy: { parameters: ["buffer", "usize", "usize"], result: "usize" },
} as const;

/**
 * The symbols as this module calls them. Deno's types ask for BigInt in 64-bit
 * parameters, but its FFI also converts a plain number (an integer below 2^53), and a
 * number costs no allocation; addresses and lengths here are far below 2^53.
 */
interface Calls {
  open(path: Uint8Array, flags: number): number;
  close(fd: number): number;
  ioctl(fd: number, request: number, arg: Uint8Array): number;
  ioctlValue(fd: number, request: number, arg: number): number;
  read(fd: number, address: number, length: number): number;
  write(fd: number, address: number, length: number): number;
  readv(fd: number, iov: Uint8Array, count: number): number;
  writev(fd: number, iov: Uint8Array, count: number): number;
  writeBuffer(fd: number, buf: Uint8Array, length: number): number;
  readBuffer(fd: number, buf: Uint8Array, length: number): number;
  poll(fds: Uint8Array, count: number, timeoutMs: number): number;
  pollAsync(fds: Uint8Array, count: number, timeoutMs: number): Promise<number>;
  eventfd(initial: number, flags: number): number;
  __errno_location(): bigint;
  memset(buf: Uint8Array, byte: number, length: number): bigint;
  memcpy(dst: Int32Array, srcAddress: number, length: number): bigint;
}

/**
 * libc for one thread: errno is thread-local, so a Worker opens its own `Libc`.
 * Calls return a result `>= 0` or `-errno`, like the kernel's own convention, so the
 * hot path needs neither exceptions nor allocation.
 */
export class Libc {
  /** The path libc was loaded from (the value for `--allow-ffi=`). */
  readonly path: string;
  readonly #sym: Calls;
  readonly #errnoAddress: number;
  readonly #errno = new Int32Array(1);

  private constructor(path: string, lib: Deno.DynamicLibrary<typeof SYMBOLS>) {
    this.path = path;
    this.#sym = lib.symbols as unknown as Calls;
    this.#errnoAddress = Number(this.#sym.__errno_location());
  }

  /** Loads libc; throws one sentence naming the path if it cannot. */
  static open(path: string = defaultLibcPath()): Libc {
    try {
      return new Libc(path, Deno.dlopen(path, SYMBOLS));
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
        throw new Error(`loading libc from ${path} needs --allow-ffi=${path}`);
      }
      throw new Error(`cannot load libc from ${path}: ${(e as Error).message}`);
    }
  }

  /** The errno of the last failed call on this thread. */
  errno(): number {
    this.#sym.memcpy(this.#errno, this.#errnoAddress, 4);
    return this.#errno[0];
  }

  /** Address of the first byte of `view`'s memory; stable while that memory is. */
  addressOf(view: Uint8Array): number {
    return Number(this.#sym.memset(view, 0, 0));
  }

  /** `open(path, flags)`: a descriptor or -errno. */
  open(path: string, flags: number): number {
    return this.#check(this.#sym.open(new TextEncoder().encode(`${path}\0`), flags));
  }

  /** `close(fd)`: 0 or -errno. */
  close(fd: number): number {
    return this.#check(this.#sym.close(fd));
  }

  /** `ioctl(fd, request, arg)`: the result or -errno. */
  ioctl(fd: number, request: number, arg: Uint8Array): number {
    return this.#check(this.#sym.ioctl(fd, request, arg));
  }

  /** `ioctl(fd, request, arg)` for requests that take their argument by value: the result or -errno. */
  ioctlValue(fd: number, request: number, arg: number): number {
    return this.#check(this.#sym.ioctlValue(fd, request, arg));
  }

  /** `read(fd, address, length)` into raw memory: bytes read or -errno. */
  read(fd: number, address: number, length: number): number {
    return this.#check(this.#sym.read(fd, address, length));
  }

  /** `write(fd, address, length)` from raw memory: bytes written or -errno. */
  write(fd: number, address: number, length: number): number {
    return this.#check(this.#sym.write(fd, address, length));
  }

  /**
   * `readv(fd, iov, count)`: scatters one read over the `count` iovecs in `iov`; bytes or
   * -errno. The iovecs travel as a buffer, not an address: a call whose arguments are all
   * 32-bit or buffers takes V8's fast path (a `usize` argument costs ~0.1 µs more).
   */
  readv(fd: number, iov: Uint8Array, count: number): number {
    return this.#check(this.#sym.readv(fd, iov, count));
  }

  /** `writev(fd, iov, count)`: gathers one write from the `count` iovecs in `iov`; bytes or -errno. */
  writev(fd: number, iov: Uint8Array, count: number): number {
    return this.#check(this.#sym.writev(fd, iov, count));
  }

  /** `write` from a JavaScript buffer (the eventfd wake-up, not packets). */
  writeBuffer(fd: number, buf: Uint8Array): number {
    return this.#check(this.#sym.writeBuffer(fd, buf, buf.length));
  }

  /** `read` into a JavaScript buffer (draining the eventfd wake-up, not packets). */
  readBuffer(fd: number, buf: Uint8Array): number {
    return this.#check(this.#sym.readBuffer(fd, buf, buf.length));
  }

  /** `poll(fds, n, timeoutMs)` on this thread: blocks it for up to `timeoutMs`. */
  poll(fds: Uint8Array, count: number, timeoutMs: number): number {
    return this.#check(this.#sym.poll(fds, count, timeoutMs));
  }

  /**
   * `poll` on a Deno worker thread, resolving when it returns. The result is the
   * number of ready descriptors, or -1 on failure: errno belongs to that other thread
   * and cannot be read here, so the caller learns what happened from `revents`.
   */
  pollAsync(fds: Uint8Array, count: number, timeoutMs: number): Promise<number> {
    return this.#sym.pollAsync(fds, count, timeoutMs);
  }

  /** `eventfd(initial, flags)`: a descriptor or -errno. */
  eventfd(initial: number, flags: number): number {
    return this.#check(this.#sym.eventfd(initial, flags));
  }

  #check(rc: number): number {
    return rc >= 0 ? rc : -this.errno();
  }
}

/**
 * A Linux TUN device: opened through `/dev/net/tun`, non-blocking, without the
 * packet-information prefix, so every read is one bare IPv4 or IPv6 packet.
 *
 * Opening a name that exists attaches to it. That is how an unprivileged user runs the
 * gateway: root creates a persistent device once (`ip tuntap add dev nat64 mode tun
 * user gw`) and the kernel lets its owner attach without CAP_NET_ADMIN.
 *
 * Packets never pass through JavaScript arrays: a {@link MemoryPort} reads into and
 * writes from WebAssembly memory by address.
 *
 * @module
 */

import { Errno, Libc, O_CLOEXEC, O_NONBLOCK, O_RDWR, SysError } from "./libc.ts";

/** The clone device every TUN is opened through. */
export const TUN_CLONE_DEVICE = "/dev/net/tun";

/** Bytes in an interface name, without its NUL (`IFNAMSIZ` - 1, linux/if.h). */
export const MAX_IFNAME_BYTES = 15;

/** `TUNSETIFF` = `_IOW('T', 202, int)` (linux/if_tun.h). */
const TUNSETIFF = 0x400454ca;
/** `sizeof(struct ifreq)` on 64-bit Linux: the name, then a 24-byte union. */
const IFREQ_SIZE = 40;
/** Offset of `ifr_flags` in `struct ifreq`. */
const IFREQ_FLAGS = 16;

/** linux/if_tun.h: a layer-3 device (IP packets, no Ethernet header). */
const IFF_TUN = 0x0001;
/** linux/if_tun.h: no 4-byte packet-information prefix on reads and writes. */
const IFF_NO_PI = 0x1000;

/** How to open a TUN device. */
export interface TunOptions {
  /** Interface name, at most 15 bytes; a `%d` in it lets the kernel pick a number. */
  name: string;
}

/**
 * The `ifr_flags` for `TUNSETIFF`. Every feature bit is decided here: offloads
 * (`IFF_VNET_HDR`) or one descriptor per queue (`IFF_MULTI_QUEUE`) become an option of
 * {@link TunOptions} that ORs its bit in, and nothing else in the open path changes.
 */
const REQUEST_FLAGS = IFF_TUN | IFF_NO_PI;

/** Throws a one-sentence error if the kernel would refuse `name` (dev_valid_name). */
export function checkInterfaceName(name: string): void {
  const bytes = new TextEncoder().encode(name).length;
  if (bytes === 0) throw new Error("the TUN interface name is empty");
  if (bytes > MAX_IFNAME_BYTES) {
    throw new Error(
      `the TUN interface name "${name}" is ${bytes} bytes long; Linux allows at most ${MAX_IFNAME_BYTES}`,
    );
  }
  if (name === "." || name === ".." || /[\s/:]/.test(name)) {
    throw new Error(`the TUN interface name "${name}" is not valid: no "/", ":" or spaces, and not "." or ".."`);
  }
}

/** Reads and writes packets between a TUN descriptor and one WebAssembly memory. */
export class MemoryPort {
  readonly #libc: Libc;
  readonly #fd: number;
  readonly #base: number;

  constructor(libc: Libc, fd: number, memory: WebAssembly.Memory) {
    this.#libc = libc;
    this.#fd = fd;
    // Valid for the life of the memory as long as it never grows (the engine's promise).
    this.#base = libc.addressOf(new Uint8Array(memory.buffer));
  }

  /** Reads one packet to `memory[offset..]`, at most `max` bytes: its length or -errno. */
  read(offset: number, max: number): number {
    return this.#libc.read(this.#fd, this.#base + offset, max);
  }

  /** Writes `memory[offset .. offset + length]` as one packet: bytes written or -errno. */
  write(offset: number, length: number): number {
    return this.#libc.write(this.#fd, this.#base + offset, length);
  }
}

/** An open, non-blocking TUN device. */
export class TunDevice {
  /** The interface name the kernel gave (differs from the request only with `%d`). */
  readonly name: string;
  /** The descriptor; close it with {@link TunDevice.close}. */
  readonly fd: number;
  readonly #libc: Libc;
  #open = true;

  private constructor(libc: Libc, fd: number, name: string) {
    this.#libc = libc;
    this.fd = fd;
    this.name = name;
  }

  /** Creates or attaches to the TUN `options.name`; throws one sentence on failure. */
  static open(libc: Libc, options: TunOptions): TunDevice {
    checkInterfaceName(options.name);
    const fd = libc.open(TUN_CLONE_DEVICE, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) throw openError(-fd);
    const ifreq = new Uint8Array(IFREQ_SIZE);
    ifreq.set(new TextEncoder().encode(options.name));
    new DataView(ifreq.buffer).setUint16(IFREQ_FLAGS, REQUEST_FLAGS, true);
    const rc = libc.ioctl(fd, TUNSETIFF, ifreq);
    if (rc < 0) {
      libc.close(fd);
      throw setIffError(options.name, -rc);
    }
    // The kernel writes the final name back into the request (tun_chr_ioctl).
    const end = ifreq.indexOf(0);
    return new TunDevice(libc, fd, new TextDecoder().decode(ifreq.subarray(0, end < 0 ? 16 : end)));
  }

  /** A port that moves packets between this device and `memory` by address. */
  memoryPort(memory: WebAssembly.Memory): MemoryPort {
    return new MemoryPort(this.#libc, this.fd, memory);
  }

  /** Closes the descriptor; a non-persistent device disappears with it. Idempotent. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#libc.close(this.fd);
  }
}

function openError(errno: number): SysError {
  const doing = `open ${TUN_CLONE_DEVICE}`;
  switch (errno) {
    case Errno.ENOENT:
      return new SysError(doing, errno, "is the tun module loaded (modprobe tun)?");
    case Errno.ENXIO:
    case Errno.ENODEV:
      return new SysError(doing, errno, "the kernel has no TUN driver: load it with modprobe tun");
    case Errno.EACCES:
    case Errno.EPERM:
      return new SysError(
        doing,
        errno,
        `run as root, or give this user read and write access to ${TUN_CLONE_DEVICE} (mode 0666 is the usual)`,
      );
    default:
      return new SysError(doing, errno);
  }
}

function setIffError(name: string, errno: number): SysError {
  const doing = `attach TUN "${name}" (TUNSETIFF)`;
  switch (errno) {
    case Errno.EPERM:
      return new SysError(
        doing,
        errno,
        `not root and no TUN "${name}" owned by this user: create one with "ip tuntap add dev ${name} mode tun user <user>"`,
      );
    case Errno.EBUSY:
      return new SysError(doing, errno, `another process has "${name}" open`);
    case Errno.EINVAL:
      return new SysError(
        doing,
        errno,
        `"${name}" exists and is not a single-queue TUN device (a TAP, or another kind of interface)`,
      );
    default:
      return new SysError(doing, errno);
  }
}

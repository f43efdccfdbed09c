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
/** linux/if_tun.h: every read and write starts with a `struct virtio_net_hdr`. */
const IFF_VNET_HDR = 0x4000;
/** linux/if_tun.h: one descriptor per queue; the kernel spreads flows over them by hash. */
const IFF_MULTI_QUEUE = 0x0100;
/** Most queues a TUN takes (`MAX_TAP_QUEUES`, drivers/net/tun.c). */
export const MAX_QUEUES = 256;

/** `TUNSETOFFLOAD` = `_IOW('T', 208, unsigned int)`; the flags go by value. */
const TUNSETOFFLOAD = 0x400454d0;
/** `TUNSETVNETHDRSZ` = `_IOW('T', 216, int)`; a pointer to the size. */
const TUNSETVNETHDRSZ = 0x400454d8;

/** Bytes of `struct virtio_net_hdr` (linux/virtio_net.h) in front of every packet with offloads. */
export const VNET_HDR_LEN = 10;

/**
 * The `TUNSETOFFLOAD` bits (linux/if_tun.h) the gateway asks for, in the order they are
 * dropped when the kernel refuses: USO (UDP segmentation, Linux 6.2) first.
 */
const OFFLOAD_BITS = [
  ["csum", 0x01],
  ["tso4", 0x02],
  ["tso6", 0x04],
  ["tso-ecn", 0x08],
  ["uso4", 0x20],
  ["uso6", 0x40],
] as const;

/** How to open a TUN device. */
export interface TunOptions {
  /** Interface name, at most 15 bytes; a `%d` in it lets the kernel pick a number. */
  name: string;
  /**
   * Checksum and segmentation offloads (`IFF_VNET_HDR` + `TUNSETOFFLOAD`): the kernel
   * hands over TCP and UDP super-packets of up to 64 KiB with partial checksums, and
   * takes them back, so one read, translation and write moves many segments.
   */
  offloads?: boolean;
  /**
   * Descriptors to open, one per queue (default 1). More than one opens the device
   * with `IFF_MULTI_QUEUE`, so each queue can have a datapath of its own.
   */
  queues?: number;
}

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
  readonly #vnet: boolean;
  /** Two `struct iovec` (header, packet) as 32-bit halves, and the same bytes for the calls. */
  readonly #iov = new Uint32Array(8);
  readonly #iovBytes = new Uint8Array(this.#iov.buffer);

  /** `vnet`: the descriptor was opened with `IFF_VNET_HDR` (see {@link TunDevice.offloads}). */
  constructor(libc: Libc, fd: number, memory: WebAssembly.Memory, vnet = false) {
    this.#libc = libc;
    this.#fd = fd;
    // Valid for the life of the memory as long as it never grows (the engine's promise).
    this.#base = libc.addressOf(new Uint8Array(memory.buffer));
    this.#vnet = vnet;
    this.#iov[3] = 0;
    this.#iov[2] = VNET_HDR_LEN;
  }

  /**
   * Reads one packet to `memory[offset..]`, at most `max` bytes: its length or -errno.
   * With offloads its `virtio_net_hdr` goes to `memory[header..]` in the same read.
   */
  read(offset: number, max: number, header = 0): number {
    if (!this.#vnet) return this.#libc.read(this.#fd, this.#base + offset, max);
    this.#point(header, offset, max);
    const n = this.#libc.readv(this.#fd, this.#iovBytes, 2);
    return n < 0 ? n : n < VNET_HDR_LEN ? -Errno.EIO : n - VNET_HDR_LEN;
  }

  /**
   * Writes `memory[offset .. offset + length]` as one packet: its length or -errno.
   * With offloads the `virtio_net_hdr` at `memory[header..]` goes in front, in the same write.
   */
  write(offset: number, length: number, header = 0): number {
    if (!this.#vnet) return this.#libc.write(this.#fd, this.#base + offset, length);
    this.#point(header, offset, length);
    const n = this.#libc.writev(this.#fd, this.#iovBytes, 2);
    return n < 0 ? n : n - VNET_HDR_LEN;
  }

  /** Aims the iovecs at the header and the packet; addresses stay below 2^53. */
  #point(header: number, offset: number, length: number): void {
    const iov = this.#iov;
    const h = this.#base + header;
    const p = this.#base + offset;
    iov[0] = h % 0x1_0000_0000;
    iov[1] = Math.floor(h / 0x1_0000_0000);
    iov[4] = p % 0x1_0000_0000;
    iov[5] = Math.floor(p / 0x1_0000_0000);
    iov[6] = length;
  }
}

/** An open, non-blocking TUN device. */
export class TunDevice {
  /** The interface name the kernel gave (differs from the request only with `%d`). */
  readonly name: string;
  /** The first queue's descriptor; close it with {@link TunDevice.close}. */
  readonly fd: number;
  /** Every queue's descriptor, the first one first. */
  readonly fds: readonly number[];
  /**
   * The offloads the kernel accepted ("csum", "tso4", ...); empty without them. When
   * not empty, every packet read or written carries a `virtio_net_hdr` first.
   */
  readonly offloads: readonly string[];
  readonly #libc: Libc;
  #open = true;

  private constructor(libc: Libc, fds: number[], name: string, offloads: readonly string[]) {
    this.#libc = libc;
    this.fds = fds;
    this.fd = fds[0];
    this.name = name;
    this.offloads = offloads;
  }

  /** Creates or attaches to the TUN `options.name`; throws one sentence on failure. */
  static open(libc: Libc, options: TunOptions): TunDevice {
    checkInterfaceName(options.name);
    const queues = options.queues ?? 1;
    if (!Number.isInteger(queues) || queues < 1 || queues > MAX_QUEUES) {
      throw new Error(`a TUN has 1 to ${MAX_QUEUES} queues, not ${queues}`);
    }
    const flags = IFF_TUN | IFF_NO_PI | (options.offloads ? IFF_VNET_HDR : 0) | (queues > 1 ? IFF_MULTI_QUEUE : 0);
    const fds: number[] = [];
    try {
      let name = options.name;
      // Every queue attaches by the name the first one got (a `%d` is resolved once).
      for (let q = 0; q < queues; q++) {
        const [fd, given] = attach(libc, name, flags);
        fds.push(fd);
        name = given;
      }
      return new TunDevice(libc, fds, name, setOffloads(libc, fds[0], name, options.offloads ?? false));
    } catch (err) {
      for (const fd of fds) libc.close(fd);
      throw err;
    }
  }

  /** A port that moves packets between this device and `memory` by address. */
  memoryPort(memory: WebAssembly.Memory): MemoryPort {
    return new MemoryPort(this.#libc, this.fd, memory, this.offloads.length > 0);
  }

  /** Closes every descriptor; a non-persistent device disappears with them. Idempotent. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    for (const fd of this.fds) this.#libc.close(fd);
  }
}

/** Opens one descriptor and attaches it to `name` with `flags`: the descriptor and the name the kernel gave. */
function attach(libc: Libc, name: string, flags: number): [number, string] {
  const fd = libc.open(TUN_CLONE_DEVICE, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw openError(-fd);
  const ifreq = new Uint8Array(IFREQ_SIZE);
  ifreq.set(new TextEncoder().encode(name));
  new DataView(ifreq.buffer).setUint16(IFREQ_FLAGS, flags, true);
  const rc = libc.ioctl(fd, TUNSETIFF, ifreq);
  if (rc < 0) {
    libc.close(fd);
    throw setIffError(name, -rc);
  }
  // The kernel writes the final name back into the request (tun_chr_ioctl).
  const end = ifreq.indexOf(0);
  return [fd, new TextDecoder().decode(ifreq.subarray(0, end < 0 ? 16 : end))];
}

/**
 * Sets the device's offloads and returns the names of those in force. Without
 * offloads the features are cleared too: a persistent device keeps what an earlier
 * user set, and a GSO packet read without a `virtio_net_hdr` would arrive cut short.
 * With them, the header size is set to {@link VNET_HDR_LEN} (a persistent device may
 * keep another size), then the widest set of offloads the kernel accepts.
 */
function setOffloads(libc: Libc, fd: number, name: string, wanted: boolean): string[] {
  if (!wanted) {
    const rc = libc.ioctlValue(fd, TUNSETOFFLOAD, 0);
    if (rc < 0) throw new SysError(`clear the offloads of TUN "${name}" (TUNSETOFFLOAD)`, -rc);
    return [];
  }
  const size = new Uint8Array(new Int32Array([VNET_HDR_LEN]).buffer);
  const sized = libc.ioctl(fd, TUNSETVNETHDRSZ, size);
  if (sized < 0) throw new SysError(`set the virtio-net header size of TUN "${name}" (TUNSETVNETHDRSZ)`, -sized);
  for (let n = OFFLOAD_BITS.length; n > 0; n--) {
    const bits = OFFLOAD_BITS.slice(0, n);
    const rc = libc.ioctlValue(fd, TUNSETOFFLOAD, bits.reduce((m, [, bit]) => m | bit, 0));
    if (rc === 0) return bits.map(([label]) => label);
    if (rc !== -Errno.EINVAL) throw new SysError(`set the offloads of TUN "${name}" (TUNSETOFFLOAD)`, -rc);
  }
  throw new SysError(`set the offloads of TUN "${name}" (TUNSETOFFLOAD)`, Errno.EINVAL, "start with no-offloads");
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
        `"${name}" exists and is not a TUN device with this many queues (a TAP, another kind of interface, or a TUN made with another multi_queue setting)`,
      );
    default:
      return new SysError(doing, errno);
  }
}

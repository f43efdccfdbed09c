/**
 * The datapath loop: wait until the TUN has packets, read a batch straight into the
 * engine's slots, translate the batch in one call, write every output, repeat.
 *
 * In the steady state the loop allocates nothing but the one Promise per batch that the
 * wait returns: slot addresses are computed once, reads and writes take plain numbers,
 * and counters are numeric fields.
 *
 * Every batch waits, even when the previous one filled all slots. The wait on a ready
 * descriptor returns at once, and it is what hands the event loop to session timers,
 * the DNS64 listener and the control socket in between batches.
 *
 * @module
 */

import { describeErrno, Errno } from "../tun/libc.ts";
import { Wakeup, type WakeupKind } from "../tun/poller.ts";

/** The part of the engine (`src/engine/engine.ts`) the loop drives. */
export interface BatchEngine {
  /** Packets per batch. */
  readonly slotCount: number;
  /** Bytes per slot, headroom included. */
  readonly slotSize: number;
  /** Bytes in front of each input packet. */
  readonly headroom: number;
  /** Memory offset where the input packet of `slot` starts. */
  packetOffset(slot: number): number;
  /** Memory offset of the offload header (`virtio_net_hdr`) of input `slot`. */
  vnetInOffset(slot: number): number;
  /** Memory offset of the offload header of output `j`. */
  vnetOutOffset(j: number): number;
  /** Records the length of the packet in `slot`. */
  setInputLength(slot: number, len: number): void;
  /** Translates slots `0..count-1`; returns how many outputs it wrote. */
  translate(count: number, nowMs: number): number;
  /** Memory offset of output `j`. */
  outputAddress(j: number): number;
  /** Byte length of output `j`. */
  outputLength(j: number): number;
}

/**
 * Moves packets between the device and engine memory; results are packet lengths or
 * -errno. A device with offloads also moves each packet's `virtio_net_hdr` to or from
 * memory offset `header`; one without ignores it.
 */
export interface PacketPort {
  /** Reads one packet to memory offset `offset`, at most `max` bytes. */
  read(offset: number, max: number, header: number): number;
  /** Writes `length` bytes at memory offset `offset` as one packet. */
  write(offset: number, length: number, header: number): number;
}

/** Tells the loop when to read; see `src/tun/poller.ts`. */
export interface Readiness {
  /** Resolves when there may be packets, or why there will be none. */
  wait(): Promise<WakeupKind> | WakeupKind;
  /** Makes the pending or next wait return `WOKEN`. */
  wake(): void;
}

/** What the loop has done; read at any time, it is updated in place. */
export class DatapathStats {
  /** Batches handed to the engine. */
  batches = 0;
  /** Packets read from the device. */
  packetsIn = 0;
  /** Packets written to the device. */
  packetsOut = 0;
  /** Reads that failed with anything but EAGAIN or EINTR. */
  readErrors = 0;
  /** Writes that failed or wrote short (the packet is lost). */
  writeErrors = 0;
  /** Waits whose `poll` call itself failed. */
  pollErrors = 0;
}

/** Why the loop ended. */
export interface DatapathExit {
  /**
   * `stopped`: the signal was aborted. `device-lost`: the TUN went away under it.
   * `failed`: the worker running it died (see `queue.ts`).
   */
  reason: "stopped" | "device-lost" | "failed";
  /** One sentence for the operator. */
  message: string;
}

/** Everything the loop needs. */
export interface DatapathOptions {
  /** The translator. */
  engine: BatchEngine;
  /** The device, bound to the engine's memory. */
  port: PacketPort;
  /** Readiness of the device. */
  readiness: Readiness;
  /** Aborting it ends the loop after the batch in hand. */
  signal: AbortSignal;
  /** Interface name, for messages. */
  deviceName: string;
  /** Where to count; a fresh one by default. */
  stats?: DatapathStats;
  /** The monotonic clock the engine's `nowMs` comes from (the host's session clock). */
  clock?: () => number;
  /** Called after every batch's outputs are written (the worker publishes its counters). */
  afterBatch?: () => void;
}

/**
 * Throws one sentence unless packets of `mtu` bytes fit a slot. A TUN read into a
 * smaller buffer silently truncates the packet, so the interface MTU must never exceed
 * what a slot holds (slot size less headroom).
 */
export function checkMtuFitsSlots(mtu: number, engine: Pick<BatchEngine, "slotSize" | "headroom">): void {
  const room = engine.slotSize - engine.headroom;
  if (mtu > room) {
    throw new Error(
      `interface MTU ${mtu} does not fit the engine's ${room}-byte packet slots: lower the MTU or raise the slot size`,
    );
  }
}

/** Errors that mean the device is gone, not that one packet failed (drivers/net/tun.c). */
function deviceGone(errno: number): boolean {
  return errno === Errno.EBADFD || errno === Errno.EBADF || errno === Errno.ENODEV;
}

/** Runs until `signal` aborts or the device disappears; never rejects for packet errors. */
export async function runDatapath(opts: DatapathOptions): Promise<DatapathExit> {
  const { engine, port, readiness, signal, deviceName } = opts;
  const stats = opts.stats ?? new DatapathStats();
  const clock = opts.clock ?? (() => performance.now());
  const afterBatch = opts.afterBatch ?? (() => {});
  const slots = engine.slotCount;
  const maxPacket = engine.slotSize - engine.headroom;
  const offsets = new Float64Array(slots);
  const headers = new Float64Array(slots);
  for (let i = 0; i < slots; i++) {
    offsets[i] = engine.packetOffset(i);
    headers[i] = engine.vnetInOffset(i);
  }
  const lost = (why: string): DatapathExit => ({
    reason: "device-lost",
    message: `TUN "${deviceName}" went away (${why}); the datapath stopped`,
  });

  const onAbort = () => readiness.wake();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    while (!signal.aborted) {
      const woke = await readiness.wait();
      if (woke === Wakeup.WOKEN || signal.aborted) break;
      if (woke === Wakeup.POLL_FAILED) {
        stats.pollErrors++;
        continue;
      }
      // On DEVICE_ERROR the read below returns the errno that says what happened.
      let count = 0;
      while (count < slots) {
        const n = port.read(offsets[count], maxPacket, headers[count]);
        if (n > 0) {
          engine.setInputLength(count, n);
          count++;
          continue;
        }
        if (n === 0 || n === -Errno.EAGAIN) break;
        if (n === -Errno.EINTR) continue;
        if (deviceGone(-n)) return lost(`read: ${describeErrno(-n)}`);
        stats.readErrors++;
        break;
      }
      if (count === 0) {
        if (woke === Wakeup.DEVICE_ERROR) return lost("poll reported an error and nothing to read");
        continue;
      }
      stats.batches++;
      stats.packetsIn += count;
      const outputs = engine.translate(count, clock());
      for (let j = 0; j < outputs; j++) {
        const len = engine.outputLength(j);
        const n = port.write(engine.outputAddress(j), len, engine.vnetOutOffset(j));
        if (n === len) {
          stats.packetsOut++;
        } else if (n < 0 && deviceGone(-n)) {
          return lost(`write: ${describeErrno(-n)}`);
        } else {
          stats.writeErrors++;
        }
      }
      afterBatch();
    }
    return { reason: "stopped", message: `datapath on "${deviceName}" stopped` };
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/**
 * A stand-in for the translation engine, for datapath tests and the TUN benchmark: it
 * lays out slots in its own WebAssembly memory like the real engine and answers every
 * UDP datagram, over IPv6 or IPv4, in place with its addresses and ports swapped, so
 * the datagram goes back to the socket that sent it. Anything else the kernel sends
 * into the TUN (router solicitations, MLD reports, …) is dropped. The swap leaves every
 * checksum valid: the one's-complement sum (RFC 1071) does not depend on word order.
 *
 * @module
 */

import type { BatchEngine } from "../../src/datapath/loop.ts";

const PAGE = 65536;
/** Bytes per slot unless the constructor is told otherwise. */
export const ECHO_SLOT_SIZE = 2048;
/** Bytes in front of each packet, as the real engine keeps for growing headers. */
export const ECHO_HEADROOM = 64;

/** The fake engine; every reply leaves from its input's slot. */
export class EchoEngine implements BatchEngine {
  readonly memory: WebAssembly.Memory;
  readonly slotCount: number;
  readonly slotSize: number;
  readonly headroom = ECHO_HEADROOM;
  /** How many datagrams it answered. */
  replies = 0;
  readonly #bytes: Uint8Array;
  readonly #inLen: Uint32Array;
  readonly #outSlot: Uint32Array;

  constructor(slotCount = 64, slotSize = ECHO_SLOT_SIZE) {
    this.slotCount = slotCount;
    this.slotSize = slotSize;
    this.memory = new WebAssembly.Memory({ initial: Math.ceil((slotCount * slotSize) / PAGE) + 1 });
    this.#bytes = new Uint8Array(this.memory.buffer);
    this.#inLen = new Uint32Array(slotCount);
    this.#outSlot = new Uint32Array(slotCount);
  }

  packetOffset(slot: number): number {
    return slot * this.slotSize + this.headroom;
  }

  /** The echo gateway's device has no offloads: headers are never read, so any offset does. */
  vnetInOffset(slot: number): number {
    return slot * this.slotSize;
  }

  /** As {@link vnetInOffset}. */
  vnetOutOffset(j: number): number {
    return this.#outSlot[j] * this.slotSize;
  }

  setInputLength(slot: number, len: number): void {
    this.#inLen[slot] = len;
  }

  translate(count: number, _nowMs: number): number {
    let outs = 0;
    for (let slot = 0; slot < count; slot++) {
      if (this.#answer(this.packetOffset(slot), this.#inLen[slot])) this.#outSlot[outs++] = slot;
    }
    this.replies += outs;
    return outs;
  }

  outputAddress(j: number): number {
    return this.packetOffset(this.#outSlot[j]);
  }

  outputLength(j: number): number {
    return this.#inLen[this.#outSlot[j]];
  }

  #answer(at: number, len: number): boolean {
    const version = this.#bytes[at] >> 4;
    if (version === 6 && len >= 48) return this.#answerV6(at);
    if (version === 4 && len >= 28) return this.#answerV4(at, (this.#bytes[at] & 0x0f) * 4);
    return false;
  }

  #answerV6(at: number): boolean {
    if (this.#bytes[at + 6] !== 17) return false;
    this.#swap(at + 40, at + 42, 2);
    this.#swap(at + 8, at + 24, 16);
    return true;
  }

  #answerV4(at: number, ihl: number): boolean {
    if (this.#bytes[at + 9] !== 17) return false;
    this.#swap(at + ihl, at + ihl + 2, 2);
    this.#swap(at + 12, at + 16, 4);
    return true;
  }

  /** Exchanges the `n` bytes at `a` with the `n` bytes at `b`. */
  #swap(a: number, b: number, n: number): void {
    const bytes = this.#bytes;
    for (let i = 0; i < n; i++) {
      const t = bytes[a + i];
      bytes[a + i] = bytes[b + i];
      bytes[b + i] = t;
    }
  }
}

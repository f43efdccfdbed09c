/**
 * The datapath loop against a scripted device and readiness (no TUN, no root): batching,
 * EAGAIN, full slots, error counting, device loss and stopping.
 */

import { deepStrictEqual as eq, match, ok, throws } from "node:assert/strict";
import type { Engine } from "../../src/engine/engine.ts";
import {
  type BatchEngine,
  checkMtuFitsSlots,
  DatapathStats,
  type PacketPort,
  type Readiness,
  runDatapath,
} from "../../src/datapath/loop.ts";
import { Errno } from "../../src/tun/libc.ts";
import { Wakeup, type WakeupKind } from "../../src/tun/poller.ts";
import { EchoEngine } from "./echo_engine.ts";
import { buildPacket, checksumsValid } from "../util/packets.ts";

/** Checked when the tests are type-checked: the gateway's engine is a BatchEngine. */
export const engineIsBatchEngine = (engine: Engine): BatchEngine => engine;

/** A UDP datagram from 2001:db8:1::<from> port 1000+from to 2001:db8:64::1 port 7. */
function udp6(from: number): Uint8Array {
  return buildPacket({ src: `2001:db8:1::${from}`, dst: "2001:db8:64::1", proto: "udp", sport: 1000 + from, dport: 7 });
}

/** Reads come from a script: a packet, or a negative errno; then EAGAIN. */
class ScriptedPort implements PacketPort {
  readonly written: Uint8Array[] = [];
  readonly #memory: Uint8Array;
  readonly #reads: (Uint8Array | number)[];
  readonly #writes: number[];

  constructor(engine: EchoEngine, reads: (Uint8Array | number)[], writes: number[] = []) {
    this.#memory = new Uint8Array(engine.memory.buffer);
    this.#reads = reads;
    this.#writes = writes;
  }

  read(offset: number, max: number): number {
    const next = this.#reads.shift() ?? -Errno.EAGAIN;
    if (typeof next === "number") return next;
    const len = Math.min(max, next.length);
    this.#memory.set(next.subarray(0, len), offset);
    return len;
  }

  write(offset: number, length: number): number {
    const scripted = this.#writes.shift();
    if (scripted !== undefined) return scripted;
    this.written.push(this.#memory.slice(offset, offset + length));
    return length;
  }
}

/** Wakes follow a script; after it, waits until `wake()`. */
class ScriptedReadiness implements Readiness {
  wakes = 0;
  readonly #script: WakeupKind[];
  #release: (() => void) | null = null;

  constructor(script: WakeupKind[]) {
    this.#script = script;
  }

  wait(): Promise<WakeupKind> {
    const next = this.#script.shift();
    if (next !== undefined) return Promise.resolve(next);
    return new Promise((resolve) => (this.#release = () => resolve(Wakeup.WOKEN)));
  }

  wake(): void {
    this.wakes++;
    this.#release?.();
  }
}

async function run(engine: EchoEngine, port: PacketPort, script: WakeupKind[]) {
  const stats = new DatapathStats();
  const readiness = new ScriptedReadiness(script);
  const exit = await runDatapath({
    engine,
    port,
    readiness,
    signal: new AbortController().signal,
    deviceName: "t0",
    stats,
  });
  return { exit, stats, readiness };
}

const { READABLE, WOKEN, DEVICE_ERROR, POLL_FAILED } = Wakeup;

Deno.test("a batch is read until EAGAIN, translated in one call, and every output written", async () => {
  const engine = new EchoEngine(8);
  const port = new ScriptedPort(engine, [udp6(1), udp6(2), udp6(3)]);
  const { exit, stats } = await run(engine, port, [READABLE, WOKEN]);
  eq(exit.reason, "stopped");
  eq({ batches: stats.batches, in: stats.packetsIn, out: stats.packetsOut }, { batches: 1, in: 3, out: 3 });
  eq(port.written.length, 3);
  eq(
    port.written[1],
    buildPacket({ src: "2001:db8:64::1", dst: "2001:db8:1::2", proto: "udp", sport: 7, dport: 1002 }),
  );
  ok(port.written.every(checksumsValid));
});

Deno.test("reading stops when every slot is full; the rest waits for the next batch", async () => {
  const engine = new EchoEngine(2);
  const port = new ScriptedPort(engine, [1, 2, 3, 4, 5].map(udp6));
  const { stats } = await run(engine, port, [READABLE, READABLE, READABLE, WOKEN]);
  eq({ batches: stats.batches, in: stats.packetsIn, out: stats.packetsOut }, { batches: 3, in: 5, out: 5 });
});

Deno.test("a failed read is counted and ends the batch; EINTR is retried", async () => {
  const engine = new EchoEngine(8);
  const port = new ScriptedPort(engine, [udp6(1), -Errno.EINTR, -Errno.EIO, udp6(2)]);
  const { exit, stats } = await run(engine, port, [READABLE, READABLE, WOKEN]);
  eq(exit.reason, "stopped");
  eq({ readErrors: stats.readErrors, in: stats.packetsIn, batches: stats.batches }, {
    readErrors: 1,
    in: 2,
    batches: 2,
  });
});

Deno.test("failed and short writes are counted, and the batch goes on", async () => {
  const engine = new EchoEngine(8);
  const port = new ScriptedPort(engine, [udp6(1), udp6(2), udp6(3)], [-Errno.EINVAL, 10]);
  const { stats } = await run(engine, port, [READABLE, WOKEN]);
  eq({ writeErrors: stats.writeErrors, out: stats.packetsOut }, { writeErrors: 2, out: 1 });
});

Deno.test("a read failing with EBADFD (device deleted) ends the loop with a message naming the device", async () => {
  const engine = new EchoEngine(8);
  const port = new ScriptedPort(engine, [-Errno.EBADFD]);
  const { exit } = await run(engine, port, [DEVICE_ERROR]);
  eq(exit.reason, "device-lost");
  match(exit.message, /^TUN "t0" went away \(read: EBADFD .*\); the datapath stopped$/);
});

Deno.test("a write failing with EBADFD ends the loop", async () => {
  const engine = new EchoEngine(8);
  const port = new ScriptedPort(engine, [udp6(1)], [-Errno.EBADFD]);
  const { exit } = await run(engine, port, [READABLE]);
  eq(exit.reason, "device-lost");
  match(exit.message, /write: EBADFD/);
});

Deno.test("a device error with nothing to read ends the loop instead of spinning", async () => {
  const engine = new EchoEngine(8);
  const { exit } = await run(engine, new ScriptedPort(engine, []), [DEVICE_ERROR]);
  eq(exit.reason, "device-lost");
  match(exit.message, /poll reported an error/);
});

Deno.test("a failed poll is counted and waited again", async () => {
  const engine = new EchoEngine(8);
  const { exit, stats } = await run(engine, new ScriptedPort(engine, [udp6(1)]), [POLL_FAILED, READABLE, WOKEN]);
  eq(exit.reason, "stopped");
  eq({ pollErrors: stats.pollErrors, in: stats.packetsIn }, { pollErrors: 1, in: 1 });
});

Deno.test("aborting the signal wakes a pending wait and the loop stops", async () => {
  const engine = new EchoEngine(8);
  const readiness = new ScriptedReadiness([]);
  const stop = new AbortController();
  const running = runDatapath({
    engine,
    port: new ScriptedPort(engine, []),
    readiness,
    signal: stop.signal,
    deviceName: "t0",
  });
  await new Promise((r) => setTimeout(r, 10));
  stop.abort();
  const exit = await running;
  eq(exit.reason, "stopped");
  eq(readiness.wakes, 1);
});

Deno.test("the engine gets the clock's time with each batch", async () => {
  const engine = new EchoEngine(8);
  const seen: number[] = [];
  const translate = engine.translate.bind(engine);
  engine.translate = (count, now) => {
    seen.push(now);
    return translate(count, now);
  };
  await runDatapath({
    engine,
    port: new ScriptedPort(engine, [udp6(1)]),
    readiness: new ScriptedReadiness([READABLE, WOKEN]),
    signal: new AbortController().signal,
    deviceName: "t0",
    clock: () => 12345,
  });
  eq(seen, [12345]);
});

Deno.test("the echo engine answers IPv4 UDP with valid checksums and drops what is not UDP", async () => {
  const engine = new EchoEngine(8);
  const v4 = buildPacket({ src: "192.0.2.1", dst: "198.51.100.2", proto: "udp", sport: 5000, dport: 7, size: 100 });
  const icmp = buildPacket({ src: "2001:db8:1::1", dst: "2001:db8:64::1", proto: "icmp" });
  const port = new ScriptedPort(engine, [v4, icmp]);
  const { stats } = await run(engine, port, [READABLE, WOKEN]);
  eq({ in: stats.packetsIn, out: stats.packetsOut }, { in: 2, out: 1 });
  eq(
    port.written[0],
    buildPacket({ src: "198.51.100.2", dst: "192.0.2.1", proto: "udp", sport: 7, dport: 5000, size: 100 }),
  );
  ok(checksumsValid(port.written[0]));
});

Deno.test("an MTU larger than a slot's room is refused, since TUN reads truncate silently", () => {
  const engine = new EchoEngine(4, 1600);
  checkMtuFitsSlots(1536, engine);
  throws(
    () => checkMtuFitsSlots(1537, engine),
    /^Error: interface MTU 1537 does not fit the engine's 1536-byte packet slots: lower the MTU or raise the slot size$/,
  );
});

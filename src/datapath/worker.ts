/**
 * A datapath worker: one engine instance translating one TUN queue, in a Worker of its
 * own (see `protocol.ts` for why). It owns everything that touches its engine: the
 * datapath loop, the stateful NAT64 timers, restoring and saving the state file, and
 * the listings; the main thread asks for these by message and reads the counters from
 * shared memory.
 *
 * Started with a {@link QueueInit} as its first message; it answers `ready` (or
 * `failed` with one sentence, then ends), then serves requests until `stop`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { Engine } from "../engine/engine.ts";
import { Libc } from "../tun/libc.ts";
import { MemoryPort } from "../tun/device.ts";
import { Poller, WorkerReadiness } from "../tun/poller.ts";
import { checkMtuFitsSlots, type DatapathExit, DatapathStats, runDatapath } from "./loop.ts";
import { SessionTimers } from "../nat64/timers.ts";
import { DRAIN_INTERVAL_MS, SessionLog } from "../nat64/session_log.ts";
import { restoreState, saveState } from "../nat64/state_file.ts";
import type { SessionEvent } from "../engine/session_events.ts";
import type { LogFields } from "../control/logger.ts";
import { Schedule } from "./schedule.ts";
import { type LogEvent, type QueueInit, type Request, SharedCounters, type WorkerMessage } from "./protocol.ts";

const post = (m: WorkerMessage) => self.postMessage(m);

/** Log lines and session events go to the main thread's logger. */
const logger = {
  warn: (msg: string, fields?: LogFields) => post({ kind: "log", level: "warn", msg, fields } as LogEvent),
  sessionEvents: (count: number, read: (i: number) => SessionEvent) =>
    post({ kind: "sessions", events: Array.from({ length: count }, (_, i) => read(i)), lost: 0 }),
  sessionEventsLost: (lost: number) => post({ kind: "sessions", events: [], lost }),
};

/** The running queue. */
class Queue {
  readonly #engine: Engine;
  readonly #poller: Poller;
  readonly #stats = new DatapathStats();
  readonly #timers?: SessionTimers;
  readonly #sessionLog: SessionLog;
  readonly #shared: SharedCounters;
  readonly #stop = new AbortController();
  /** Requests still running (a save waits on file I/O): the loop gives the event loop turns until they end. */
  #serving = 0;
  readonly exit: Promise<DatapathExit>;

  constructor(init: QueueInit, engine: Engine, libc: Libc) {
    this.#engine = engine;
    const port = new MemoryPort(libc, init.fd, engine.memory, init.vnet);
    this.#poller = new Poller(libc, init.fd);
    this.#shared = new SharedCounters(engine.counterNames.length);
    const schedule = new Schedule();
    if (init.translator.mode === "nat64") {
      const timers = new SessionTimers(engine, port, { afterTick: () => this.publish() });
      schedule.every(timers.intervalMs, () => timers.step());
      this.#timers = timers;
    }
    this.#sessionLog = new SessionLog(engine, logger);
    this.#sessionLog.run(init.options.sessionEvents ?? false);
    schedule.every(DRAIN_INTERVAL_MS, () => this.#sessionLog.step());
    this.exit = runDatapath({
      engine,
      port,
      readiness: new WorkerReadiness(this.#poller, () => schedule.runDue(), () => this.#serving > 0),
      signal: this.#stop.signal,
      deviceName: init.deviceName,
      stats: this.#stats,
      afterBatch: () => this.publish(),
    });
    this.publish();
  }

  /** The descriptor the main thread writes after posting a request, so the loop takes it at once. */
  get wakeFd(): number {
    return this.#poller.wakeFd;
  }

  /** The buffer the main thread reads the counters from. */
  get counters(): SharedArrayBuffer {
    return this.#shared.buffer;
  }

  /** Copies every counter into shared memory: one memory copy for the engine's. */
  publish(): void {
    this.#shared.engine.set(this.#engine.counterArray);
    const h = this.#shared.host, s = this.#stats, t = this.#timers?.stats;
    h[0] = s.batches;
    h[1] = s.packetsIn;
    h[2] = s.packetsOut;
    h[3] = s.readErrors;
    h[4] = s.writeErrors;
    h[5] = s.pollErrors;
    h[6] = t?.ticks ?? 0;
    h[7] = t?.packetsWritten ?? 0;
    h[8] = t?.writeErrors ?? 0;
  }

  /** Answers one request (the loop is between batches: requests run on this thread too). */
  async serve(req: Request): Promise<unknown> {
    this.#serving++;
    try {
      return await this.#answer(req);
    } finally {
      this.#serving--;
    }
  }

  async #answer(req: Request): Promise<unknown> {
    switch (req.op) {
      case "configure":
        // Events so far are logged under the settings they happened under.
        this.#sessionLog.drain();
        this.#engine.configure(req.translator, req.options);
        this.#sessionLog.run(req.options.sessionEvents ?? false);
        return null;
      case "sessions":
        return this.#engine.listSessions(req.filter, req.cursor, performance.now());
      case "bib":
        return this.#engine.listBib(req.filter, req.cursor);
      case "save":
        return await saveState(this.#engine, req.file, performance.now());
      case "stop": {
        this.#stop.abort();
        this.#poller.wake();
        const exit = await this.exit;
        this.#sessionLog.stop();
        this.#poller.close();
        return exit;
      }
    }
  }
}

/** Builds the queue from its init message; throws one sentence when it cannot. */
async function start(init: QueueInit): Promise<{ queue: Queue; ready: WorkerMessage & { kind: "ready" } }> {
  const libc = Libc.open(init.libcPath);
  const engine = Engine.create(init.engine);
  checkMtuFitsSlots(init.mtu, engine);
  engine.configure(init.translator, init.options);
  // Before any packet: the restored sessions keep their pool4 ports.
  const restored = init.restoreFrom ? await restoreState(engine, init.restoreFrom, performance.now(), logger) : null;
  const queue = new Queue(init, engine, libc);
  return {
    queue,
    ready: { kind: "ready", counters: queue.counters, names: engine.counterNames, restored, wakeFd: queue.wakeFd },
  };
}

let queue: Queue | undefined;

self.onmessage = async (e: MessageEvent) => {
  if (!queue) {
    try {
      const started = await start(e.data as QueueInit);
      queue = started.queue;
      post(started.ready);
      queue.exit.then((exit) => {
        if (exit.reason === "device-lost") post({ kind: "exit", exit });
      });
    } catch (err) {
      post({ kind: "failed", error: (err as Error).message });
      self.close();
    }
    return;
  }
  const req = e.data as Request;
  try {
    const value = await queue.serve(req);
    queue.publish();
    post({ kind: "reply", id: req.id, value });
  } catch (err) {
    post({ kind: "reply", id: req.id, error: (err as Error).message });
  }
};

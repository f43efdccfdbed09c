/**
 * The main thread's handle on one datapath worker (`worker.ts`): starts it, asks it for
 * what only its engine knows (configure, listings, saves, stop), reads its counters
 * from shared memory, and passes its log lines to the gateway's logger.
 *
 * @module
 */

import type { ConfigureOptions, ImportResult } from "../engine/engine.ts";
import type { EngineConfig } from "../engine/config_tlv.ts";
import type { BibRecord, ListFilter, ListPage, SessionRecord } from "../engine/nat64_records.ts";
import type { Logger } from "../control/logger.ts";
import { Libc } from "../tun/libc.ts";
import type { DatapathExit } from "./loop.ts";
import type { SaveResult } from "../nat64/state_file.ts";
import {
  HOST_COUNTERS,
  type QueueInit,
  type Request,
  type Results,
  SharedCounters,
  type WorkerMessage,
} from "./protocol.ts";

/** Distributes `Request` over its `op` so each keeps its own fields. */
type RequestBody<R> = R extends { id: number } ? Omit<R, "id"> : never;

/** A started datapath worker. */
export class QueueWorker {
  /** Which queue it serves. */
  readonly queue: number;
  /** Resolves when its datapath ends: stopped, device gone, or the worker died. */
  readonly finished: Promise<DatapathExit>;
  /** What was restored from the state file at start, if anything. */
  readonly restored: ImportResult | null;
  readonly #worker: Worker;
  readonly #counters: SharedCounters;
  readonly #names: string[];
  readonly #libc: Libc;
  readonly #wakeFd: number;
  readonly #one = new Uint8Array(new BigUint64Array([1n]).buffer);
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #ended?: (exit: DatapathExit) => void;

  private constructor(
    init: QueueInit,
    worker: Worker,
    ready: WorkerMessage & { kind: "ready" },
    logger: Logger,
  ) {
    this.queue = init.queue;
    this.#worker = worker;
    this.#counters = new SharedCounters(ready.names.length, ready.counters);
    this.#names = ready.names;
    this.restored = ready.restored;
    this.#libc = Libc.open(init.libcPath);
    this.#wakeFd = ready.wakeFd;
    this.finished = new Promise((resolve) => (this.#ended = resolve));
    worker.onmessage = (e: MessageEvent<WorkerMessage>) => this.#receive(e.data, logger);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#die(`the datapath worker of queue ${init.queue} failed: ${e.message}`, init.deviceName);
    };
  }

  /** Starts a worker on `init`; resolves once it translates, or throws its one sentence. */
  static start(init: QueueInit, logger: Logger): Promise<QueueWorker> {
    const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: `queue ${init.queue}` });
    return new Promise((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<WorkerMessage>) => {
        const m = e.data;
        if (m.kind === "ready") resolve(new QueueWorker(init, worker, m, logger));
        else if (m.kind === "failed") {
          worker.terminate();
          reject(new Error(m.error));
        } else if (m.kind === "log" || m.kind === "sessions") QueueWorker.#pass(m, logger);
      };
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        worker.terminate();
        reject(new Error(`the datapath worker of queue ${init.queue} did not start: ${e.message}`));
      };
      worker.postMessage(init);
    });
  }

  /** Every counter by name: the engine's, then the loop's and the timers'. */
  counters(): Record<string, bigint | number> {
    const out: Record<string, bigint | number> = {};
    this.#names.forEach((name, i) => (out[name] = this.#counters.engine[i]));
    HOST_COUNTERS.forEach((name, i) => (out[name] = this.#counters.host[i]));
    return out;
  }

  /** Applies a configuration; rejects with the engine's sentence, the old one staying in force. */
  configure(translator: EngineConfig, options: ConfigureOptions): Promise<null> {
    return this.#ask({ op: "configure", translator, options });
  }

  /** One page of the stateful NAT64 sessions. */
  listSessions(filter: ListFilter, cursor: number): Promise<ListPage<SessionRecord>> {
    return this.#ask({ op: "sessions", filter, cursor });
  }

  /** One page of the BIB. */
  listBib(filter: ListFilter, cursor: number): Promise<ListPage<BibRecord>> {
    return this.#ask({ op: "bib", filter, cursor });
  }

  /** Saves the NAT64 tables to `file` (atomically, see `src/nat64/state_file.ts`). */
  save(file: string): Promise<SaveResult> {
    return this.#ask({ op: "save", file });
  }

  /** Stops the datapath and ends the worker; resolves with why the datapath ended. */
  async stop(): Promise<DatapathExit> {
    try {
      this.#ended?.(await this.#ask({ op: "stop" }));
    } catch {
      // A worker that already died has said why through `finished`.
    }
    this.#worker.terminate();
    return this.finished;
  }

  #ask<R extends Request["op"]>(body: RequestBody<Request> & { op: R }): Promise<Results[R]> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#worker.postMessage({ ...body, id });
      // The worker's thread may be blocked in poll: the wake-up hands its event loop the message.
      this.#libc.writeBuffer(this.#wakeFd, this.#one);
    });
  }

  #receive(m: WorkerMessage, logger: Logger): void {
    switch (m.kind) {
      case "reply": {
        const p = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        if ("error" in m) p?.reject(new Error(m.error));
        else p?.resolve(m.value);
        return;
      }
      case "log":
      case "sessions":
        QueueWorker.#pass(m, logger);
        return;
      case "exit":
        this.#ended?.(m.exit);
        return;
    }
  }

  /** Hands a worker's log line or session events to the logger. */
  static #pass(m: WorkerMessage & { kind: "log" | "sessions" }, logger: Logger): void {
    if (m.kind === "log") {
      logger[m.level](m.msg, m.fields);
      return;
    }
    if (m.events.length) logger.sessionEvents(m.events.length, (i) => m.events[i]);
    if (m.lost) logger.sessionEventsLost(m.lost);
  }

  #die(message: string, deviceName: string): void {
    for (const p of this.#pending.values()) p.reject(new Error(message));
    this.#pending.clear();
    this.#ended?.({ reason: "device-lost", message: `${message}; the datapath on "${deviceName}" stopped` });
  }
}

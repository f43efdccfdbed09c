/**
 * What the gateway (main thread) and a datapath worker (`worker.ts`) say to each other,
 * and the layout of the counters they share.
 *
 * The datapath runs in a Worker so that its batches never stand between the event loop
 * and the control socket, the metrics endpoint or the DNS64 listener: on one thread, a
 * request waited several batches for its socket read to be noticed (tens of
 * milliseconds under iperf3 load); beside a worker it is read at once.
 *
 * Counters cross without messages: the worker copies the engine's counter array and its
 * own loop and timer counters into a `SharedArrayBuffer` after every batch, timer tick
 * and request, and the main thread reads them whenever it is asked. Everything else is a
 * request with an `id`, answered once.
 *
 * @module
 */

import type { ConfigureOptions, EngineOptions, ImportResult } from "../engine/engine.ts";
import type { EngineConfig } from "../engine/config_tlv.ts";
import type { SessionEvent } from "../engine/session_events.ts";
import type { BibRecord, ListFilter, ListPage, SessionRecord } from "../engine/nat64_records.ts";
import type { DatapathExit } from "./loop.ts";
import type { SaveResult } from "../nat64/state_file.ts";
import type { LogFields } from "../control/logger.ts";

/** Everything a worker needs to start translating one TUN queue. */
export interface QueueInit {
  /** Which queue (0-based), for messages. */
  queue: number;
  /** The queue's open, non-blocking TUN descriptor (descriptors are process-wide). */
  fd: number;
  /** The TUN's name, for messages. */
  deviceName: string;
  /** The descriptor carries a `virtio_net_hdr` before every packet (offloads on). */
  vnet: boolean;
  /** libc to load (the path `--allow-ffi` names). */
  libcPath?: string;
  /** The TUN's MTU: every packet must fit a slot. */
  mtu: number;
  /** The engine's sizes. */
  engine: EngineOptions;
  /** The configuration to apply before the first packet. */
  translator: EngineConfig;
  /** What the engine records beyond translating (session events for the log). */
  options: ConfigureOptions;
  /** Stateful NAT64 only: the state file to restore before the first packet. */
  restoreFrom?: string;
}

/** A request from the main thread; `id` comes back in the {@link Reply}. */
export type Request =
  | { id: number; op: "configure"; translator: EngineConfig; options: ConfigureOptions }
  | { id: number; op: "sessions"; filter: ListFilter; cursor: number }
  | { id: number; op: "bib"; filter: ListFilter; cursor: number }
  | { id: number; op: "save"; file: string }
  | { id: number; op: "stop" };

/** What each request resolves to. */
export interface Results {
  configure: null;
  sessions: ListPage<SessionRecord>;
  bib: ListPage<BibRecord>;
  save: SaveResult;
  stop: DatapathExit;
}

/** The answer to one request: a value, or the one-sentence reason it failed. */
export type Reply = { kind: "reply"; id: number; value: unknown } | { kind: "reply"; id: number; error: string };

/** A log line for the main thread's logger. */
export interface LogEvent {
  kind: "log";
  level: "error" | "warn" | "info" | "debug";
  msg: string;
  fields?: LogFields;
}

/** Everything a worker posts. */
export type WorkerMessage =
  | Reply
  | LogEvent
  /**
   * Started: the shared counters, their names, what was restored, and the eventfd to
   * write after each request (the loop blocks in `poll` and takes messages when woken).
   */
  | { kind: "ready"; counters: SharedArrayBuffer; names: string[]; restored: ImportResult | null; wakeFd: number }
  /** Session and BIB events the engine recorded, for the session log; `lost`: not recorded. */
  | { kind: "sessions"; events: SessionEvent[]; lost: number }
  /** Could not start; the worker ends. */
  | { kind: "failed"; error: string }
  /** The datapath ended by itself (the device went away). */
  | { kind: "exit"; exit: DatapathExit };

/**
 * The worker's own counters, after the engine's in the shared buffer, in this order,
 * under the names the control socket and the metrics show.
 */
export const HOST_COUNTERS = [
  "datapath_batches",
  "datapath_packets_read",
  "datapath_packets_written",
  "drop_tun_read_error",
  "drop_tun_write_error",
  "datapath_poll_errors",
  "nat64_timer_ticks",
  "nat64_timer_packets_written",
  "drop_timer_write_error",
] as const;

/**
 * The shared counters: the engine's `u64` array as it is in engine memory, then the
 * {@link HOST_COUNTERS} as `f64`. Both sides build the same views over one buffer.
 */
export class SharedCounters {
  /** The buffer both threads see. */
  readonly buffer: SharedArrayBuffer;
  /** The engine's counters (written by one memory copy). */
  readonly engine: BigUint64Array;
  /** The worker's counters, in {@link HOST_COUNTERS} order. */
  readonly host: Float64Array;

  /** Views over `buffer`, or over a new one for `engineCount` engine counters. */
  constructor(engineCount: number, buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(8 * (engineCount + HOST_COUNTERS.length));
    this.engine = new BigUint64Array(this.buffer, 0, engineCount);
    this.host = new Float64Array(this.buffer, 8 * engineCount, HOST_COUNTERS.length);
  }
}

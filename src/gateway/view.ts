/**
 * The running gateway as its operators see it (`GatewayView` of `src/control/view.ts`):
 * status, the config in force, the engine's, the datapath's and the NAT64 timers'
 * counters, and the stateful NAT64 sessions and BIB page by page from the engine.
 *
 * @module
 */

import type { Engine } from "../engine/engine.ts";
import type { DatapathStats } from "../datapath/loop.ts";
import type { BibRow, GatewayStatus, GatewayView, ListPage, ListQuery, SessionRow } from "../control/view.ts";
import type { LoadedConfig } from "./config.ts";
import type { TimerStats } from "../nat64/timers.ts";
import { bibRow, listRequest, sessionRow } from "../nat64/listing.ts";
import { WELL_KNOWN_PREFIX } from "../net/ip.ts";

/** The version `status` reports. */
export const VERSION = "0.1.0";

/** A {@link GatewayView} over one engine, its datapath and its NAT64 timers. */
export class EngineView implements GatewayView {
  readonly #engine: Engine;
  readonly #stats: DatapathStats;
  readonly #timers: TimerStats;
  readonly #loaded: () => LoadedConfig;
  readonly #tun: string;
  readonly #startedAt: Date;

  constructor(
    engine: Engine,
    stats: DatapathStats,
    timers: TimerStats,
    loaded: () => LoadedConfig,
    tun: string,
    startedAt: Date,
  ) {
    this.#engine = engine;
    this.#stats = stats;
    this.#timers = timers;
    this.#loaded = loaded;
    this.#tun = tun;
    this.#startedAt = startedAt;
  }

  status(): GatewayStatus {
    return {
      version: VERSION,
      mode: this.#loaded().config.translator.mode,
      startedAt: this.#startedAt.toISOString(),
      uptimeS: Math.floor((Date.now() - this.#startedAt.getTime()) / 1000),
      tun: this.#tun,
      pid: Deno.pid,
    };
  }

  config(): Record<string, unknown> {
    return { ...this.#loaded().given };
  }

  counters(): Record<string, number | bigint> {
    const s = this.#stats;
    return {
      ...this.#engine.counters(),
      datapath_batches: s.batches,
      datapath_packets_read: s.packetsIn,
      datapath_packets_written: s.packetsOut,
      drop_tun_read_error: s.readErrors,
      drop_tun_write_error: s.writeErrors,
      datapath_poll_errors: s.pollErrors,
      nat64_timer_ticks: this.#timers.ticks,
      nat64_timer_packets_written: this.#timers.packetsWritten,
      drop_timer_write_error: this.#timers.writeErrors,
    };
  }

  sessions(q: ListQuery): ListPage<SessionRow> {
    const { filter, cursor } = listRequest(q);
    const page = this.#engine.listSessions(filter, cursor, performance.now());
    // Stateful NAT64 needs pool6 (checked at start); SIIT has no sessions to show.
    const pool6 = this.#loaded().config.translator.pool6 ?? WELL_KNOWN_PREFIX;
    return {
      items: page.records.map((r) => sessionRow(r, pool6)),
      ...(page.next === undefined ? {} : { next: String(page.next) }),
      total: page.total,
    };
  }

  bib(q: ListQuery): ListPage<BibRow> {
    const { filter, cursor } = listRequest(q);
    const page = this.#engine.listBib(filter, cursor);
    return {
      items: page.records.map(bibRow),
      ...(page.next === undefined ? {} : { next: String(page.next) }),
      total: page.total,
    };
  }
}

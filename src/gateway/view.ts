/**
 * The running gateway as its operators see it (`GatewayView` of `src/control/view.ts`):
 * status, the config in force, the engine's and the datapath's counters.
 *
 * @module
 */

import type { Engine } from "../engine/engine.ts";
import type { DatapathStats } from "../datapath/loop.ts";
import type { BibRow, GatewayStatus, GatewayView, ListPage, ListQuery, SessionRow } from "../control/view.ts";
import type { LoadedConfig } from "./config.ts";

/** The version `status` reports. */
export const VERSION = "0.1.0";

/** A {@link GatewayView} over one engine and its datapath. */
export class EngineView implements GatewayView {
  readonly #engine: Engine;
  readonly #stats: DatapathStats;
  readonly #loaded: () => LoadedConfig;
  readonly #tun: string;
  readonly #startedAt: Date;

  constructor(engine: Engine, stats: DatapathStats, loaded: () => LoadedConfig, tun: string, startedAt: Date) {
    this.#engine = engine;
    this.#stats = stats;
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
    };
  }

  sessions(_q: ListQuery): ListPage<SessionRow> {
    return { items: [], total: 0 };
  }

  bib(_q: ListQuery): ListPage<BibRow> {
    return { items: [], total: 0 };
  }
}

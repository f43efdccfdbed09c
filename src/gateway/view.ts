/**
 * The running gateway as its operators see it (`GatewayView` of `src/control/view.ts`):
 * status, the config in force, the counters of every datapath queue (its engine's, its
 * loop's and its NAT64 timers', summed over the queues), and the stateful NAT64
 * sessions and BIB page by page from the engine that holds them.
 *
 * @module
 */

import type { QueueWorker } from "../datapath/queue.ts";
import type { BibRow, GatewayStatus, GatewayView, ListPage, ListQuery, SessionRow } from "../control/view.ts";
import type { LoadedConfig } from "./config.ts";
import { bibRow, listRequest, sessionRow } from "../nat64/listing.ts";
import { WELL_KNOWN_PREFIX } from "../net/ip.ts";

/** The version `status` reports. */
export const VERSION = "0.1.0";

/** The part of a datapath queue the view reads (`src/datapath/queue.ts`). */
export type ViewedQueue = Pick<QueueWorker, "counters" | "listSessions" | "listBib">;

/**
 * Gauges (`sessions_*`, `bib_*`, `pool4_*`): a level, not a count of events. Summed over
 * queues like the counters: only stateful NAT64 has them, and it runs one queue.
 */
const isGauge = (name: string) => /^(sessions|bib|pool4)_/.test(name);

/** A {@link GatewayView} over the datapath queues. */
export class EngineView implements GatewayView {
  readonly #queues: ViewedQueue[];
  readonly #loaded: () => LoadedConfig;
  readonly #tun: string;
  readonly #startedAt: Date;

  constructor(queues: ViewedQueue[], loaded: () => LoadedConfig, tun: string, startedAt: Date) {
    this.#queues = queues;
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
    const [first, ...rest] = this.#queues.map((q) => q.counters());
    for (const more of rest) {
      for (const [name, value] of Object.entries(more)) {
        if (isGauge(name)) continue;
        const sum = first[name];
        first[name] = typeof sum === "bigint" && typeof value === "bigint" ? sum + value : Number(sum) + Number(value);
      }
    }
    return first;
  }

  async sessions(q: ListQuery): Promise<ListPage<SessionRow>> {
    const { filter, cursor } = listRequest(q);
    const page = await this.#queues[0].listSessions(filter, cursor);
    // Stateful NAT64 needs pool6 (checked at start); SIIT has no sessions to show.
    const pool6 = this.#loaded().config.translator.pool6 ?? WELL_KNOWN_PREFIX;
    return {
      items: page.records.map((r) => sessionRow(r, pool6)),
      ...(page.next === undefined ? {} : { next: String(page.next) }),
      total: page.total,
    };
  }

  async bib(q: ListQuery): Promise<ListPage<BibRow>> {
    const { filter, cursor } = listRequest(q);
    const page = await this.#queues[0].listBib(filter, cursor);
    return {
      items: page.records.map(bibRow),
      ...(page.next === undefined ? {} : { next: String(page.next) }),
      total: page.total,
    };
  }
}

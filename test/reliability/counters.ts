/**
 * The gateway's counters as the reliability tests read them: straight over the control
 * socket (no `nat64 stats` process per sample, so sampling during a flood costs the
 * gateway one request), with the sums the tests need (sessions over all protocols,
 * refusals by name) and a sampler that keeps the peak session count.
 *
 * @module
 */

import { ControlClient } from "../../src/control/client.ts";

/** Counter name → value. */
export type Counters = Record<string, number>;

/** The gateway's counters, read once over its control socket. */
export async function readCounters(socket: string): Promise<Counters> {
  const client = await ControlClient.connect(socket, 10_000);
  try {
    const { counters } = await client.stats();
    return Object.fromEntries(Object.entries(counters).map(([k, v]) => [k, Number(v)]));
  } finally {
    client.close();
  }
}

/** The gateway's process id (its `status`), for /proc and signals. */
export async function gatewayPid(socket: string): Promise<number> {
  const client = await ControlClient.connect(socket, 10_000);
  try {
    return (await client.stats()).status.pid;
  } finally {
    client.close();
  }
}

/** How much counter `name` grew from `before` to `after` (a counter missing in both grew by 0). */
export function grew(before: Counters, after: Counters, name: string): number {
  return (after[name] ?? 0) - (before[name] ?? 0);
}

/** The sum of every counter whose name matches `pattern`. */
export function sumOf(counters: Counters, pattern: RegExp): number {
  return Object.entries(counters).filter(([k]) => pattern.test(k)).reduce((s, [, v]) => s + v, 0);
}

/** Live NAT64 sessions over all protocols (the `sessions_tcp`, `sessions_udp`, `sessions_icmp` gauges). */
export function sessionTotal(counters: Counters): number {
  return sumOf(counters, /^sessions_(tcp|udp|icmp)$/);
}

/** Reads the counters every `everyMs` over one control connection and keeps the peak session count. */
export class SessionSampler {
  readonly #client: ControlClient;
  readonly #everyMs: number;
  readonly #samples: number[] = [];
  #running = true;
  readonly #loop: Promise<void>;

  private constructor(client: ControlClient, everyMs: number) {
    this.#client = client;
    this.#everyMs = everyMs;
    this.#loop = this.#run();
  }

  /** Starts sampling the gateway behind `socket`. */
  static async start(socket: string, everyMs = 200): Promise<SessionSampler> {
    return new SessionSampler(await ControlClient.connect(socket, 10_000), everyMs);
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const { counters } = await this.#client.stats();
      this.#samples.push(sessionTotal(Object.fromEntries(Object.entries(counters).map(([k, v]) => [k, Number(v)]))));
      await new Promise((r) => setTimeout(r, this.#everyMs));
    }
  }

  /** Stops and returns every session count seen, oldest first. */
  async stop(): Promise<number[]> {
    this.#running = false;
    try {
      await this.#loop;
    } finally {
      this.#client.close();
    }
    return [...this.#samples];
  }
}

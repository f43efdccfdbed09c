/**
 * Which CPU runs what. The translator gets a core of its own, so its figures are not
 * shared with iperf3; the iperf3 client and server share what is left, and are placed
 * the same way in every column, so each column's endpoints have the same CPUs. The
 * kernel column has no translator process: its forwarding runs in softirq on the CPU
 * that sends (veth delivers on the sender's CPU), so the translator's core stays idle.
 *
 * @module
 */

/** CPU numbers for one column; null means "not pinned". */
export interface Pinning {
  translator: number | null;
  client: number | null;
  server: number | null;
}

/** The placement for a column with (`translator`) or without a translator process, on `cpus` CPUs. */
export function pinningFor(cpus: number, translator: boolean): Pinning {
  if (cpus < 2) return { translator: null, client: null, server: null };
  const endpoints = cpus === 2 ? { client: 1, server: 1 } : { client: 1, server: 2 };
  return { translator: translator ? 0 : null, ...endpoints };
}

/** The `taskset` prefix for `cpu`, empty when unpinned. */
export function taskset(cpu: number | null): string[] {
  return cpu === null ? [] : ["taskset", "-c", String(cpu)];
}

/** One line saying where each part ran, e.g. "translator CPU 0, iperf3 client CPU 1, iperf3 server CPU 1". */
export function describePinning(p: Pinning): string {
  const where = (cpu: number | null) => (cpu === null ? "unpinned" : `CPU ${cpu}`);
  const parts = [`iperf3 client ${where(p.client)}`, `iperf3 server ${where(p.server)}`];
  return p.translator === null ? parts.join(", ") : [`translator ${where(p.translator)}`, ...parts].join(", ");
}

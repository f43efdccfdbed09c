/**
 * Which CPU runs what: the gateway namespace's work on one core, the iperf3 endpoints on
 * the other(s), the same in every column. The gateway's work is the translator process
 * and the kernel's receive processing of the gateway's veths, which RPS (receive packet
 * steering) moves there: without it, veth receives on the sending CPU, and the kernel
 * column's forwarding would run on the endpoints' core while the gateway's core idled.
 *
 * @module
 */

/** CPU numbers for one column; null means "not pinned". */
export interface Pinning {
  /** Where the gateway namespace's veths do their receive processing (RPS). */
  gatewayRx: number | null;
  translator: number | null;
  client: number | null;
  server: number | null;
}

/** The placement for a column with (`translator`) or without a translator process, on `cpus` CPUs. */
export function pinningFor(cpus: number, translator: boolean): Pinning {
  if (cpus < 2) return { gatewayRx: null, translator: null, client: null, server: null };
  const endpoints = cpus === 2 ? { client: 1, server: 1 } : { client: 1, server: 2 };
  return { gatewayRx: 0, translator: translator ? 0 : null, ...endpoints };
}

/** The rps_cpus mask (hexadecimal CPU bitmap) steering receive work to `cpu`; "0" turns RPS off. */
export function rpsMask(cpu: number | null): string {
  return cpu === null ? "0" : (1n << BigInt(cpu)).toString(16);
}

/** The `taskset` prefix for `cpu`, empty when unpinned. */
export function taskset(cpu: number | null): string[] {
  return cpu === null ? [] : ["taskset", "-c", String(cpu)];
}

/**
 * One line saying where each part ran, e.g. "gateway receive (RPS) CPU 0, translator
 * CPU 0, iperf3 client CPU 1, iperf3 server CPU 1".
 */
export function describePinning(p: Pinning): string {
  const where = (cpu: number | null) => (cpu === null ? "unpinned" : `CPU ${cpu}`);
  return [
    `gateway receive (RPS) ${where(p.gatewayRx)}`,
    ...(p.translator === null ? [] : [`translator ${where(p.translator)}`]),
    `iperf3 client ${where(p.client)}`,
    `iperf3 server ${where(p.server)}`,
  ].join(", ");
}

/**
 * TAYGA (Debian's `tayga`), the stateless NAT64 the gateway is compared with: its config
 * file, and starting it on a TUN in the lab's gateway namespace. Its dynamic pool gives
 * the IPv6-only client an IPv4 address from the lab's pool4, which the server routes back
 * to the gateway.
 *
 * @module
 */

import { type Lab, LAB_ADDRESSES } from "./lab.ts";
import { Background, capture } from "./proc.ts";

/** The keys of TAYGA's config file the bench sets (tayga.conf(5)). */
export interface TaygaSettings {
  /** TUN device TAYGA creates. */
  tunDevice: string;
  /** TAYGA's own IPv4 address (source of the ICMPv4 errors it sends); outside the dynamic pool. */
  ipv4Addr: string;
  /** The NAT64 prefix. */
  prefix: string;
  /** IPv4 addresses handed to IPv6 hosts on first contact. */
  dynamicPool: string;
}

/** The lab's TAYGA: the lab's prefix, pool4 split into its own address and the dynamic pool. */
export const LAB_TAYGA: TaygaSettings = {
  tunDevice: "nat64",
  ipv4Addr: "192.0.2.1",
  prefix: LAB_ADDRESSES.nat64Prefix,
  dynamicPool: "192.0.2.128/25",
};

/** The text of a tayga.conf for `s`. */
export function taygaConfig(s: TaygaSettings): string {
  return [
    `tun-device ${s.tunDevice}`,
    `ipv4-addr ${s.ipv4Addr}`,
    `prefix ${s.prefix}`,
    `dynamic-pool ${s.dynamicPool}`,
    "",
  ].join("\n");
}

/**
 * Starts TAYGA in the gateway namespace with its config written into `dir`, pinned by
 * `pin` (a `taskset` prefix), brings its TUN up and routes the prefix and pool4 into it.
 * `--nodetach` keeps it in the foreground without `-d`'s per-packet debug output, which
 * would slow it down.
 */
export async function startTayga(lab: Lab, dir: string, pin: string[]): Promise<Background> {
  if ((await capture(["which", "tayga"])).code !== 0) {
    throw new Error("tayga is not installed (apt-get install tayga)");
  }
  const conf = `${dir}/tayga.conf`;
  await Deno.writeTextFile(conf, taygaConfig(LAB_TAYGA));
  const tayga = new Background("tayga", lab.exec("gw", [...pin, "tayga", "--nodetach", "--config", conf]));
  await tayga.waitUntil(() => lab.hasLink("gw", LAB_TAYGA.tunDevice), `TUN ${LAB_TAYGA.tunDevice}`);
  await lab.ip("gw", ["link", "set", LAB_TAYGA.tunDevice, "up"]);
  await lab.ip("gw", ["route", "replace", LAB_TAYGA.prefix, "dev", LAB_TAYGA.tunDevice]);
  await lab.ip("gw", ["route", "replace", LAB_ADDRESSES.pool4, "dev", LAB_TAYGA.tunDevice]);
  return tayga;
}

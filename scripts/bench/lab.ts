/**
 * The bench's own copy of the three-namespace lab (scripts/lab, under a namespace prefix
 * of its own so the demo's lab is never touched), and the addresses it uses. Each
 * column of the bench gets a fresh lab: no route, TUN or NAT64 state of one column
 * can help or hurt the next.
 *
 * @module
 */

import { embedIPv4, formatIPv6, parseIPv4, parsePrefix } from "../../src/net/ip.ts";
import { must } from "./proc.ts";

const LAB_SCRIPT = new URL("../lab", import.meta.url).pathname;

/** The lab's fixed addresses (from the header of scripts/lab; documentation ranges). */
export const LAB_ADDRESSES = {
  clientV6: "2001:db8:1::2",
  gwV6: "2001:db8:1::1",
  serverV4: "198.51.100.2",
  nat64Prefix: "2001:db8:64::/96",
  pool4: "192.0.2.0/24",
} as const;

/** The IPv6 network the kernel column adds between the gateway and the server. */
export const KERNEL_V6 = { gw: "2001:db8:2::1", server: "2001:db8:2::2", network: "2001:db8:2::/64" } as const;

/** The server's IPv4 address as the client reaches it through NAT64 (RFC 6052 section 2.2). */
export const TRANSLATED_SERVER = formatIPv6(
  embedIPv4(parsePrefix(LAB_ADDRESSES.nat64Prefix), parseIPv4(LAB_ADDRESSES.serverV4)),
);

/** A namespace role in the lab. */
export type Role = "client" | "gw" | "server";

/** One lab: three namespaces named `<prefix>-client`, `-gw`, `-server`. */
export class Lab {
  /** The namespace name prefix (NAT64_LAB_PREFIX). */
  readonly prefix: string;

  /** A lab under `prefix`; nothing is created until `up()`. */
  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** The namespace name of `role`. */
  ns(role: Role): string {
    return `${this.prefix}-${role}`;
  }

  /** `argv` run inside the namespace of `role`. */
  exec(role: Role, argv: string[]): string[] {
    return ["ip", "netns", "exec", this.ns(role), ...argv];
  }

  /** `ip -n <ns> ...args` for `role`. */
  ip(role: Role, args: string[]): Promise<string> {
    return must(["ip", "-n", this.ns(role), ...args]);
  }

  /** Builds the three namespaces (scripts/lab up). */
  async up(): Promise<void> {
    await must(["env", `NAT64_LAB_PREFIX=${this.prefix}`, LAB_SCRIPT, "up"]);
  }

  /** Deletes the three namespaces (scripts/lab down); idempotent. */
  async down(): Promise<void> {
    await must(["env", `NAT64_LAB_PREFIX=${this.prefix}`, LAB_SCRIPT, "down"]);
  }

  /**
   * The kernel column only: turns IPv6 on in the (otherwise IPv4-only) server and routes
   * KERNEL_V6 between it and the client through the gateway's IPv6 forwarding.
   */
  async addServerIPv6(): Promise<void> {
    await must(this.exec("server", [
      "sysctl",
      "-qw",
      "net.ipv6.conf.all.disable_ipv6=0",
      "net.ipv6.conf.default.disable_ipv6=0",
      "net.ipv6.conf.to-gw.disable_ipv6=0",
    ]));
    // nodad: usable at once, as in scripts/lab.
    await this.ip("server", ["address", "replace", `${KERNEL_V6.server}/64`, "dev", "to-gw", "nodad"]);
    await this.ip("gw", ["address", "replace", `${KERNEL_V6.gw}/64`, "dev", "to-server", "nodad"]);
    await this.ip("server", ["-6", "route", "replace", "default", "via", KERNEL_V6.gw]);
    await this.ip("client", ["-6", "route", "replace", KERNEL_V6.network, "via", LAB_ADDRESSES.gwV6]);
  }

  /**
   * Sets RPS on the gateway's two veths to `mask` (rps_cpus, see pinning.ts). sysfs shows
   * a namespace's own devices only when mounted inside it, which `ip netns exec` does.
   */
  async steerGatewayReceive(mask: string): Promise<void> {
    for (const dev of ["to-client", "to-server"]) {
      await must(this.exec("gw", ["sh", "-c", `echo ${mask} > /sys/class/net/${dev}/queues/rx-0/rps_cpus`]));
    }
  }

  /** True when `dev` exists in the namespace of `role`. */
  async hasLink(role: Role, dev: string): Promise<boolean> {
    try {
      await this.ip(role, ["link", "show", "dev", dev]);
      return true;
    } catch {
      return false;
    }
  }

  /** True when the namespace of `role` routes `prefix` (IPv4 or IPv6) somewhere. */
  async hasRoute(role: Role, prefix: string): Promise<boolean> {
    const family = prefix.includes(":") ? "-6" : "-4";
    try {
      return (await this.ip(role, [family, "route", "show", prefix])).trim() !== "";
    } catch {
      return false;
    }
  }
}

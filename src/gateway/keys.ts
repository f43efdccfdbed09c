/**
 * The keys of `nat64 run` itself: the TUN device, its interface set-up, and where state
 * is saved. Same `KeySpec` form as every other key, so each is a flag and a config-file key.
 *
 * @module
 */

import type { KeySpec } from "../config/schema.ts";
import { checkInterfaceName, MAX_QUEUES } from "../tun/device.ts";
import { MAX_MTU, MIN_MTU } from "../tun/interface.ts";
import { parseIP, parsePrefix } from "../net/ip.ts";

/** How the gateway attaches to the system. */
export interface RunConfig {
  /** TUN interface name; created if missing, attached if it exists (a persistent TUN). */
  tun: string;
  /** The TUN's link MTU. */
  tunMtu: number;
  /** Leave the interface alone (already set up by root for an unprivileged gateway). */
  noSetup: boolean;
  /**
   * Open the TUN without checksum and segmentation offloads: one packet per read and
   * write, as the kernel segments before the TUN (for comparison, or a kernel that refuses them).
   */
  noOffloads: boolean;
  /**
   * TUN queues, each translated by a worker thread with an engine of its own (the kernel
   * spreads flows over them by hash); stateless SIIT only.
   */
  queues: number;
  /** Do not route pool6 / pool4 / EAMT prefixes into the TUN. */
  noRoutes: boolean;
  /** Extra prefixes routed into the TUN. */
  routes: string[];
  /** Addresses put on the TUN (ADDR/LEN). */
  tunAddresses: string[];
  /** libc to load through FFI (the permission `--allow-ffi=PATH` names the same file). */
  libc?: string;
  /** Where stateful NAT64 tables are saved on stop and checkpoints, and restored from on start. */
  stateFile?: string;
  /** Seconds between checkpoints of the state file (0: only on stop). */
  checkpointInterval: number;
}

/** The run config before any key is applied. */
export function defaultRunConfig(): RunConfig {
  return {
    tun: "nat64",
    tunMtu: 1500,
    noSetup: false,
    noOffloads: false,
    queues: 1,
    noRoutes: false,
    routes: [],
    tunAddresses: [],
    checkpointInterval: 60,
  };
}

function wholeNumber(text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new Error(`"${text}" is not a whole number from ${min} to ${max}`);
  }
  return Number(text);
}

/** Every run key, in the order `--help` lists them. */
export const RUN_KEYS: readonly KeySpec<RunConfig>[] = [
  {
    name: "tun",
    kind: "string",
    help: "TUN interface to create or attach (default nat64)",
    apply: (c, v) => {
      checkInterfaceName(v as string);
      c.tun = v as string;
    },
  },
  {
    name: "tun-mtu",
    kind: "string",
    help: `the TUN's MTU, ${MIN_MTU}-${MAX_MTU} (default 1500)`,
    apply: (c, v) => (c.tunMtu = wholeNumber(v as string, MIN_MTU, MAX_MTU)),
  },
  {
    name: "no-setup",
    kind: "boolean",
    help: "leave the TUN as it is (pre-created and set up by root)",
    apply: (c, v) => (c.noSetup = v as boolean),
  },
  {
    name: "no-offloads",
    kind: "boolean",
    help: "open the TUN without checksum/segmentation offloads (one packet per read and write)",
    apply: (c, v) => (c.noOffloads = v as boolean),
  },
  {
    name: "queues",
    kind: "string",
    help: `TUN queues, each translated by a thread of its own, 1-${MAX_QUEUES}; SIIT mode only (default 1)`,
    apply: (c, v) => (c.queues = wholeNumber(v as string, 1, MAX_QUEUES)),
  },
  {
    name: "no-routes",
    kind: "boolean",
    help: "do not route pool6, pool4 and EAMT IPv4 prefixes into the TUN",
    apply: (c, v) => (c.noRoutes = v as boolean),
  },
  {
    name: "route",
    kind: "string",
    multiple: true,
    help: "another prefix to route into the TUN, repeatable",
    apply: (c, v) => {
      parsePrefix(v as string);
      c.routes.push(v as string);
    },
  },
  {
    name: "tun-address",
    kind: "string",
    multiple: true,
    help: "ADDR/LEN to put on the TUN, repeatable",
    apply: (c, v) => {
      const [addr, len] = (v as string).split("/");
      parseIP(addr);
      if (len === undefined || !/^\d{1,3}$/.test(len)) {
        throw new Error(`"${v}" needs a prefix length, e.g. 192.0.2.1/32`);
      }
      c.tunAddresses.push(v as string);
    },
  },
  {
    name: "libc",
    kind: "string",
    help: "path of the libc loaded through FFI (default: the system's)",
    apply: (c, v) => (c.libc = v as string),
  },
  {
    name: "state-file",
    kind: "string",
    help: "save NAT64 sessions here on stop and checkpoints; restore on start",
    apply: (c, v) => (c.stateFile = v as string),
  },
  {
    name: "checkpoint-interval",
    kind: "string",
    help: "seconds between state checkpoints, 0 for stop only (default 60)",
    apply: (c, v) => (c.checkpointInterval = wholeNumber(v as string, 0, 86400)),
  },
];

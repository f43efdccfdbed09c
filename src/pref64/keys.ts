/**
 * The PREF64 configuration keys (flags and config-file keys at once). Advertising is
 * off unless `pref64-interface` names the LAN interface; the prefix advertised is the
 * translator's `pool6`.
 *
 * @module
 */

import type { KeySpec } from "../config/schema.ts";
import type { Prefix } from "../net/ip.ts";
import { defaultPref64LifetimeS, type Pref64Options } from "./advertiser.ts";
import { MAX_PREF64_LIFETIME_S } from "./option.ts";
import { MAX_ROUTER_LIFETIME_S } from "./ra.ts";
import { DEFAULT_MAX_RTR_ADV_INTERVAL_S, MAX_MAX_RTR_ADV_INTERVAL_S, MIN_MAX_RTR_ADV_INTERVAL_S } from "./schedule.ts";

/** Linux interface names are at most 15 bytes (IFNAMSIZ 16 with the NUL). */
const MAX_IFNAME_BYTES = 15;

/** The PREF64 settings, validated key by key. */
export interface Pref64Config {
  /** The LAN interface; absent: no router advertisements. */
  interface?: string;
  /** PREF64 lifetime in seconds; absent: 3 × the interval. */
  lifetimeS?: number;
  /** MaxRtrAdvInterval in seconds. */
  intervalS: number;
  /** Router Lifetime in seconds (0: not a default router). */
  routerLifetimeS: number;
}

/** The PREF64 config before any key is applied: off, RFC 4861 default interval, not a default router. */
export function defaultPref64Config(): Pref64Config {
  return { intervalS: DEFAULT_MAX_RTR_ADV_INTERVAL_S, routerLifetimeS: 0 };
}

function seconds(text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new Error(`"${text}" is not a whole number of seconds from ${min} to ${max}`);
  }
  return Number(text);
}

/** Every PREF64 key, in the order `--help` lists them. */
export const PREF64_KEYS: readonly KeySpec<Pref64Config>[] = [
  {
    name: "pref64-interface",
    kind: "string",
    help: "send router advertisements with the PREF64 option (RFC 8781) for pool6 on this LAN interface (default: off)",
    apply: (c, v) => {
      const name = v as string;
      const bytes = new TextEncoder().encode(name).length;
      if (bytes === 0 || bytes > MAX_IFNAME_BYTES || /[\s/:]/.test(name) || name === "." || name === "..") {
        throw new Error(`"${name}" is not an interface name (1 to ${MAX_IFNAME_BYTES} bytes, no "/", ":" or spaces)`);
      }
      c.interface = name;
    },
  },
  {
    name: "pref64-lifetime",
    kind: "string",
    help: `seconds hosts may use the advertised prefix (default 3 × pref64-interval, at most ${MAX_PREF64_LIFETIME_S})`,
    apply: (c, v) => (c.lifetimeS = seconds(v as string, 1, MAX_PREF64_LIFETIME_S)),
  },
  {
    name: "pref64-interval",
    kind: "string",
    help:
      `most seconds between unsolicited advertisements, MaxRtrAdvInterval (default ${DEFAULT_MAX_RTR_ADV_INTERVAL_S})`,
    apply: (c, v) => (c.intervalS = seconds(v as string, MIN_MAX_RTR_ADV_INTERVAL_S, MAX_MAX_RTR_ADV_INTERVAL_S)),
  },
  {
    name: "pref64-router-lifetime",
    kind: "string",
    help: "router lifetime in the advertisements; 0 (default): hosts do not use the gateway as default router",
    apply: (c, v) => (c.routerLifetimeS = seconds(v as string, 0, MAX_ROUTER_LIFETIME_S)),
  },
];

/**
 * Checks what no single key can, and gives the advertiser's options; undefined when
 * advertising is off. `pool6` is the translator's prefix.
 */
export function pref64Options(c: Pref64Config, pool6: Prefix | undefined): Pref64Options | undefined {
  if (c.interface === undefined) {
    if (c.lifetimeS !== undefined) {
      throw new Error("pref64-lifetime is set but pref64-interface is not: nothing is advertised");
    }
    return undefined;
  }
  if (!pool6) throw new Error("pref64-interface needs pool6: it is the prefix the advertisements carry");
  // RFC 4861 §6.2.1: AdvDefaultLifetime MUST be 0 or between MaxRtrAdvInterval and 9000 s.
  if (c.routerLifetimeS !== 0 && c.routerLifetimeS < c.intervalS) {
    throw new Error(
      `pref64-router-lifetime ${c.routerLifetimeS} must be 0 or at least pref64-interval (${c.intervalS}) (RFC 4861 §6.2.1)`,
    );
  }
  return {
    interface: c.interface,
    prefix: pool6,
    intervalS: c.intervalS,
    lifetimeS: c.lifetimeS ?? defaultPref64LifetimeS(c.intervalS),
    routerLifetimeS: c.routerLifetimeS,
  };
}

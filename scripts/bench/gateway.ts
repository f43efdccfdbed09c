/**
 * This gateway (`nat64 run`) in the lab's gateway namespace. Its command line is the one
 * constant below; `run` adds its TUN and the routes for the NAT64 prefix (and pool4 in
 * stateful mode) itself, so the bench only waits for them to appear.
 *
 * @module
 */

import { type Lab, LAB_ADDRESSES } from "./lab.ts";
import { Background } from "./proc.ts";

/** The translation mode the bench runs the gateway in. */
export type GatewayMode = "nat64" | "siit";

/** The TUN device the gateway is told to create. */
export const GATEWAY_TUN = "nat64";

/** The client's IPv4 identity in SIIT mode (an EAMT entry, RFC 7757), inside the lab's routed 192.0.2.0/24. */
const SIIT_CLIENT_V4 = "192.0.2.2";
/** Stateful mode's pool4: one address (every flow gets a port of its own, RFC 6146 section 3.5), inside the same. */
const GATEWAY_POOL4 = "192.0.2.1/32";

/**
 * The gateway's command line, run from the repository root inside the gateway namespace.
 * Stateful NAT64 (RFC 6146) takes pool4; SIIT (RFC 7915) maps the client by EAMT.
 * `offloads: false` adds `--no-offloads`.
 */
export function gatewayCommand(mode: GatewayMode, controlSocket: string, offloads = true): string[] {
  return [
    Deno.execPath(),
    "task",
    "nat64",
    "run",
    "--tun",
    GATEWAY_TUN,
    "--mode",
    mode,
    "--pool6",
    LAB_ADDRESSES.nat64Prefix,
    ...(mode === "nat64"
      ? ["--pool4", GATEWAY_POOL4]
      : ["--eamt", `${LAB_ADDRESSES.clientV6}/128=${SIIT_CLIENT_V4}/32`]),
    "--control-socket",
    controlSocket,
    ...(offloads ? [] : ["--no-offloads"]),
  ];
}

/** The gateway could not be benchmarked because `nat64 run` does not exist yet. */
export class NotAvailable extends Error {}

const REPO = new URL("../..", import.meta.url).pathname;
/** Deno's start-up and the engine's compilation come before the TUN appears. */
const START_TIMEOUT_MS = 30_000;

/**
 * Starts the gateway pinned by `pin` (a `taskset` prefix) and waits for its TUN and
 * routes. Throws NotAvailable when the CLI has no `run` subcommand.
 */
export async function startGateway(
  lab: Lab,
  mode: GatewayMode,
  controlSocket: string,
  pin: string[],
  offloads: boolean,
): Promise<Background> {
  const command = gatewayCommand(mode, controlSocket, offloads);
  const gw = new Background("nat64 run", lab.exec("gw", [...pin, ...command]), REPO);
  const routed = mode === "nat64" ? [LAB_ADDRESSES.nat64Prefix, GATEWAY_POOL4] : [LAB_ADDRESSES.nat64Prefix];
  try {
    await gw.waitUntil(
      async () => {
        if (!(await lab.hasLink("gw", GATEWAY_TUN))) return false;
        for (const prefix of routed) if (!(await lab.hasRoute("gw", prefix))) return false;
        return true;
      },
      `TUN ${GATEWAY_TUN} with routes to ${routed.join(" and ")}`,
      START_TIMEOUT_MS,
    );
  } catch (err) {
    await gw.stop();
    if (/unknown subcommand "run"/.test(gw.output)) {
      throw new NotAvailable("not available yet: nat64 has no run subcommand");
    }
    // The engine names a mode it does not have yet (stateful NAT64 while it is being built).
    if (/not available in this engine yet/.test(gw.output)) throw new NotAvailable(`not available yet: ${gw.tail()}`);
    throw err;
  }
  return gw;
}

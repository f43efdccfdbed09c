/**
 * Interface set-up for the TUN: MTU, link up, addresses, and the routes that send the
 * NAT64 prefix and pool4 into it.
 *
 * This runs the `ip` command (iproute2) rather than speaking rtnetlink through FFI. It
 * runs once at start-up, so speed does not matter; `ip` already encodes every netlink
 * attribute correctly for every kernel, its error messages are the ones operators know,
 * and every step can be printed and replayed by hand. Netlink through FFI would mean
 * hand-building RTM_NEWLINK/NEWADDR/NEWROUTE messages and parsing acks in TypeScript.
 * The cost is `--allow-run=ip`.
 *
 * Each command is an argument array handed to `Deno.Command`, never a shell string,
 * and every value is validated first, so no configuration text can become an option or
 * reach a shell.
 *
 * @module
 */

import { parseIP, parsePrefix } from "../net/ip.ts";
import { checkInterfaceName } from "./device.ts";

/** What to set on the interface. */
export interface InterfaceSettings {
  /** The TUN's name. */
  name: string;
  /** Link MTU: at least 1280 (RFC 8200 §5), at most 65535 (the TUN limit). */
  mtu: number;
  /** Addresses with prefix length, e.g. `2001:db8:1::1/64`, `192.0.2.1/32`. */
  addresses: string[];
  /** Prefixes routed into the TUN, e.g. the NAT64 prefix and pool4; `[]` for none. */
  routes: string[];
}

/** The smallest link MTU IPv6 allows (RFC 8200 §5). */
export const MIN_MTU = 1280;
/** The largest packet a TUN carries. */
export const MAX_MTU = 65535;

/** Throws one sentence naming the setting that is wrong. */
export function checkInterfaceSettings(s: InterfaceSettings): void {
  checkInterfaceName(s.name);
  if (!Number.isInteger(s.mtu) || s.mtu < MIN_MTU || s.mtu > MAX_MTU) {
    throw new Error(`interface MTU ${s.mtu} is not a whole number from ${MIN_MTU} to ${MAX_MTU}`);
  }
  for (const a of s.addresses) checkAddress(a);
  for (const r of s.routes) {
    try {
      parsePrefix(r);
    } catch (e) {
      throw new Error(`route ${JSON.stringify(r)}: ${(e as Error).message}`);
    }
  }
}

/** `address/length`, where the host part may be non-zero (unlike a route prefix). */
function checkAddress(text: string): void {
  const slash = text.indexOf("/");
  const bad = (why: string) => new Error(`interface address ${JSON.stringify(text)}: ${why}`);
  if (slash < 0) throw bad("needs a prefix length, e.g. 2001:db8:1::1/64");
  let addr: Uint8Array;
  try {
    addr = parseIP(text.slice(0, slash));
  } catch (e) {
    throw bad((e as Error).message);
  }
  const max = addr.length * 8;
  const len = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(len) || Number(len) > max) throw bad(`the prefix length must be 0-${max}`);
}

/** The `ip` argument arrays that apply `s`, in order; each is idempotent. */
export function interfaceCommands(s: InterfaceSettings): string[][] {
  checkInterfaceSettings(s);
  return [
    ["link", "set", "dev", s.name, "mtu", String(s.mtu)],
    // Up before routes: the kernel refuses a route through a link that is down.
    ["link", "set", "dev", s.name, "up"],
    ...s.addresses.map((a) => ["address", "replace", a, "dev", s.name]),
    ...s.routes.map((r) => ["route", "replace", r, "dev", s.name]),
  ];
}

/** Runs one `ip` command; throws one sentence with the command and `ip`'s complaint. */
export async function runIp(args: string[]): Promise<void> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("ip", { args, stdin: "null", stdout: "null", stderr: "piped" }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`"ip" was not found: install iproute2`);
    if (e instanceof Deno.errors.NotCapable) throw new Error(`running "ip" needs --allow-run=ip`);
    throw e;
  }
  if (!out.success) {
    const why = new TextDecoder().decode(out.stderr).trim().split("\n")[0] || `exit code ${out.code}`;
    throw new Error(`ip ${args.join(" ")}: ${why}`);
  }
}

/**
 * Applies `s` to the interface. `onCommand` sees each command before it runs (for a
 * log line); `run` is replaceable for tests.
 */
export async function configureInterface(
  s: InterfaceSettings,
  onCommand: (args: string[]) => void = () => {},
  run: (args: string[]) => Promise<void> = runIp,
): Promise<void> {
  for (const args of interfaceCommands(s)) {
    onCommand(args);
    await run(args);
  }
}

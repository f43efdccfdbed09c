/**
 * What the kernel knows about the advertising interface: its usable link-local address
 * and its MAC, from `ip -j addr show dev IF` (iproute2's JSON output).
 *
 * `ip` rather than `/proc/net/if_inet6` and `/sys/class/net`: Deno refuses reads of
 * those kernel files without `--allow-all`, while the gateway already runs `ip` for the
 * TUN (`src/tun/interface.ts`), so `--allow-run=ip` covers this too.
 *
 * @module
 */

import { parseIPv6 } from "../net/ip.ts";

/** The interface facts the advertiser needs. */
export interface LinkFacts {
  /** The first usable link-local address (fe80::/10, not tentative, not DAD-failed). */
  linkLocal?: Uint8Array;
  /** The 6-byte MAC of an Ethernet-like interface; absent for a TUN or point-to-point link. */
  mac?: Uint8Array;
}

interface IpAddrInfo {
  family?: string;
  local?: string;
  scope?: string;
  tentative?: boolean;
  dadfailed?: boolean;
}

interface IpLink {
  link_type?: string;
  address?: string;
  addr_info?: IpAddrInfo[];
}

/** Reads the facts out of `ip -j addr show dev IF` output; throws a sentence on other text. */
export function parseLinkFacts(json: string): LinkFacts {
  let links: IpLink[];
  try {
    links = JSON.parse(json);
  } catch {
    throw new Error("ip -j addr printed something that is not JSON");
  }
  const link = links[0] ?? {};
  const facts: LinkFacts = {};
  const usable = (link.addr_info ?? []).find((a) =>
    a.family === "inet6" && a.scope === "link" && !a.tentative && !a.dadfailed &&
    a.local?.toLowerCase().startsWith("fe")
  );
  if (usable?.local) {
    const addr = parseIPv6(usable.local);
    if (addr[0] === 0xfe && (addr[1] & 0xc0) === 0x80) facts.linkLocal = addr;
  }
  if (link.link_type === "ether" && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(link.address ?? "")) {
    facts.mac = Uint8Array.from(link.address!.split(":"), (h) => parseInt(h, 16));
  }
  return facts;
}

/** Asks `ip` about `ifname`; throws one sentence when the interface or `ip` is missing. */
export async function readLinkFacts(ifname: string): Promise<LinkFacts> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("ip", {
      args: ["-j", "addr", "show", "dev", ifname],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new Error("the ip command (iproute2) is not installed");
    if (err instanceof Deno.errors.NotCapable) {
      throw new Error("reading the interface's addresses needs --allow-run=ip");
    }
    throw err;
  }
  if (!out.success) {
    const why = new TextDecoder().decode(out.stderr).trim() || `exit code ${out.code}`;
    throw new Error(`ip addr show dev ${ifname}: ${why}`);
  }
  return parseLinkFacts(new TextDecoder().decode(out.stdout));
}

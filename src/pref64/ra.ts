/**
 * Router Advertisement and Router Solicitation messages (RFC 4861 §4.1, §4.2) as the
 * ICMPv6 payload of a raw socket: the kernel adds the IPv6 header and computes the
 * ICMPv6 checksum (RFC 3542 §3.1), so the checksum field is left zero here.
 *
 * @module
 */

/** ICMPv6 type of a Router Solicitation. */
export const ICMP6_ROUTER_SOLICITATION = 133;
/** ICMPv6 type of a Router Advertisement. */
export const ICMP6_ROUTER_ADVERTISEMENT = 134;
/** Source Link-Layer Address option type (RFC 4861 §4.6.1). */
const OPTION_SOURCE_LINK_ADDRESS = 1;
/** The longest Router Lifetime a router may advertise (RFC 4861 §6.2.1 AdvDefaultLifetime). */
export const MAX_ROUTER_LIFETIME_S = 9000;

/** What one advertisement says. */
export interface AdvertisementFields {
  /** Seconds hosts may use this router as a default router; 0: not a default router (RFC 4861 §4.2). */
  routerLifetimeS: number;
  /** The interface's 6-byte MAC, sent as a Source Link-Layer Address option when known (§4.6.1). */
  linkAddress?: Uint8Array;
  /** Options to append as they are (the PREF64 option). */
  options: Uint8Array[];
}

/**
 * A Router Advertisement: Cur Hop Limit 0 and Reachable/Retrans 0 (unspecified: hosts
 * keep their own), M and O flags clear (this router offers no DHCPv6), then the options.
 */
export function buildRouterAdvertisement(f: AdvertisementFields): Uint8Array {
  if (!Number.isInteger(f.routerLifetimeS) || f.routerLifetimeS < 0 || f.routerLifetimeS > MAX_ROUTER_LIFETIME_S) {
    throw new Error(`a router lifetime must be a whole number of seconds from 0 to ${MAX_ROUTER_LIFETIME_S}`);
  }
  const parts: Uint8Array[] = [];
  const header = new Uint8Array(16);
  header[0] = ICMP6_ROUTER_ADVERTISEMENT;
  header[6] = f.routerLifetimeS >> 8;
  header[7] = f.routerLifetimeS & 0xff;
  parts.push(header);
  if (f.linkAddress) {
    if (f.linkAddress.length !== 6) throw new Error("a source link-layer address option holds a 6-byte MAC");
    const slla = new Uint8Array(8);
    slla[0] = OPTION_SOURCE_LINK_ADDRESS;
    slla[1] = 1;
    slla.set(f.linkAddress, 2);
    parts.push(slla);
  }
  parts.push(...f.options);
  const message = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    message.set(p, at);
    at += p.length;
  }
  return message;
}

/**
 * Whether a received Router Solicitation is valid (RFC 4861 §6.1.1): hop limit 255
 * (so it was not forwarded from another link), code 0, at least 8 bytes, every option
 * with a non-zero length, and no Source Link-Layer Address option when the source is
 * the unspecified address. The kernel has already checked the ICMPv6 checksum.
 */
export function isValidRouterSolicitation(message: Uint8Array, hopLimit: number, sourceUnspecified: boolean): boolean {
  if (hopLimit !== 255 || message.length < 8) return false;
  if (message[0] !== ICMP6_ROUTER_SOLICITATION || message[1] !== 0) return false;
  for (let at = 8; at < message.length;) {
    if (at + 2 > message.length) return false;
    const length = message[at + 1] * 8;
    if (length === 0 || at + length > message.length) return false;
    if (sourceUnspecified && message[at] === OPTION_SOURCE_LINK_ADDRESS) return false;
    at += length;
  }
  return true;
}

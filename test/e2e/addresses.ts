/**
 * The lab's addresses (scripts/lab, documentation ranges only: RFC 3849, RFC 5737) and
 * the two ways the gateway runs in it. The translator's own addresses are not the gw
 * namespace's: an ICMPv4 error the translator writes into the TUN with a source the
 * kernel owns (198.51.100.1) is dropped by the kernel as a martian, so traceroute from
 * the IPv4 side would never see the translator's hop.
 *
 * @module
 */

/** The NAT64 prefix (RFC 6052 §2.2, a /96 network-specific prefix). */
export const POOL6 = "2001:db8:64::/96";
/** The IPv6-only client. */
export const CLIENT6 = "2001:db8:1::2";
/** The IPv4-only server. */
export const SERVER4 = "198.51.100.2";
/** The server as the client reaches it: 198.51.100.2 embedded in POOL6. */
export const SERVER6 = "2001:db8:64::c633:6402";
/** The gw namespace's kernel on the client link. */
export const GW6 = "2001:db8:1::1";
/** The gw namespace's kernel on the server link (198.51.100.1) as the client sees it. */
export const GW4_AS6 = "2001:db8:64::c633:6401";
/** The translator's own IPv4 address: source of the ICMPv4 errors it makes. */
export const TRANSLATOR4 = "203.0.113.1";
/** The translator's own IPv6 address: source of the ICMPv6 errors it makes. */
export const TRANSLATOR6 = "2001:db8:ff::1";
/** SIIT: the client as the server sees it, through the EAMT entry 2001:db8:1::/120=192.0.2.0/24. */
export const CLIENT4_EAMT = "192.0.2.2";
/** SIIT: the gw namespace's kernel on the client link (2001:db8:1::1) as the server sees it. */
export const GW6_AS4 = "192.0.2.1";
/** Stateful NAT64: the pool4 address every client is translated to (inside the lab's routed 192.0.2.0/24). */
export const POOL4 = "192.0.2.1";

/** How the gateway runs in the lab. */
export interface LabMode {
  /** "siit" or "nat64". */
  readonly name: string;
  /** The `nat64 run` flags, besides the TUN and the control socket. */
  readonly flags: readonly string[];
  /** The client's IPv4 address as the server sees it. */
  readonly clientAs4: string;
}

const OWN = ["--ipv4", TRANSLATOR4, "--ipv6", TRANSLATOR6];

/** Stateless (RFC 7915) with the client mapped by EAMT (RFC 7757). */
export const SIIT: LabMode = {
  name: "siit",
  flags: ["--pool6", POOL6, "--eamt", "2001:db8:1::/120=192.0.2.0/24", ...OWN],
  clientAs4: CLIENT4_EAMT,
};

/** Stateful (RFC 6146) with a one-address pool4. */
export const NAT64: LabMode = {
  name: "nat64",
  flags: ["--mode", "nat64", "--pool6", POOL6, "--pool4", POOL4, ...OWN],
  clientAs4: POOL4,
};

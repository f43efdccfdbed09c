//! Traffic classes of the per-protocol counters (`{in,out}{4,6}_{proto}_{packets,bytes}`):
//! the IP version and transport protocol of a packet, read from its headers without a
//! full parse, cheap enough for every packet of every batch.

use crate::protocol::{DSTOPTS, FRAGMENT, HOPOPT, ICMP, ICMPV6, ROUTING, TCP, UDP};

/// Extension headers looked through before a packet counts as "other".
const MAX_EXTENSIONS: usize = 4;
/// The protocol part of the class of ICMP and ICMPv6 packets.
pub const ICMP_CLASS: usize = 2;

/// The class of `pkt`: `4 × family + protocol`, family 0 for IPv4 and 1 for IPv6,
/// protocol 0 TCP, 1 UDP, 2 ICMP (ICMPv6 for IPv6), 3 anything else. Bytes that are
/// neither IPv4 nor IPv6 count as IPv4 "other".
#[inline(always)]
pub fn class(pkt: &[u8]) -> usize {
    match pkt.first().map(|b| b >> 4) {
        Some(6) if pkt.len() >= 40 => 4 + protocol(upper_v6(pkt), true),
        Some(4) if pkt.len() >= 20 => protocol(pkt[9], false),
        _ => 3,
    }
}

/// The class of a packet whose first byte is `first` and whose protocol part is
/// `protocol`: translation changes the family and keeps the protocol (ICMP becomes
/// ICMPv6 and back), so an output's class needs no second look at its headers.
#[inline(always)]
pub fn with_protocol(first: u8, protocol: usize) -> usize {
    (if first >> 4 == 6 { 4 } else { 0 }) + protocol
}

/// The protocol part of the class of protocol (IPv6: Next Header) `p`.
#[inline(always)]
pub fn protocol(p: u8, v6: bool) -> usize {
    match p {
        TCP => 0,
        UDP => 1,
        ICMPV6 if v6 => ICMP_CLASS,
        ICMP if !v6 => ICMP_CLASS,
        _ => 3,
    }
}

/// The Next Header after the first few extension headers (a non-first fragment's
/// Fragment header names the protocol of its datagram).
#[inline(always)]
fn upper_v6(pkt: &[u8]) -> u8 {
    let mut nh = pkt[6];
    let mut at = 40;
    for _ in 0..MAX_EXTENSIONS {
        if at + 2 > pkt.len() {
            break;
        }
        nh = match nh {
            HOPOPT | ROUTING | DSTOPTS => {
                let next = pkt[at];
                at += (pkt[at + 1] as usize + 1) * 8;
                next
            }
            FRAGMENT => {
                let next = pkt[at];
                at += 8;
                next
            }
            _ => return nh,
        };
    }
    match nh {
        HOPOPT | ROUTING | DSTOPTS | FRAGMENT => 255,
        _ => nh,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;

    #[test]
    fn classes_follow_version_and_protocol() {
        assert_eq!(class(&udp4(H4, H6_AS_V4, 64, 0, 8)), 1);
        assert_eq!(class(&v4(H4, H6_AS_V4, ICMP, 64, 0, &[0; 8])), 2);
        assert_eq!(class(&v4(H4, H6_AS_V4, 47, 64, 0, &[0; 8])), 3);
        assert_eq!(class(&udp6(H6, H4_AS_V6, 64, 8)), 5);
        let frag = v6(H6, H4_AS_V6, FRAGMENT, 64, &[TCP, 0, 0, 8, 0, 0, 0, 1], &[0; 8]);
        assert_eq!(class(&frag), 4, "a fragment counts as its datagram's protocol");
        let opts = v6(H6, H4_AS_V6, HOPOPT, 64, &[ICMPV6, 0, 1, 4, 0, 0, 0, 0], &[128, 0, 0, 0]);
        assert_eq!(class(&opts), 6);
        assert_eq!(class(&[0x45, 0, 0]), 3, "too short to tell");
        assert_eq!(class(&[]), 3);
        assert_eq!(with_protocol(0x60, class(&udp4(H4, H6_AS_V4, 64, 0, 8)) & 3), class(&udp6(H6, H4_AS_V6, 64, 8)));
        assert_eq!(with_protocol(0x45, ICMP_CLASS), 2);
    }
}

//! Transport-layer rewrites during translation: the TCP/UDP checksum follows the
//! pseudo-header change (RFC 7915 §4.5 / §5.4), and ICMP echo messages change type
//! and gain or lose the IPv6 pseudo-header in their checksum (§4.2 / §5.2). All
//! updates are incremental (RFC 1624), so a wrong checksum stays wrong.

use crate::bytes::{get16, put16};
use crate::checksum;
use crate::protocol::{TCP, UDP};

/// Offset of the checksum field in a TCP header.
const TCP_CHECKSUM: usize = 16;
/// Offset of the checksum field in a UDP header.
pub const UDP_CHECKSUM: usize = 6;

/// Offset of the checksum field for `protocol`, if the engine maintains it.
#[inline]
pub fn checksum_offset(protocol: u8) -> Option<usize> {
    match protocol {
        TCP => Some(TCP_CHECKSUM),
        UDP => Some(UDP_CHECKSUM),
        _ => None,
    }
}

/// Updates the TCP or UDP checksum in `l4` (the transport header onwards, possibly
/// cut short) for a pseudo-header whose address sum went from `removed` to `added`.
/// A UDP checksum of zero means "none" (RFC 768) and is left alone; a field past
/// the end of `l4` is left alone. Other protocols are untouched. Always inlined: every
/// TCP and UDP packet comes through here.
#[inline(always)]
pub fn update_checksum(protocol: u8, l4: &mut [u8], removed: u64, added: u64) {
    let at = match checksum_offset(protocol) {
        Some(at) if l4.len() >= at + 2 => at,
        _ => return,
    };
    let old = get16(l4, at);
    if protocol == UDP && old == 0 {
        return;
    }
    let mut new = checksum::adjust(old, checksum::fold(removed), checksum::fold(added));
    if protocol == UDP && new == 0 {
        new = 0xffff;
    }
    put16(l4, at, new);
}

/// Updates the TCP or UDP checksum field of `l4` that holds a partial sum (see
/// [`crate::offload`]): the folded, not inverted, sum of the pseudo-header alone, whose
/// address part went from `removed` to `added`. The field moves the opposite way to a
/// full checksum, so it is inverted, updated as RFC 1624 eqn. 3 updates a checksum, and
/// inverted back. Ports are not in it: they are among the bytes summed into it when
/// the checksum is completed, so a stateful port rewrite leaves it alone.
#[inline]
pub fn update_partial(protocol: u8, l4: &mut [u8], removed: u64, added: u64) {
    let at = match checksum_offset(protocol) {
        Some(at) if l4.len() >= at + 2 => at,
        _ => return,
    };
    let partial = get16(l4, at);
    put16(l4, at, !checksum::adjust(!partial, checksum::fold(removed), checksum::fold(added)));
}

/// Computes the UDP checksum of the datagram `l4` from scratch, for a pseudo-header
/// whose partial sum is `pseudo` (RFC 7915 §4.5 "compute" option).
pub fn compute_udp_checksum(l4: &mut [u8], pseudo: u64) {
    put16(l4, UDP_CHECKSUM, 0);
    let mut c = checksum::finish(pseudo + checksum::sum(l4));
    if c == 0 {
        c = 0xffff;
    }
    put16(l4, UDP_CHECKSUM, c);
}

/// Rewrites the type of the ICMP echo message `msg` (at least 4 bytes) to `new_type`
/// and adjusts its checksum; `pseudo_removed` and `pseudo_added` are the partial
/// sums of the pseudo-headers leaving and entering the checksum (the IPv6 one on
/// one side, nothing on the other).
#[inline]
pub fn retype_icmp(msg: &mut [u8], new_type: u8, pseudo_removed: u64, pseudo_added: u64) {
    let old_word = get16(msg, 0) as u64;
    msg[0] = new_type;
    let new_word = get16(msg, 0) as u64;
    let c = checksum::adjust(get16(msg, 2), checksum::fold(old_word + pseudo_removed), checksum::fold(new_word + pseudo_added));
    put16(msg, 2, c);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ICMPV6;

    #[test]
    fn udp_checksum_follows_the_pseudo_header() {
        // UDP 2000 -> 4000, payload 00 01 02 03, from 198.51.100.2 to 192.0.2.33.
        let mut l4 = [0x07, 0xd0, 0x0f, 0xa0, 0x00, 0x0c, 0xfa, 0x0a, 0x00, 0x01, 0x02, 0x03];
        let s4 = [198, 51, 100, 2];
        let d4 = [192, 0, 2, 33];
        let mut s6 = [0u8; 16];
        s6[..10].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0x01, 0xc6, 0x33, 0x64, 0x00, 0x02]);
        let mut d6 = [0u8; 16];
        d6[..10].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0x01, 0xc0, 0x00, 0x02, 0x00, 0x21]);
        let removed = checksum::sum(&s4) + checksum::sum(&d4);
        let added = checksum::sum(&s6) + checksum::sum(&d6);
        update_checksum(UDP, &mut l4, removed, added);
        assert_eq!(get16(&l4, 6), 0x53e1);
        let mut fresh = l4;
        compute_udp_checksum(&mut fresh, checksum::pseudo_v6(&s6, &d6, UDP, 12));
        assert_eq!(get16(&fresh, 6), 0x53e1);
    }

    #[test]
    fn a_partial_sum_follows_the_pseudo_header_without_inverting() {
        let s4 = [198, 51, 100, 2];
        let d4 = [192, 0, 2, 33];
        let s6 = [0x20u8; 16];
        let d6 = [0x31u8; 16];
        let mut l4 = [0x07, 0xd0, 0x0f, 0xa0, 0x00, 0x0c, 0, 0, 0x00, 0x01, 0x02, 0x03];
        let partial4 = checksum::fold(checksum::pseudo_v4(&s4, &d4, UDP, 12));
        l4[6..8].copy_from_slice(&partial4.to_be_bytes());
        update_partial(UDP, &mut l4, checksum::addresses_v4(&s4, &d4), checksum::addresses_v6(&s6, &d6));
        assert_eq!(get16(&l4, 6), checksum::fold(checksum::pseudo_v6(&s6, &d6, UDP, 12)));
        update_partial(TCP, &mut l4, 1, 2);
        assert_eq!(get16(&l4, 6), checksum::fold(checksum::pseudo_v6(&s6, &d6, UDP, 12)), "a field past the end stays");
    }

    #[test]
    fn zero_udp_checksum_and_short_headers_are_left_alone() {
        let mut l4 = [0u8; 8];
        update_checksum(UDP, &mut l4, 1, 2);
        assert_eq!(l4, [0u8; 8]);
        let mut short = [0xffu8; 17];
        update_checksum(TCP, &mut short, 1, 2);
        assert_eq!(short, [0xffu8; 17]);
    }

    #[test]
    fn echo_request_gains_the_ipv6_pseudo_header() {
        let mut msg = [8, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, 0xaa, 0xbb];
        let c = checksum::finish(checksum::sum(&msg));
        msg[2..4].copy_from_slice(&c.to_be_bytes());
        let s6 = [0x20u8; 16];
        let d6 = [0x30u8; 16];
        let pseudo = checksum::pseudo_v6(&s6, &d6, ICMPV6, msg.len() as u32);
        retype_icmp(&mut msg, 128, 0, pseudo);
        assert_eq!(msg[0], 128);
        assert!(checksum::verifies(pseudo + checksum::sum(&msg)));
        retype_icmp(&mut msg, 8, pseudo, 0);
        assert!(checksum::verifies(checksum::sum(&msg)));
    }
}

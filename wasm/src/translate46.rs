//! IPv4 → IPv6 translation (RFC 7915 §4), in place: the payload stays where it is
//! and the IPv6 header is written over the IPv4 header and the headroom before it.

use crate::bytes::get16;
use crate::checksum;
use crate::config::{ErrorSource, UdpZeroChecksum};
use crate::context::Tx;
use crate::counters::Counter;
use crate::icmp::{self, v4_code, Mapping};
use crate::icmp46::{self, Outer6};
use crate::icmp_errors::{self, Reply};
use crate::ipv4::{self, Ipv4Error, Ipv4Fields};
use crate::ipv6::{self, Fragment, Ipv6Out};
use crate::offload;
use crate::protocol::{DSTOPTS, FRAGMENT, HOPOPT, ICMP, ICMPV6, ROUTING, UDP};
use crate::stateful;
use crate::transport;
use crate::verdict::Verdict;

/// Translates the IPv4 packet at `buf[start..start + len]`; `start` must leave at
/// least 28 bytes of headroom. `hairpin` marks the second pass of a hairpin (RFC
/// 7757 §4.2): the TTL was already decremented, the source skips the EAMT, and no
/// ICMPv4 error is sent (its addressee is an IPv6 node). In stateful NAT64 mode
/// (`tx.state`) only packets to pool4 are translated, and the destination and its port
/// come from the binding [`stateful::inbound`] gives. `NAT64` says which (`tx.state`
/// is set for it): the stateless path is compiled without the stateful hooks.
pub fn translate<const NAT64: bool>(tx: &mut Tx, buf: &mut [u8], start: usize, len: usize, hairpin: bool) -> Verdict {
    let ip = match ipv4::parse(&buf[start..start + len]) {
        Ok(ip) => ip,
        Err(Ipv4Error::Checksum) => return Verdict::Drop(Counter::drop_bad_ipv4_checksum),
        Err(Ipv4Error::Malformed) => return Verdict::Drop(Counter::drop_malformed_v4),
    };
    // RFC 7915 §4.1 copies the protocol into Next Header, but 0, 43, 44 and 60 there
    // announce an extension header (RFC 8200 §4) that the IPv4 payload is not.
    if matches!(ip.protocol, HOPOPT | ROUTING | FRAGMENT | DSTOPTS) {
        return Verdict::Drop(Counter::drop_v4_proto_ext_header);
    }
    let payload_at = start + ip.header_len;
    let payload_len = ip.payload_len();
    let first = ip.offset() == 0;
    let icmp_type = if ip.protocol == ICMP && first && payload_len > 0 { Some(buf[payload_at]) } else { None };
    let about_error = icmp_type.map_or(false, icmp::v4_is_error);

    let reply = |ty, code, rest, reason| Reply { ty, code, rest, reason };
    // RFC 7915 §4.4: a discarded packet is answered with Destination Unreachable,
    // Communication Administratively Prohibited, unless it is ICMPv4.
    let any_icmp = ip.protocol == ICMP;
    // Stateful NAT64 takes the destination from the binding (RFC 6146 §3.5), looked up
    // only for a packet to pool4 that passes the checks below.
    if NAT64 && !stateful::serves(tx, ip.dst) {
        return Verdict::Drop(Counter::drop_untranslatable_dst);
    }
    let siit = if NAT64 {
        None
    } else {
        let dst = match tx.map.v4_to_v6(&ip.dst, true) {
            Ok(a) => a,
            Err(e) => {
                let r = reply(icmp::V4_DEST_UNREACH, v4_code::ADMIN_PROHIBITED, 0, e.counter(Counter::drop_untranslatable_dst));
                return answer(tx, buf, start, &ip, any_icmp, hairpin, r);
            }
        };
        // Silently, like the IPv6 side (see `Mapper::refuses_v6_dst`).
        if let Some(reason) = tx.map.refuses_v6_dst(&dst) {
            return Verdict::Drop(reason);
        }
        let src = match tx.map.v4_to_v6(&ip.src, !hairpin) {
            Ok(a) => a,
            Err(e) => match (about_error, tx.map.rfc6791_v6(&ip.src)) {
                (true, Some(a)) => a,
                _ => {
                    let r = reply(icmp::V4_DEST_UNREACH, v4_code::ADMIN_PROHIBITED, 0, e.counter(Counter::drop_untranslatable_src));
                    return answer(tx, buf, start, &ip, any_icmp, hairpin, r);
                }
            },
        };
        Some((dst, src))
    };
    if !hairpin {
        if ip.ttl <= 1 {
            let r = reply(icmp::V4_TIME_EXCEEDED, 0, 0, Counter::drop_ttl_expired);
            return icmp_errors::v4(tx, buf, start, ip.total_len, &ip, about_error, r);
        }
        if ip.header_len > ipv4::HEADER_LEN && ipv4::has_unexpired_source_route(&buf[start + ipv4::HEADER_LEN..payload_at]) {
            let r = reply(icmp::V4_DEST_UNREACH, v4_code::SOURCE_ROUTE_FAILED, 0, Counter::drop_source_route);
            return icmp_errors::v4(tx, buf, start, ip.total_len, &ip, about_error, r);
        }
    }
    let (dst, src) = match siit {
        Some(a) => a,
        None => {
            let b = match stateful::inbound(tx, buf, start, ip, hairpin) {
                Ok(b) => b,
                Err(v) => return v,
            };
            tx.binding = Some(b);
            // A translated ICMPv4 error comes from its sender inside pool6, or from the
            // quoted packet's destination (RFC 6146 §3.6), as configured.
            let from = if about_error && tx.cfg.icmp_error_source == ErrorSource::QuotedDestination { b.remote4 } else { ip.src };
            match tx.map.v4_to_v6(&from, false) {
                Ok(src) => (b.addr6, src),
                Err(e) => return Verdict::Drop(e.counter(Counter::drop_untranslatable_src)),
            }
        }
    };
    let traffic_class = if tx.cfg.zeroize_tc { 0 } else { ip.tos };
    let hop_limit = if hairpin { ip.ttl } else { ip.ttl - 1 };

    let mut icmp_info_type = None;
    if ip.protocol == ICMP {
        if ip.is_fragment() {
            return Verdict::Drop(Counter::drop_fragmented_icmp);
        }
        if payload_len < icmp::HEADER_LEN {
            return Verdict::Drop(Counter::drop_malformed_v4);
        }
        let msg = &buf[payload_at..payload_at + payload_len];
        match icmp::map_v4_to_v6(msg[0], msg[1], msg[4]) {
            Mapping::Drop => return Verdict::Drop(Counter::drop_icmp_untranslatable),
            Mapping::Info(ty) => icmp_info_type = Some(ty),
            Mapping::Error { ty, code, rest } => {
                let outer = Outer6 { src, dst, traffic_class, hop_limit };
                return icmp46::translate_error(tx, buf, payload_at, payload_len, &outer, ty, code, rest, hairpin);
            }
        }
    }

    let mut compute_udp = false;
    // A partial checksum field holds the pseudo-header sum, never "no checksum".
    if ip.protocol == UDP && first && payload_len >= 8 && tx.partial.is_none() && get16(buf, payload_at + 6) == 0 {
        // RFC 7915 §4.5: a zero checksum can only be computed over a whole datagram.
        if ip.is_fragment() || tx.cfg.udp_zero_checksum == UdpZeroChecksum::Drop {
            let r = reply(icmp::V4_DEST_UNREACH, v4_code::ADMIN_PROHIBITED, 0, Counter::drop_udp_zero_checksum);
            return answer(tx, buf, start, &ip, about_error, hairpin, r);
        }
        compute_udp = true;
    }

    let fragment_overhead = if ip.is_fragment() { ipv6::FRAGMENT_LEN } else { 0 };
    let whole = ipv6::HEADER_LEN + fragment_overhead + payload_len;
    // A GSO super-packet (never a fragment) leaves as segments: the MTU is about one.
    let gso = offload::segment_len(tx.partial.as_ref(), ipv6::HEADER_LEN, whole);
    let wire_len = gso.unwrap_or(whole);
    let mtu_v6 = tx.cfg.mtu_v6 as usize;
    let split_mtu = mtu_v6.min(tx.cfg.lowest_ipv6_mtu as usize);
    if ip.df() && wire_len > mtu_v6 {
        // RFC 1191: the MTU the IPv4 sender must use so the translation fits.
        let mtu = (mtu_v6 - ipv6::HEADER_LEN - fragment_overhead + ipv4::HEADER_LEN) as u32;
        let r = reply(icmp::V4_DEST_UNREACH, v4_code::FRAG_NEEDED, mtu, Counter::drop_too_big);
        return answer(tx, buf, start, &ip, about_error, hairpin, r);
    }
    // RFC 7915 §4: DF=0 packets larger than lowest-ipv6-mtu are fragmented, and
    // only fragments carry a Fragment header.
    let split = !ip.df() && wire_len > split_mtu;
    if split {
        // The kernel cuts a super-packet into segments, never into fragments.
        if gso.is_some() {
            return Verdict::Drop(Counter::drop_gso_segment_too_big);
        }
        offload::settle(&mut tx.partial, buf);
    }
    let header_len = ipv6::HEADER_LEN + if ip.is_fragment() || split { ipv6::FRAGMENT_LEN } else { 0 };
    if payload_at < header_len {
        return Verdict::Drop(Counter::drop_no_room);
    }

    let protocol = if ip.protocol == ICMP { ICMPV6 } else { ip.protocol };
    let l4 = &mut buf[payload_at..payload_at + payload_len];
    // Stateful NAT64: the destination port (ICMP: identifier) becomes the binding's x'.
    let port = if NAT64 { tx.binding.map(|b| b.port6) } else { None };
    if let Some(ty) = icmp_info_type {
        let (old, new) = stateful::swap_bound_port(l4, stateful::ECHO_IDENTIFIER, port);
        let pseudo = checksum::pseudo_v6(&src, &dst, ICMPV6, payload_len as u32);
        transport::retype_icmp(l4, ty, old, pseudo + new);
    } else if compute_udp {
        stateful::swap_bound_port(l4, stateful::DESTINATION_PORT, port);
        transport::compute_udp_checksum(l4, checksum::pseudo_v6(&src, &dst, UDP, payload_len as u32));
    } else if first {
        let (old, new) = stateful::swap_bound_port(l4, stateful::DESTINATION_PORT, port);
        let removed = checksum::addresses_v4(&ip.src, &ip.dst);
        let added = checksum::addresses_v6(&src, &dst);
        if tx.partial.is_some() {
            transport::update_partial(ip.protocol, l4, removed, added);
        } else {
            transport::update_checksum(ip.protocol, l4, removed + old, added + new);
        }
    }

    let out_at = payload_at - header_len;
    let out_len = header_len + payload_len;
    let has_fragment_header = header_len > ipv6::HEADER_LEN;
    ipv6::write(&mut buf[out_at..], &Ipv6Out {
        traffic_class,
        payload_len: (out_len - ipv6::HEADER_LEN) as u16,
        next_header: if has_fragment_header { FRAGMENT } else { protocol },
        hop_limit,
        src,
        dst,
    });
    if has_fragment_header {
        let frag = Fragment { offset: ip.offset(), more: ip.mf(), id: ip.id as u32 };
        ipv6::write_fragment(&mut buf[out_at + ipv6::HEADER_LEN..], protocol, &frag);
    }
    if split {
        Verdict::FragmentV6 { start: out_at, len: out_len, mtu: split_mtu }
    } else {
        Verdict::Forward { start: out_at, len: out_len }
    }
}

/// Sends `reply` back to the IPv4 sender, except in a hairpin's second pass, whose
/// "IPv4 sender" is really an IPv6 node: then the packet is only dropped.
fn answer(tx: &mut Tx, buf: &mut [u8], start: usize, ip: &Ipv4Fields, about_error: bool, hairpin: bool, reply: Reply) -> Verdict {
    if hairpin {
        Verdict::Drop(reply.reason)
    } else {
        icmp_errors::v4(tx, buf, start, ip.total_len, ip, about_error, reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::UdpZeroChecksum;
    use crate::ipv6;
    use crate::protocol::TCP;
    use crate::rfc6052;
    use crate::testutil::*;

    #[test]
    fn udp_header_translation() {
        let cfg = graybox_config();
        let mut pkt = udp4(H4, H6_AS_V4, 64, ipv4::DF, 100);
        pkt[1] = 0xb8;
        refresh_v4_checksum(&mut pkt);
        let r = run46(&cfg, &pkt, false);
        assert_eq!(r.verdict, Verdict::Forward { start: 44, len: 148 });
        let out = r.out();
        let h = ipv6::parse(out).unwrap();
        assert_eq!((h.traffic_class, h.payload_len, h.next_header, h.hop_limit), (0xb8, 108, UDP, 63));
        assert_eq!((h.src, h.dst), (H4_AS_V6, H6));
        assert_eq!(&out[1..4], &[0x80, 0, 0], "flow label zero (RFC 7915 §4.1)");
        assert!(v6_l4_ok(out));
        assert_eq!(&out[48..], &pkt[28..], "payload untouched");
    }

    #[test]
    fn tcp_checksum_follows_and_a_bad_one_stays_bad() {
        let cfg = graybox_config();
        let seg = l4(TCP, checksum::pseudo_v4(&H4, &H6_AS_V4, TCP, 24), &[1, 2, 3, 4]);
        let good = v4(H4, H6_AS_V4, TCP, 64, 0, &seg);
        assert!(v6_l4_ok(run46(&cfg, &good, false).out()));
        let mut bad = good.clone();
        bad[40] ^= 0xff;
        assert!(!v6_l4_ok(run46(&cfg, &bad, false).out()));
    }

    #[test]
    fn zeroize_traffic_class_option() {
        let mut cfg = graybox_config();
        cfg.zeroize_tc = true;
        let mut pkt = udp4(H4, H6_AS_V4, 64, 0, 8);
        pkt[1] = 0xb8;
        refresh_v4_checksum(&mut pkt);
        assert_eq!(ipv6::parse(run46(&cfg, &pkt, false).out()).unwrap().traffic_class, 0);
    }

    #[test]
    fn expiring_ttl_sends_time_exceeded() {
        let cfg = graybox_config();
        let pkt = udp4(H4, H6_AS_V4, 1, 0, 8);
        let r = run46(&cfg, &pkt, false);
        assert!(matches!(r.verdict, Verdict::Error { reason: Counter::drop_ttl_expired, .. }));
        let e = r.out();
        let h = ipv4::parse(e).unwrap();
        assert_eq!((h.src, h.dst, h.protocol), ([198, 51, 100, 1], H4, ICMP));
        assert_eq!(&e[20..22], &[11, 0]);
        assert_eq!(&e[28..], &pkt[..]);
        assert!(v4_l4_ok(e));
        // A hairpin's second pass neither decrements nor checks the TTL.
        assert!(matches!(run46(&cfg, &pkt, true).verdict, Verdict::Forward { .. }));
    }

    #[test]
    fn unexpired_source_route_sends_3_5() {
        let cfg = graybox_config();
        let udp = &udp4(H4, H6_AS_V4, 64, 0, 8)[20..];
        let mut pkt = std::vec![0u8; 28];
        pkt.extend_from_slice(udp);
        let opts = [0x83, 7, 4, 192, 0, 2, 1, 0];
        let mut hdr = v4(H4, H6_AS_V4, UDP, 64, 0, udp);
        hdr[0] = 0x47;
        let total = (28 + udp.len()) as u16;
        hdr[2..4].copy_from_slice(&total.to_be_bytes());
        pkt[..20].copy_from_slice(&hdr[..20]);
        pkt[20..28].copy_from_slice(&opts);
        refresh_v4_checksum(&mut pkt);
        let r = run46(&cfg, &pkt, false);
        assert!(matches!(r.verdict, Verdict::Error { reason: Counter::drop_source_route, .. }));
        assert_eq!(&r.out()[20..22], &[3, 5]);
        // Exhausted: translated, options ignored.
        pkt[22] = 8;
        refresh_v4_checksum(&mut pkt);
        let r = run46(&cfg, &pkt, false);
        assert_eq!(r.out().len(), 40 + udp.len());
        assert!(v6_l4_ok(r.out()));
    }

    #[test]
    fn df_packets_too_big_get_fragmentation_needed() {
        let mut cfg = graybox_config();
        cfg.mtu_v6 = 1280;
        let r = run46(&cfg, &udp4(H4, H6_AS_V4, 64, ipv4::DF, 1261 - 28), false);
        assert!(matches!(r.verdict, Verdict::Error { reason: Counter::drop_too_big, .. }));
        assert_eq!(&r.out()[20..22], &[3, 4]);
        assert_eq!(&r.out()[26..28], &1260u16.to_be_bytes());
        assert_eq!(r.out().len(), 576);
        // A fragment gains a Fragment header too, so it must be 8 bytes smaller.
        let r = run46(&cfg, &udp4(H4, H6_AS_V4, 64, ipv4::DF | ipv4::MF, 1261 - 28), false);
        assert_eq!(&r.out()[26..28], &1252u16.to_be_bytes());
        // Exactly fitting passes.
        assert!(matches!(run46(&cfg, &udp4(H4, H6_AS_V4, 64, ipv4::DF, 1260 - 28), false).verdict, Verdict::Forward { len: 1280, .. }));
    }

    #[test]
    fn df_clear_packets_over_lowest_ipv6_mtu_are_fragmented() {
        let cfg = graybox_config();
        let pkt = udp4(H4, H6_AS_V4, 64, 0, 1261 - 28);
        let r = run46(&cfg, &pkt, false);
        assert_eq!(r.verdict, Verdict::FragmentV6 { start: 36, len: 1289, mtu: 1280 });
        let out = r.out();
        assert_eq!(out[6], crate::protocol::FRAGMENT);
        assert_eq!(&out[40..48], &[UDP, 0, 0, 0, 0, 0, 0x12, 0x34]);
        // No Fragment header when it fits (RFC 7915 §4: only fragments carry one).
        let r = run46(&cfg, &udp4(H4, H6_AS_V4, 64, 0, 1260 - 28), false);
        assert_eq!(r.out()[6], UDP);
    }

    #[test]
    fn fragments_keep_offset_and_id_and_later_ones_are_untouched() {
        let cfg = graybox_config();
        let payload: std::vec::Vec<u8> = (0..64).collect();
        let pkt = v4(H4, H6_AS_V4, UDP, 64, ipv4::MF | 3, &payload);
        let r = run46(&cfg, &pkt, false);
        let out = r.out();
        assert_eq!(&out[40..48], &[UDP, 0, 0, 3 << 3 | 1, 0, 0, 0x12, 0x34]);
        assert_eq!(&out[48..], &payload[..]);
    }

    #[test]
    fn zero_udp_checksum_policy() {
        let mut cfg = graybox_config();
        let mut pkt = udp4(H4, H6_AS_V4, 64, 0, 12);
        pkt[26] = 0;
        pkt[27] = 0;
        let r = run46(&cfg, &pkt, false);
        assert!(matches!(r.verdict, Verdict::Error { reason: Counter::drop_udp_zero_checksum, .. }));
        assert_eq!(&r.out()[20..22], &[3, 13]);
        cfg.udp_zero_checksum = UdpZeroChecksum::Compute;
        let r = run46(&cfg, &pkt, false);
        assert!(v6_l4_ok(r.out()));
        // A fragment's checksum covers bytes the translator never sees.
        let frag = v4(H4, H6_AS_V4, UDP, 64, ipv4::MF, &pkt[20..]);
        assert!(matches!(run46(&cfg, &frag, false).verdict, Verdict::Error { reason: Counter::drop_udp_zero_checksum, .. }));
    }

    #[test]
    fn echo_becomes_icmpv6_echo_with_pseudo_header_checksum() {
        let cfg = graybox_config();
        let pkt = v4(H4, H6_AS_V4, ICMP, 64, 0, &echo(8, 0, &[9; 20]));
        let out = run46(&cfg, &pkt, false);
        let out = out.out();
        assert_eq!((out[6], out[40]), (ICMPV6, 128));
        assert!(v6_l4_ok(out));
        let frag = v4(H4, H6_AS_V4, ICMP, 64, ipv4::MF, &echo(8, 0, &[9; 20]));
        assert_eq!(run46(&cfg, &frag, false).verdict, Verdict::Drop(Counter::drop_fragmented_icmp));
        let timestamp = v4(H4, H6_AS_V4, ICMP, 64, 0, &echo(13, 0, &[0; 12]));
        assert_eq!(run46(&cfg, &timestamp, false).verdict, Verdict::Drop(Counter::drop_icmp_untranslatable));
    }

    #[test]
    fn unmapped_addresses_are_dropped_and_counted() {
        let mut cfg = graybox_config();
        cfg.pool6 = None;
        let r = run46(&cfg, &udp4(H4, [10, 0, 0, 1], 64, 0, 8), false);
        assert!(matches!(r.verdict, Verdict::Error { reason: Counter::drop_untranslatable_src, .. }));
        assert_eq!(&r.out()[20..22], &[3, 13], "RFC 7915 §4.4");
        let r = run46(&cfg, &udp4([1, 0, 0, 5], H4, 64, 0, 8), false);
        assert!(matches!(r.verdict, Verdict::Error { reason: Counter::drop_untranslatable_dst, .. }));
        let ping = v4([1, 0, 0, 5], H4, ICMP, 64, 0, &echo(8, 0, &[0; 8]));
        assert_eq!(run46(&cfg, &ping, false).verdict, Verdict::Drop(Counter::drop_untranslatable_dst));
        assert_eq!(run46(&cfg, &udp4([1, 0, 0, 5], H4, 64, 0, 8), true).verdict, Verdict::Drop(Counter::drop_untranslatable_dst));
        cfg.pool6 = Some(rfc6052::WKP);
        let r = run46(&cfg, &udp4([192, 168, 1, 1], [10, 0, 0, 1], 64, 0, 8), false);
        assert!(matches!(r.verdict, Verdict::Error { reason: Counter::drop_wkp_nonglobal, .. }));
    }

    #[test]
    fn malformed_headers_are_dropped() {
        let cfg = graybox_config();
        let mut pkt = udp4(H4, H6_AS_V4, 64, 0, 8);
        assert_eq!(run46(&cfg, &pkt[..19], false).verdict, Verdict::Drop(Counter::drop_malformed_v4));
        pkt[11] ^= 1;
        assert_eq!(run46(&cfg, &pkt, false).verdict, Verdict::Drop(Counter::drop_bad_ipv4_checksum));
    }
}

//! IPv6 → IPv4 translation (RFC 7915 §5), in place: the payload stays where it is
//! and the IPv4 header is written just before it, over the end of the IPv6 headers.

use crate::bytes::get32;
use crate::checksum;
use crate::context::Tx;
use crate::counters::Counter;
use crate::icmp::{self, v6_code, Mapping, IPV6_MIN_MTU};
use crate::icmp64::{self, Outer4};
use crate::icmp_errors::{self, Reply};
use crate::inner::DF_THRESHOLD;
use crate::ipv4::{self, Ipv4Out};
use crate::ipv6::{self, ChainProblem};
use crate::offload;
use crate::protocol::{ICMP, ICMPV6};
use crate::stateful;
use crate::transport;
use crate::verdict::Verdict;

/// Translates the IPv6 packet at `buf[start..start + len]`; `start` must leave at
/// least 48 bytes of headroom for an ICMPv6 error. A packet whose IPv4 destination
/// belongs to the EAMT comes back as [`Verdict::Hairpin`]. In stateful NAT64 mode
/// (`tx.state`) the source and its port come from the binding
/// [`stateful::outbound`] gives, and a destination in pool4 hairpins. `NAT64` says
/// which (`tx.state` is set for it): the stateless path is compiled without the
/// stateful hooks.
pub fn translate<const NAT64: bool>(tx: &mut Tx, buf: &mut [u8], start: usize, len: usize) -> Verdict {
    let pkt = &buf[start..start + len];
    let ip = match ipv6::parse(pkt) {
        Ok(ip) => ip,
        Err(_) => return Verdict::Drop(Counter::drop_malformed_v6),
    };
    let end = ipv6::HEADER_LEN + ip.payload_len;
    let chain = match ipv6::walk(&pkt[..end], ip.next_header) {
        Ok(c) => c,
        Err(_) => return Verdict::Drop(Counter::drop_malformed_v6),
    };
    let first = chain.fragment.map_or(true, |f| f.offset == 0);
    let upper_at = start + chain.upper_at;
    let upper_len = end - chain.upper_at;
    let about_error = chain.protocol == ICMPV6 && first && chain.problem.is_none() && upper_len > 0 && icmp::v6_is_error(buf[upper_at]);

    let reply = |ty, code, rest, reason| Reply { ty, code, rest, reason };
    // RFC 7915 §5.4: a discarded packet is answered, unless it is ICMPv6, with
    // Destination Unreachable: code 5 for an untranslatable source, else code 1.
    let any_icmp = chain.protocol == ICMPV6;
    let dst = match tx.map.v6_to_v4(&ip.dst) {
        Ok(a) => a,
        Err(e) => {
            let r = reply(icmp::V6_DEST_UNREACH, v6_code::ADMIN_PROHIBITED, 0, e.counter(Counter::drop_untranslatable_dst));
            return icmp_errors::v6(tx, buf, start, end, &ip, any_icmp, r);
        }
    };
    // Destinations no client may reach through the translator are dropped without an
    // answer: an error would tell a scanner what is behind it (see `Mapper::refuses_v4_dst`).
    if let Some(reason) = tx.map.refuses_v4_dst(&dst) {
        // RFC 6146 §3.8: a pool4 address hairpins, even when it is also the translator's own.
        let pool4_hairpin = NAT64 && reason == Counter::drop_dst_own_address && stateful::serves(tx, dst);
        if !pool4_hairpin {
            return Verdict::Drop(reason);
        }
    }
    // Stateful NAT64 takes the source from the binding (RFC 6146 §3.5), looked up only
    // for a packet that passes the checks below: one that is answered instead of
    // translated creates no state.
    let siit_src = if NAT64 {
        None
    } else {
        Some(match tx.map.v6_to_v4(&ip.src) {
            Ok(a) => a,
            // RFC 7915 §5.1 / RFC 6791: errors from untranslatable routers use the pool.
            Err(e) => match (about_error, tx.map.rfc6791_v4(&ip.src)) {
                (true, Some(a)) => a,
                _ => {
                    let r = reply(icmp::V6_DEST_UNREACH, v6_code::SOURCE_POLICY, 0, e.counter(Counter::drop_untranslatable_src));
                    return icmp_errors::v6(tx, buf, start, end, &ip, any_icmp, r);
                }
            },
        })
    };
    if ip.hop_limit <= 1 {
        let r = reply(icmp::V6_TIME_EXCEEDED, 0, 0, Counter::drop_ttl_expired);
        return icmp_errors::v6(tx, buf, start, end, &ip, about_error, r);
    }
    match chain.problem {
        Some(ChainProblem::SegmentsLeft { pointer }) => {
            let r = reply(icmp::V6_PARAM_PROBLEM, v6_code::ERRONEOUS_FIELD, pointer as u32, Counter::drop_routing_header);
            return icmp_errors::v6(tx, buf, start, end, &ip, about_error, r);
        }
        Some(ChainProblem::AfterFragment) => {
            let r = reply(icmp::V6_DEST_UNREACH, v6_code::ADMIN_PROHIBITED, 0, Counter::drop_ext_after_fragment);
            return icmp_errors::v6(tx, buf, start, end, &ip, about_error, r);
        }
        None => {}
    }
    let (src, hairpin) = match siit_src {
        Some(a) => (a, tx.map.hairpins(&dst)),
        None => match stateful::outbound(tx, buf, start, len, chain, dst) {
            Ok(b) => {
                tx.binding = Some(b);
                (b.addr4, b.hairpin)
            }
            Err(v) => return v,
        },
    };
    let tos = tx.cfg.tos_v4.unwrap_or(ip.traffic_class);
    let ttl = ip.hop_limit - 1;
    let fragment_fields = chain.fragment.map(|f| (f.id as u16, (if f.more { ipv4::MF } else { 0 }) | f.offset));

    let mut icmp_info_type = None;
    if chain.protocol == ICMPV6 {
        if chain.fragment.map_or(false, |f| f.is_fragmented()) {
            return Verdict::Drop(Counter::drop_fragmented_icmp);
        }
        if upper_len < icmp::HEADER_LEN {
            return Verdict::Drop(Counter::drop_malformed_v6);
        }
        let msg = &buf[upper_at..upper_at + upper_len];
        match icmp::map_v6_to_v4(msg[0], msg[1], get32(msg, 4)) {
            Mapping::Drop => return Verdict::Drop(Counter::drop_icmp_untranslatable),
            Mapping::Info(ty) => icmp_info_type = Some(ty),
            Mapping::Error { ty, code, rest } => {
                let outer = Outer4 { src, dst, src6: ip.src, dst6: ip.dst, tos, ttl, id_flags: fragment_fields };
                return match icmp64::translate_error(tx, buf, upper_at, upper_len, &outer, ty, code, rest) {
                    Verdict::Forward { start, len } if hairpin => Verdict::Hairpin { start, len },
                    v => v,
                };
            }
        }
    }

    let out_len = ipv4::HEADER_LEN + upper_len;
    // A GSO super-packet leaves as segments (see `offload`): DF (RFC 7915 §5.1) and the
    // next-hop MTU are about one of them.
    let gso = offload::segment_len(tx.partial.as_ref(), ipv4::HEADER_LEN, out_len);
    let wire_len = gso.unwrap_or(out_len);
    let df = chain.fragment.is_none() && wire_len > DF_THRESHOLD;
    let mtu_v4 = tx.cfg.mtu_v4 as usize;
    let mut split = false;
    if out_len > 0xffff {
        return Verdict::Drop(if gso.is_some() { Counter::drop_gso_too_long } else { Counter::drop_too_big });
    }
    if !hairpin && wire_len > mtu_v4 {
        // A Packet Too Big helps when it can carry an MTU of at least 1280; below
        // that IPv6 senders stop shrinking (RFC 8201 §4), so DF=0 packets are
        // fragmented for the IPv4 link instead (RFC 7915 §1.3: act as a router).
        if df || mtu_v4 + ipv6::HEADER_LEN - ipv4::HEADER_LEN >= IPV6_MIN_MTU as usize {
            let mtu = ((mtu_v4 + ipv6::HEADER_LEN - ipv4::HEADER_LEN) as u32).max(IPV6_MIN_MTU);
            let r = reply(icmp::V6_PACKET_TOO_BIG, 0, mtu, Counter::drop_too_big);
            return icmp_errors::v6(tx, buf, start, end, &ip, about_error, r);
        }
        // The kernel cuts a super-packet into segments, never into fragments.
        if gso.is_some() {
            return Verdict::Drop(Counter::drop_gso_segment_too_big);
        }
        offload::settle(&mut tx.partial, buf);
        split = true;
    }

    let l4 = &mut buf[upper_at..upper_at + upper_len];
    // Stateful NAT64: the source port (ICMP: identifier) becomes the binding's x.
    let port = if NAT64 { tx.binding.map(|b| b.port4) } else { None };
    if let Some(ty) = icmp_info_type {
        let (old, new) = stateful::swap_bound_port(l4, stateful::ECHO_IDENTIFIER, port);
        let pseudo = checksum::pseudo_v6(&ip.src, &ip.dst, ICMPV6, upper_len as u32);
        transport::retype_icmp(l4, ty, pseudo + old, new);
    } else if first {
        let (old, new) = stateful::swap_bound_port(l4, stateful::SOURCE_PORT, port);
        let removed = checksum::addresses_v6(&ip.src, &ip.dst);
        let added = checksum::addresses_v4(&src, &dst);
        if tx.partial.is_some() {
            transport::update_partial(chain.protocol, l4, removed, added);
        } else {
            transport::update_checksum(chain.protocol, l4, removed + old, added + new);
        }
    }
    let (id, flags_offset) = match fragment_fields {
        Some(v) => v,
        None => (tx.ids.next(), if df { ipv4::DF } else { 0 }),
    };
    let out_at = upper_at - ipv4::HEADER_LEN;
    ipv4::write(&mut buf[out_at..], &Ipv4Out {
        tos,
        total_len: out_len as u16,
        id,
        flags_offset,
        ttl,
        protocol: if chain.protocol == ICMPV6 { ICMP } else { chain.protocol },
        src,
        dst,
    });
    if hairpin {
        Verdict::Hairpin { start: out_at, len: out_len }
    } else if split {
        Verdict::FragmentV4 { start: out_at, len: out_len, mtu: mtu_v4 }
    } else {
        Verdict::Forward { start: out_at, len: out_len }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{DSTOPTS, FRAGMENT, HOPOPT, ROUTING, UDP};
    use crate::testutil::*;

    #[test]
    fn udp_with_skipped_extension_headers() {
        let cfg = graybox_config();
        let seg = l4(UDP, checksum::pseudo_v6(&H6, &H4_AS_V6, UDP, 12), &[1, 2, 3, 4]);
        let exts = [DSTOPTS, 0, 1, 4, 0, 0, 0, 0, ROUTING, 0, 1, 4, 0, 0, 0, 0, UDP, 0, 0, 0, 0, 0, 0, 0];
        let mut pkt = v6(H6, H4_AS_V6, HOPOPT, 64, &exts, &seg);
        pkt[0] = 0x6b;
        pkt[1] = 0x80;
        let r = run64(&cfg, &pkt);
        let out = r.out();
        let h = ipv4::parse(out).unwrap();
        assert_eq!((h.tos, h.total_len, h.ttl, h.protocol, h.src, h.dst), (0xb8, 32, 63, UDP, H6_AS_V4, H4));
        assert!(!h.df() && !h.is_fragment(), "DF clear at or below 1260 bytes");
        assert!(v4_l4_ok(out));
    }

    #[test]
    fn df_set_above_1260_bytes_and_tos_option() {
        let mut cfg = graybox_config();
        let big = udp6(H6, H4_AS_V6, 64, 1261 - 28);
        assert!(ipv4::parse(run64(&cfg, &big).out()).unwrap().df());
        let small = udp6(H6, H4_AS_V6, 64, 1260 - 28);
        assert!(!ipv4::parse(run64(&cfg, &small).out()).unwrap().df());
        cfg.tos_v4 = Some(0x20);
        assert_eq!(ipv4::parse(run64(&cfg, &small).out()).unwrap().tos, 0x20);
    }

    #[test]
    fn fragment_header_becomes_ipv4_fragment_fields() {
        let cfg = graybox_config();
        let frag = [UDP, 0, 0x04, 0xb9, 0x87, 0x65, 0x43, 0x21];
        let pkt = v6(H6, H4_AS_V6, FRAGMENT, 64, &frag, &[7; 40]);
        let h = ipv4::parse(run64(&cfg, &pkt).out()).unwrap();
        assert_eq!((h.id, h.mf(), h.offset(), h.df(), h.total_len), (0x4321, true, 0x97, false, 60));
    }

    #[test]
    fn routing_header_with_segments_left_gets_parameter_problem() {
        let cfg = graybox_config();
        let exts = [UDP, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let pkt = v6(H6, H4_AS_V6, ROUTING, 64, &exts, &[0; 8]);
        let r = run64(&cfg, &pkt);
        assert!(matches!(r.verdict, Verdict::Error { reason: Counter::drop_routing_header, .. }));
        let e = r.out();
        assert_eq!(&e[40..42], &[4, 0]);
        assert_eq!(&e[44..48], &43u32.to_be_bytes(), "points at Segments Left");
        assert_eq!(ipv6::parse(e).unwrap().dst, H6);
        assert!(v6_l4_ok(e));
    }

    #[test]
    fn extension_after_fragment_header_gets_1_1() {
        let cfg = graybox_config();
        let exts = [DSTOPTS, 0, 0, 0, 0, 0, 0, 1, UDP, 0, 1, 4, 0, 0, 0, 0];
        let pkt = v6(H6, H4_AS_V6, FRAGMENT, 64, &exts, &[0; 8]);
        let r = run64(&cfg, &pkt);
        assert!(matches!(r.verdict, Verdict::Error { reason: Counter::drop_ext_after_fragment, .. }));
        assert_eq!(&r.out()[40..42], &[1, 1]);
    }

    #[test]
    fn expiring_hop_limit_sends_time_exceeded() {
        let cfg = graybox_config();
        let pkt = udp6(H6, H4_AS_V6, 1, 8);
        let r = run64(&cfg, &pkt);
        assert!(matches!(r.verdict, Verdict::Error { reason: Counter::drop_ttl_expired, .. }));
        assert_eq!(&r.out()[40..42], &[3, 0]);
        assert_eq!(&r.out()[48..], &pkt[..]);
    }

    #[test]
    fn too_big_for_ipv4_next_hop() {
        let mut cfg = graybox_config();
        cfg.mtu_v4 = 1400;
        let r = run64(&cfg, &udp6(H6, H4_AS_V6, 64, 1401 - 28));
        assert!(matches!(r.verdict, Verdict::Error { reason: Counter::drop_too_big, .. }));
        assert_eq!(&r.out()[40..42], &[2, 0]);
        assert_eq!(&r.out()[44..48], &1420u32.to_be_bytes());
        assert_eq!(r.out().len(), 1280);
        // Below 1260 a PTB cannot help (IPv6 never goes under 1280): DF=0 packets are
        // fragmented for the IPv4 link, DF=1 ones get a PTB of 1280.
        cfg.mtu_v4 = 1000;
        let r = run64(&cfg, &udp6(H6, H4_AS_V6, 64, 1100));
        assert!(matches!(r.verdict, Verdict::FragmentV4 { mtu: 1000, .. }));
        let r = run64(&cfg, &udp6(H6, H4_AS_V6, 64, 1300));
        assert_eq!(&r.out()[44..48], &1280u32.to_be_bytes());
    }

    #[test]
    fn eamt_destination_hairpins() {
        let cfg = graybox_config();
        let src = a6([0x2001, 0xdb8, 3, 0, 0, 0, 0, 8]);
        let dst = a6([0x2001, 0xdb8, 0x101, 0, 9, 0, 0, 0]);
        let r = run64(&cfg, &udp6(src, dst, 64, 4));
        assert!(matches!(r.verdict, Verdict::Hairpin { .. }));
        let h = ipv4::parse(r.out()).unwrap();
        assert_eq!((h.src, h.dst), ([1, 0, 0, 8], [1, 0, 0, 9]));
    }

    #[test]
    fn echo_and_informational_icmpv6() {
        let cfg = graybox_config();
        let req = echo(128, checksum::pseudo_v6(&H6, &H4_AS_V6, ICMPV6, 28), &[5; 20]);
        let r = run64(&cfg, &v6(H6, H4_AS_V6, ICMPV6, 64, &[], &req));
        assert_eq!(r.out()[20], 8);
        assert!(v4_l4_ok(r.out()));
        let mld = echo(130, 0, &[0; 16]);
        assert_eq!(run64(&cfg, &v6(H6, H4_AS_V6, ICMPV6, 64, &[], &mld)).verdict, Verdict::Drop(Counter::drop_icmp_untranslatable));
    }

    #[test]
    fn untranslatable_sources() {
        let mut cfg = graybox_config();
        let router = a6([0x4000, 0, 0, 0, 0, 0, 0, 1]);
        // RFC 7915 §5.4: Destination Unreachable, code 5 for the source, 1 for the destination.
        let r = run64(&cfg, &udp6(router, H4_AS_V6, 64, 8));
        assert!(matches!(r.verdict, Verdict::Error { reason: Counter::drop_untranslatable_src, .. }));
        assert_eq!((&r.out()[40..42], ipv6::parse(r.out()).unwrap().dst), (&[1u8, 5][..], router));
        let r = run64(&cfg, &udp6(H6, router, 64, 8));
        assert!(matches!(r.verdict, Verdict::Error { reason: Counter::drop_untranslatable_dst, .. }));
        assert_eq!(&r.out()[40..42], &[1, 1]);
        // ... but never about an ICMPv6 message.
        let ping = v6(router, H4_AS_V6, ICMPV6, 64, &[], &echo(128, 0, &[0; 8]));
        assert_eq!(run64(&cfg, &ping).verdict, Verdict::Drop(Counter::drop_untranslatable_src));
        // An ICMPv6 error from an untranslatable router takes an RFC 6791 address.
        let quoted = udp6(H4_AS_V6, H6, 63, 8);
        let mut err = std::vec![1, 4, 0, 0, 0, 0, 0, 0];
        err.extend_from_slice(&quoted);
        let c = checksum::finish(checksum::pseudo_v6(&router, &H4_AS_V6, ICMPV6, err.len() as u32) + checksum::sum(&err));
        err[2..4].copy_from_slice(&c.to_be_bytes());
        let pkt = v6(router, H4_AS_V6, ICMPV6, 64, &[], &err);
        cfg.rfc6791_v4 = Some(crate::prefix::Prefix4 { addr: [203, 0, 113, 8], len: 32 });
        let r = run64(&cfg, &pkt);
        let h = ipv4::parse(r.out()).unwrap();
        assert_eq!((h.src, h.dst), ([203, 0, 113, 8], H4));
        assert_eq!(&r.out()[20..22], &[3, 3]);
        assert!(v4_l4_ok(r.out()));
        // No error is ever sent about an ICMPv6 error.
        let mut expiring = pkt.clone();
        expiring[7] = 1;
        cfg.rfc6791_v4 = None;
        cfg.own_ipv4 = None;
        assert_eq!(run64(&cfg, &pkt).verdict, Verdict::Drop(Counter::drop_untranslatable_src));
        cfg.own_ipv4 = Some([198, 51, 100, 1]);
        assert_eq!(run64(&cfg, &expiring).verdict, Verdict::Drop(Counter::drop_ttl_expired));
    }

    #[test]
    fn malformed_packets_are_dropped() {
        let cfg = graybox_config();
        let pkt = udp6(H6, H4_AS_V6, 64, 8);
        assert_eq!(run64(&cfg, &pkt[..39]).verdict, Verdict::Drop(Counter::drop_malformed_v6));
        assert_eq!(run64(&cfg, &pkt[..47]).verdict, Verdict::Drop(Counter::drop_malformed_v6));
        let cut = v6(H6, H4_AS_V6, DSTOPTS, 64, &[UDP, 4, 0, 0, 0, 0, 0, 0], &[]);
        assert_eq!(run64(&cfg, &cut).verdict, Verdict::Drop(Counter::drop_malformed_v6));
    }
}

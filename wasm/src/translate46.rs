//! IPv4 → IPv6 translation (RFC 7915 §4), in place: the payload stays where it is
//! and the IPv6 header is written over the IPv4 header and the headroom before it.

use crate::bytes::get16;
use crate::checksum;
use crate::config::UdpZeroChecksum;
use crate::context::Tx;
use crate::counters::Counter;
use crate::icmp::{self, v4_code, Mapping};
use crate::icmp46::{self, Outer6};
use crate::icmp_errors::{self, Reply};
use crate::ipv4::{self, Ipv4Error, Ipv4Fields};
use crate::ipv6::{self, Fragment, Ipv6Out};
use crate::mapping::MapError;
use crate::protocol::{FRAGMENT, ICMP, ICMPV6, UDP};
use crate::transport;
use crate::verdict::Verdict;

/// Translates the IPv4 packet at `buf[start..start + len]`; `start` must leave at
/// least 28 bytes of headroom. `hairpin` marks the second pass of a hairpin (RFC
/// 7757 §4.2): the TTL was already decremented, the source skips the EAMT, and no
/// ICMPv4 error is sent (its addressee is an IPv6 node).
pub fn translate(tx: &mut Tx, buf: &mut [u8], start: usize, len: usize, hairpin: bool) -> Verdict {
    let ip = match ipv4::parse(&buf[start..start + len]) {
        Ok(ip) => ip,
        Err(Ipv4Error::Checksum) => return Verdict::Drop(Counter::drop_bad_ipv4_checksum),
        Err(Ipv4Error::Malformed) => return Verdict::Drop(Counter::drop_malformed_v4),
    };
    let payload_at = start + ip.header_len;
    let payload_len = ip.payload_len();
    let first = ip.offset() == 0;
    let icmp_type = if ip.protocol == ICMP && first && payload_len > 0 { Some(buf[payload_at]) } else { None };
    let about_error = icmp_type.map_or(false, icmp::v4_is_error);

    let dst = match tx.map.v4_to_v6(&ip.dst, true) {
        Ok(a) => a,
        Err(e) => return Verdict::Drop(map_drop(e, Counter::drop_untranslatable_dst)),
    };
    let src = match tx.map.v4_to_v6(&ip.src, !hairpin) {
        Ok(a) => a,
        Err(e) => match (about_error, tx.map.rfc6791_v6(&ip.src)) {
            (true, Some(a)) => a,
            _ => return Verdict::Drop(map_drop(e, Counter::drop_untranslatable_src)),
        },
    };
    let reply = |ty, code, rest, reason| Reply { ty, code, rest, reason };
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
    if ip.protocol == UDP && first && payload_len >= 8 && get16(buf, payload_at + 6) == 0 {
        // RFC 7915 §4.5: a zero checksum can only be computed over a whole datagram.
        if ip.is_fragment() || tx.cfg.udp_zero_checksum == UdpZeroChecksum::Drop {
            let r = reply(icmp::V4_DEST_UNREACH, v4_code::ADMIN_PROHIBITED, 0, Counter::drop_udp_zero_checksum);
            return answer(tx, buf, start, &ip, about_error, hairpin, r);
        }
        compute_udp = true;
    }

    let fragment_overhead = if ip.is_fragment() { ipv6::FRAGMENT_LEN } else { 0 };
    let whole = ipv6::HEADER_LEN + fragment_overhead + payload_len;
    let mtu_v6 = tx.cfg.mtu_v6 as usize;
    let split_mtu = mtu_v6.min(tx.cfg.lowest_ipv6_mtu as usize);
    if ip.df() && whole > mtu_v6 {
        // RFC 1191: the MTU the IPv4 sender must use so the translation fits.
        let mtu = (mtu_v6 - ipv6::HEADER_LEN - fragment_overhead + ipv4::HEADER_LEN) as u32;
        let r = reply(icmp::V4_DEST_UNREACH, v4_code::FRAG_NEEDED, mtu, Counter::drop_too_big);
        return answer(tx, buf, start, &ip, about_error, hairpin, r);
    }
    // RFC 7915 §4: DF=0 packets larger than lowest-ipv6-mtu are fragmented, and
    // only fragments carry a Fragment header.
    let split = !ip.df() && whole > split_mtu;
    let header_len = ipv6::HEADER_LEN + if ip.is_fragment() || split { ipv6::FRAGMENT_LEN } else { 0 };
    if payload_at < header_len {
        return Verdict::Drop(Counter::drop_no_room);
    }

    let protocol = if ip.protocol == ICMP { ICMPV6 } else { ip.protocol };
    let l4 = &mut buf[payload_at..payload_at + payload_len];
    if let Some(ty) = icmp_info_type {
        let pseudo = checksum::pseudo_v6(&src, &dst, ICMPV6, payload_len as u32);
        transport::retype_icmp(l4, ty, 0, pseudo);
    } else if compute_udp {
        transport::compute_udp_checksum(l4, checksum::pseudo_v6(&src, &dst, UDP, payload_len as u32));
    } else if first {
        let removed = checksum::sum(&ip.src) + checksum::sum(&ip.dst);
        let added = checksum::sum(&src) + checksum::sum(&dst);
        transport::update_checksum(ip.protocol, l4, removed, added);
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

/// The drop counter for an address that could not be mapped.
pub fn map_drop(e: MapError, untranslatable: Counter) -> Counter {
    match e {
        MapError::NoMapping => untranslatable,
        MapError::NonGlobalWkp => Counter::drop_wkp_nonglobal,
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

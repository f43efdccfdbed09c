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
use crate::protocol::{ICMP, ICMPV6};
use crate::translate46::map_drop;
use crate::transport;
use crate::verdict::Verdict;

/// Translates the IPv6 packet at `buf[start..start + len]`; `start` must leave at
/// least 48 bytes of headroom for an ICMPv6 error. A packet whose IPv4 destination
/// belongs to the EAMT comes back as [`Verdict::Hairpin`].
pub fn translate(tx: &mut Tx, buf: &mut [u8], start: usize, len: usize) -> Verdict {
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

    let dst = match tx.map.v6_to_v4(&ip.dst) {
        Ok(a) => a,
        Err(e) => return Verdict::Drop(map_drop(e, Counter::drop_untranslatable_dst)),
    };
    let src = match tx.map.v6_to_v4(&ip.src) {
        Ok(a) => a,
        // RFC 7915 §5.1 / RFC 6791: errors from untranslatable routers use the pool.
        Err(e) => match (about_error, tx.map.rfc6791_v4(&ip.src)) {
            (true, Some(a)) => a,
            _ => return Verdict::Drop(map_drop(e, Counter::drop_untranslatable_src)),
        },
    };
    let reply = |ty, code, rest, reason| Reply { ty, code, rest, reason };
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
    let tos = tx.cfg.tos_v4.unwrap_or(ip.traffic_class);
    let ttl = ip.hop_limit - 1;
    let hairpin = tx.map.hairpins(&dst);
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
    let df = chain.fragment.is_none() && out_len > DF_THRESHOLD;
    let mtu_v4 = tx.cfg.mtu_v4 as usize;
    let mut split = false;
    if out_len > 0xffff {
        return Verdict::Drop(Counter::drop_too_big);
    }
    if !hairpin && out_len > mtu_v4 {
        // A Packet Too Big helps when it can carry an MTU of at least 1280; below
        // that IPv6 senders stop shrinking (RFC 8201 §4), so DF=0 packets are
        // fragmented for the IPv4 link instead (RFC 7915 §1.3: act as a router).
        if df || mtu_v4 + ipv6::HEADER_LEN - ipv4::HEADER_LEN >= IPV6_MIN_MTU as usize {
            let mtu = ((mtu_v4 + ipv6::HEADER_LEN - ipv4::HEADER_LEN) as u32).max(IPV6_MIN_MTU);
            let r = reply(icmp::V6_PACKET_TOO_BIG, 0, mtu, Counter::drop_too_big);
            return icmp_errors::v6(tx, buf, start, end, &ip, about_error, r);
        }
        split = true;
    }

    let l4 = &mut buf[upper_at..upper_at + upper_len];
    if let Some(ty) = icmp_info_type {
        let pseudo = checksum::pseudo_v6(&ip.src, &ip.dst, ICMPV6, upper_len as u32);
        transport::retype_icmp(l4, ty, pseudo, 0);
    } else if first {
        let removed = checksum::sum(&ip.src) + checksum::sum(&ip.dst);
        let added = checksum::sum(&src) + checksum::sum(&dst);
        transport::update_checksum(chain.protocol, l4, removed, added);
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

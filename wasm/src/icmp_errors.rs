//! ICMP errors the translator sends itself, back to the sender of a packet it
//! will not translate. The error is built in place: its headers go in the bytes in
//! front of the offending packet (the slot headroom), which becomes the quoted
//! datagram, cut to the size limit of the family. A partial checksum (TUN offloads)
//! is completed before it is quoted.

use crate::bytes::put32;
use crate::checksum;
use crate::context::Tx;
use crate::counters::Counter;
use crate::icmp;
use crate::ipv4::{self, Ipv4Fields, Ipv4Out};
use crate::ipv6::{self, Ipv6Fields, Ipv6Out};
use crate::offload;
use crate::protocol::{ICMP, ICMPV6};
use crate::verdict::Verdict;

/// Largest ICMPv4 error: RFC 1812 §4.3.2.3.
pub const V4_ERROR_MAX: usize = 576;
/// Largest ICMPv6 error: the IPv6 minimum MTU (RFC 4443 §2.4(c)).
pub const V6_ERROR_MAX: usize = 1280;
/// Bytes an ICMPv4 error adds in front of the quoted packet.
pub const V4_OVERHEAD: usize = ipv4::HEADER_LEN + icmp::HEADER_LEN;
/// Bytes an ICMPv6 error adds in front of the quoted packet.
pub const V6_OVERHEAD: usize = ipv6::HEADER_LEN + icmp::HEADER_LEN;
/// Initial TTL / Hop Limit of generated errors.
const HOP_LIMIT: u8 = 64;
/// TOS of generated ICMPv4 errors: precedence 6, internetwork control (RFC 1812 §4.3.2.5).
const TOS_INTERNETWORK_CONTROL: u8 = 0xc0;

/// True when RFC 1812 §4.3.2.7 lets a router answer this IPv4 packet with an ICMP
/// error: not about an ICMP error, not a non-initial fragment, from a unicast
/// source, to a destination that is neither broadcast nor multicast.
pub fn may_answer_v4(ip: &Ipv4Fields, about_error: bool) -> bool {
    let src = ip.src[0];
    let unicast_src = src != 0 && src != 127 && src < 224;
    !about_error && ip.offset() == 0 && unicast_src && ip.dst[0] < 224
}

/// True when RFC 4443 §2.4(e) lets a node answer this IPv6 packet with an ICMPv6
/// error: not about an ICMPv6 error, not from the unspecified or a multicast
/// address, not to a multicast address.
pub fn may_answer_v6(ip: &Ipv6Fields, about_error: bool) -> bool {
    !about_error && ip.src != [0u8; 16] && ip.src[0] != 0xff && ip.dst[0] != 0xff
}

/// The error to send and the reason the offending packet is dropped.
#[derive(Clone, Copy, Debug)]
pub struct Reply {
    /// ICMP type.
    pub ty: u8,
    /// ICMP code.
    pub code: u8,
    /// Bytes 4..8 of the ICMP header (MTU, pointer, or zero).
    pub rest: u32,
    /// Drop counter of the offending packet.
    pub reason: Counter,
}

/// Answers the IPv4 packet at `buf[start..start + len]` with the ICMPv4 error
/// `reply`, sourced from the translator's own IPv4 address. Without a source
/// address, or when the packet may not be answered, the packet is only dropped.
pub fn v4(tx: &mut Tx, buf: &mut [u8], start: usize, len: usize, ip: &Ipv4Fields, about_error: bool, reply: Reply) -> Verdict {
    match tx.cfg.own_ipv4 {
        Some(src) => v4_from(tx, buf, start, len, ip, about_error, reply, src),
        None => Verdict::Drop(reply.reason),
    }
}

/// [`v4`] with the error sourced from `src`: a stateful NAT64 answers for its pool4
/// address as the host that address stands for would (RFC 6146 §3.5: port unreachable).
#[allow(clippy::too_many_arguments)]
pub fn v4_from(tx: &mut Tx, buf: &mut [u8], start: usize, len: usize, ip: &Ipv4Fields, about_error: bool, reply: Reply, src: [u8; 4]) -> Verdict {
    let Reply { ty, code, rest, reason } = reply;
    if !may_answer_v4(ip, about_error) || start < V4_OVERHEAD || !tx.may_send_error() {
        return Verdict::Drop(reason);
    }
    // The quote shows the packet as it would have left, its checksum complete.
    offload::settle(&mut tx.partial, buf);
    let quoted = len.min(V4_ERROR_MAX - V4_OVERHEAD);
    let at = start - V4_OVERHEAD;
    let total = V4_OVERHEAD + quoted;
    let id = tx.ids.next();
    let out = &mut buf[at..at + total];
    ipv4::write(out, &Ipv4Out {
        tos: TOS_INTERNETWORK_CONTROL,
        total_len: total as u16,
        id,
        flags_offset: 0,
        ttl: HOP_LIMIT,
        protocol: ICMP,
        src,
        dst: ip.src,
    });
    let msg = &mut out[ipv4::HEADER_LEN..];
    msg[0] = ty;
    msg[1] = code;
    msg[2] = 0;
    msg[3] = 0;
    put32(msg, 4, rest);
    let c = checksum::finish(checksum::sum(msg));
    msg[2..4].copy_from_slice(&c.to_be_bytes());
    Verdict::Error { start: at, len: total, reason }
}

/// Answers the IPv6 packet at `buf[start..start + len]` with the ICMPv6 error
/// `reply`, like [`v4`], sourced from the translator's own IPv6 address.
pub fn v6(tx: &mut Tx, buf: &mut [u8], start: usize, len: usize, ip: &Ipv6Fields, about_error: bool, reply: Reply) -> Verdict {
    let Reply { ty, code, rest, reason } = reply;
    let src = match tx.cfg.own_ipv6 {
        Some(a) => a,
        None => return Verdict::Drop(reason),
    };
    if !may_answer_v6(ip, about_error) || start < V6_OVERHEAD || !tx.may_send_error() {
        return Verdict::Drop(reason);
    }
    offload::settle(&mut tx.partial, buf);
    let quoted = len.min(V6_ERROR_MAX - V6_OVERHEAD);
    let at = start - V6_OVERHEAD;
    let total = V6_OVERHEAD + quoted;
    let out = &mut buf[at..at + total];
    let payload_len = (total - ipv6::HEADER_LEN) as u32;
    ipv6::write(out, &Ipv6Out {
        traffic_class: 0,
        payload_len: payload_len as u16,
        next_header: ICMPV6,
        hop_limit: HOP_LIMIT,
        src,
        dst: ip.src,
    });
    let msg = &mut out[ipv6::HEADER_LEN..];
    msg[0] = ty;
    msg[1] = code;
    msg[2] = 0;
    msg[3] = 0;
    put32(msg, 4, rest);
    let c = checksum::finish(checksum::pseudo_v6(&src, &ip.src, ICMPV6, payload_len) + checksum::sum(msg));
    msg[2..4].copy_from_slice(&c.to_be_bytes());
    Verdict::Error { start: at, len: total, reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::context::SCRATCH_LEN;
    use crate::ipid::IdGen;
    use crate::ratelimit::TokenBucket;
    extern crate std;
    use std::vec;

    fn v4_packet(len: usize) -> std::vec::Vec<u8> {
        let mut p = vec![0u8; len];
        ipv4::write(&mut p, &Ipv4Out {
            tos: 0,
            total_len: len as u16,
            id: 1,
            flags_offset: 0,
            ttl: 1,
            protocol: 17,
            src: [198, 51, 100, 2],
            dst: [192, 0, 2, 33],
        });
        p
    }

    #[test]
    fn icmpv4_error_quotes_up_to_576_bytes() {
        let mut cfg = Config::defaults();
        cfg.own_ipv4 = Some([198, 51, 100, 1]);
        let mut ids = IdGen::new();
        let mut scratch = [0u8; SCRATCH_LEN];
        let mut bucket = TokenBucket::new();
        let mut tx = Tx::new(&cfg, &mut ids, &mut scratch, &mut bucket, 0.0);
        let pkt = v4_packet(1000);
        let mut buf = vec![0u8; 64 + 1000];
        buf[64..].copy_from_slice(&pkt);
        let ip = ipv4::parse(&pkt).unwrap();
        let v = v4(&mut tx, &mut buf, 64, 1000, &ip, false, Reply { ty: 11, code: 0, rest: 0, reason: Counter::drop_ttl_expired });
        assert_eq!(v, Verdict::Error { start: 36, len: 576, reason: Counter::drop_ttl_expired });
        let e = &buf[36..36 + 576];
        let outer = ipv4::parse(e).unwrap();
        assert_eq!((outer.src, outer.dst, outer.ttl, outer.protocol), ([198, 51, 100, 1], [198, 51, 100, 2], 64, 1));
        assert_eq!(&e[20..22], &[11, 0]);
        assert!(checksum::verifies(checksum::sum(&e[20..])));
        assert_eq!(&e[28..28 + 20], &pkt[..20]);
    }

    #[test]
    fn icmpv6_error_quotes_up_to_1280_bytes_and_verifies() {
        let mut cfg = Config::defaults();
        cfg.own_ipv6 = Some([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        let mut ids = IdGen::new();
        let mut scratch = [0u8; SCRATCH_LEN];
        let mut bucket = TokenBucket::new();
        let mut tx = Tx::new(&cfg, &mut ids, &mut scratch, &mut bucket, 0.0);
        let mut buf = vec![0u8; 64 + 1400];
        let src = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
        ipv6::write(&mut buf[64..], &Ipv6Out { traffic_class: 0, payload_len: 1360, next_header: 17, hop_limit: 1, src, dst: [0x20; 16] });
        let ip = ipv6::parse(&buf[64..]).unwrap();
        let v = v6(&mut tx, &mut buf, 64, 1400, &ip, false, Reply { ty: 3, code: 0, rest: 0, reason: Counter::drop_ttl_expired });
        assert_eq!(v, Verdict::Error { start: 16, len: 1280, reason: Counter::drop_ttl_expired });
        let e = &buf[16..16 + 1280];
        let outer = ipv6::parse(e).unwrap();
        assert_eq!(outer.dst, src);
        let sum = checksum::pseudo_v6(&outer.src, &outer.dst, ICMPV6, 1240) + checksum::sum(&e[40..]);
        assert!(checksum::verifies(sum));
    }

    #[test]
    fn never_answers_errors_fragments_or_group_addresses() {
        let mut ip = ipv4::parse(&v4_packet(40)).unwrap();
        assert!(may_answer_v4(&ip, false));
        assert!(!may_answer_v4(&ip, true));
        ip.flags_offset = 5;
        assert!(!may_answer_v4(&ip, false));
        ip.flags_offset = ipv4::MF;
        assert!(may_answer_v4(&ip, false));
        ip.dst = [224, 0, 0, 1];
        assert!(!may_answer_v4(&ip, false));
        ip.dst = [192, 0, 2, 1];
        ip.src = [0, 0, 0, 0];
        assert!(!may_answer_v4(&ip, false));

        let mut buf = [0u8; 48];
        ipv6::write(&mut buf, &Ipv6Out { traffic_class: 0, payload_len: 8, next_header: 17, hop_limit: 1, src: [0x20; 16], dst: [0xff; 16] });
        assert!(!may_answer_v6(&ipv6::parse(&buf).unwrap(), false));
    }

    #[test]
    fn without_an_own_address_it_only_drops() {
        let cfg = Config::defaults();
        let mut ids = IdGen::new();
        let mut scratch = [0u8; SCRATCH_LEN];
        let mut bucket = TokenBucket::new();
        let mut tx = Tx::new(&cfg, &mut ids, &mut scratch, &mut bucket, 0.0);
        let pkt = v4_packet(40);
        let mut buf = vec![0u8; 104];
        buf[64..].copy_from_slice(&pkt);
        let ip = ipv4::parse(&pkt).unwrap();
        assert_eq!(v4(&mut tx, &mut buf, 64, 40, &ip, false, Reply { ty: 3, code: 13, rest: 0, reason: Counter::drop_udp_zero_checksum }), Verdict::Drop(Counter::drop_udp_zero_checksum));
    }
}

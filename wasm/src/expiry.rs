//! The packets stateful NAT64 sends on a timer rather than in answer to a packet
//! (RFC 6146 §3.5.2.2): the ICMP error for an unsolicited SYN that waited
//! TCP_INCOMING_SYN in vain, and the probe of an established connection that went
//! idle for TCP_EST.

use crate::arena::HEADROOM;
use crate::bytes::put16;
use crate::checksum;
use crate::context::Tx;
use crate::counters::Counter;
use crate::icmp::{self, v4_code, v6_code};
use crate::icmp_errors::{self, Reply};
use crate::ipv4;
use crate::ipv6::{self, Ipv6Out};
use crate::nat64::Mapping;
use crate::protocol::TCP;
use crate::verdict::Verdict;

/// Bytes of a probe: an IPv6 header and a TCP header without options or data.
pub const PROBE_LEN: usize = ipv6::HEADER_LEN + 20;
/// Hop limit of the probes.
const HOP_LIMIT: u8 = 64;
/// The TCP ACK flag.
const ACK: u8 = 0x10;

/// Answers a stored SYN (`stored`, the copy the tables kept) with port unreachable,
/// built in `slot` (a slot of the arena, headroom first): an IPv4 SYN gets ICMP type 3
/// code 3 from the pool4 address it was for, a hairpinned IPv6 SYN ICMPv6 type 1 code
/// 4 from the translator's IPv6 address. The verdict's reason is `drop_no_binding`,
/// the refusal the SYN finally gets.
pub fn answer_stored_syn(tx: &mut Tx, slot: &mut [u8], stored: &[u8]) -> Verdict {
    let n = stored.len().min(slot.len() - HEADROOM);
    slot[HEADROOM..HEADROOM + n].copy_from_slice(&stored[..n]);
    let reason = Counter::drop_no_binding;
    match stored.first().map(|b| b >> 4) {
        Some(4) => match ipv4::parse_truncated(&slot[HEADROOM..HEADROOM + n]) {
            Ok(ip) => {
                let reply = Reply { ty: icmp::V4_DEST_UNREACH, code: v4_code::PORT_UNREACH, rest: 0, reason };
                icmp_errors::v4_from(tx, slot, HEADROOM, n, &ip, false, reply, ip.dst)
            }
            Err(_) => Verdict::Drop(reason),
        },
        Some(6) => match ipv6::parse_truncated(&slot[HEADROOM..HEADROOM + n]) {
            Ok(ip) => {
                let reply = Reply { ty: icmp::V6_DEST_UNREACH, code: v6_code::PORT_UNREACH, rest: 0, reason };
                icmp_errors::v6(tx, slot, HEADROOM, n, &ip, false, reply)
            }
            Err(_) => Verdict::Drop(reason),
        },
        _ => Verdict::Drop(reason),
    }
}

/// Writes into `out` (at least [`PROBE_LEN`] bytes) the probe of the connection of
/// `m`, sent to its IPv6 end from (Y', y): "a TCP segment for the connection with no
/// data, sequence and acknowledgment numbers zero, only ACK set" (RFC 6146 §3.5.2.2).
/// An acceptable-looking ACK makes a live end answer with an ACK of its own, which
/// revives the session; a dead end answers with a RST or nothing. `None` when Y has
/// no IPv6 representation.
pub fn probe(tx: &Tx, out: &mut [u8], m: &Mapping) -> Option<usize> {
    let src = tx.map.v4_to_v6(&m.remote4, false).ok()?;
    ipv6::write(out, &Ipv6Out { traffic_class: 0, payload_len: 20, next_header: TCP, hop_limit: HOP_LIMIT, src, dst: m.addr6 });
    let tcp = &mut out[ipv6::HEADER_LEN..PROBE_LEN];
    tcp.fill(0);
    put16(tcp, 0, m.remote_port);
    put16(tcp, 2, m.port6);
    tcp[12] = 5 << 4;
    tcp[13] = ACK;
    let c = checksum::finish(checksum::pseudo_v6(&src, &m.addr6, TCP, 20) + checksum::sum(tcp));
    put16(tcp, 16, c);
    Some(PROBE_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::SCRATCH_LEN;
    use crate::ipid::IdGen;
    use crate::nat64::{Proto, TcpState};
    use crate::ratelimit::TokenBucket;
    use crate::testutil::*;

    #[test]
    fn a_stored_ipv4_syn_is_answered_from_its_pool4_address() {
        let cfg = graybox_config();
        let (mut ids, mut scratch, mut bucket) = (IdGen::new(), [0u8; SCRATCH_LEN], TokenBucket::new());
        let mut tx = Tx::new(&cfg, &mut ids, &mut scratch, &mut bucket, 0.0);
        let syn = v4(H4, [192, 0, 2, 2], TCP, 64, 0, &[0xc3, 0x50, 0x05, 0xdc, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0, 100, 0, 0, 0, 0]);
        let mut slot = std::vec![0u8; 2048];
        match answer_stored_syn(&mut tx, &mut slot, &syn) {
            Verdict::Error { start, len, reason: Counter::drop_no_binding } => {
                let e = &slot[start..start + len];
                let h = ipv4::parse(e).unwrap();
                assert_eq!((h.src, h.dst, &e[20..22]), ([192, 0, 2, 2], H4, &[3u8, 3][..]));
                assert_eq!(&e[28..], &syn[..]);
                assert!(v4_l4_ok(e));
            }
            v => panic!("{:?}", v),
        }
    }

    #[test]
    fn a_stored_ipv6_syn_is_answered_with_icmpv6_port_unreachable() {
        let cfg = graybox_config();
        let (mut ids, mut scratch, mut bucket) = (IdGen::new(), [0u8; SCRATCH_LEN], TokenBucket::new());
        let mut tx = Tx::new(&cfg, &mut ids, &mut scratch, &mut bucket, 0.0);
        let syn = v6(H6, H4_AS_V6, TCP, 64, &[], &[0xc3, 0x51, 0x05, 0xdd, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0, 100, 0, 0, 0, 0]);
        let mut slot = std::vec![0u8; 2048];
        let v = answer_stored_syn(&mut tx, &mut slot, &syn);
        let (start, len) = match v {
            Verdict::Error { start, len, .. } => (start, len),
            v => panic!("{:?}", v),
        };
        let e = &slot[start..start + len];
        assert_eq!((ipv6::parse(e).unwrap().dst, &e[40..42]), (H6, &[1u8, 4][..]));
        assert_eq!(&e[48..], &syn[..]);
        assert!(v6_l4_ok(e));
        assert_eq!(answer_stored_syn(&mut tx, &mut slot, &[0x20; 30]), Verdict::Drop(Counter::drop_no_binding));
    }

    #[test]
    fn probes_are_empty_acks_from_the_remote_end() {
        let cfg = graybox_config();
        let (mut ids, mut scratch, mut bucket) = (IdGen::new(), [0u8; SCRATCH_LEN], TokenBucket::new());
        let tx = Tx::new(&cfg, &mut ids, &mut scratch, &mut bucket, 0.0);
        let m = Mapping {
            proto: Proto::Tcp,
            addr6: H6,
            port6: 40000,
            addr4: [192, 0, 2, 2],
            port4: 61000,
            remote4: H4,
            remote_port: 443,
            session: Some(0),
            state: TcpState::Trans,
        };
        let mut out = [0u8; PROBE_LEN];
        assert_eq!(probe(&tx, &mut out, &m), Some(PROBE_LEN));
        let h = ipv6::parse(&out).unwrap();
        assert_eq!((h.src, h.dst, h.next_header), (H4_AS_V6, H6, TCP));
        assert_eq!(&out[40..44], &[0x01, 0xbb, 0x9c, 0x40]);
        assert_eq!(&out[44..52], &[0; 8], "sequence and acknowledgment zero");
        assert_eq!(out[53], ACK);
        assert!(v6_l4_ok(&out));
    }
}

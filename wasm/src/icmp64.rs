//! ICMPv6 error → ICMPv4 error (RFC 7915 §5.2, §5.3), rebuilt in the scratch buffer
//! like [`crate::icmp46`] and copied to the start of the slot.

use crate::bytes::get32;
use crate::checksum;
use crate::context::Tx;
use crate::counters::Counter;
use crate::icmp::{self, Rest};
use crate::inner;
use crate::ipv4::{self, Ipv4Out};
use crate::protocol::{ICMP, ICMPV6};
use crate::rfc4884;
use crate::verdict::Verdict;

/// Outer IPv4 header fields of the translated error.
#[derive(Clone, Copy, Debug)]
pub struct Outer4 {
    /// Source address.
    pub src: [u8; 4],
    /// Destination address.
    pub dst: [u8; 4],
    /// Original IPv6 source and destination, for the ICMPv6 checksum.
    pub src6: [u8; 16],
    /// See `src6`.
    pub dst6: [u8; 16],
    /// Type of Service.
    pub tos: u8,
    /// Time to Live.
    pub ttl: u8,
    /// Identification and flags/offset, from a Fragment header when there was one.
    pub id_flags: Option<(u16, u16)>,
}

/// True for the ICMPv6 types whose byte 4 is an RFC 4884 length attribute.
fn has_length_attribute(ty: u8) -> bool {
    matches!(ty, icmp::V6_DEST_UNREACH | icmp::V6_TIME_EXCEEDED)
}

/// Translates the ICMPv6 error message at `buf[msg_at..msg_at + msg_len]` into an
/// ICMPv4 error of type `ty`, code `code` and bytes 4..8 per `rest`, written at the
/// start of `buf`.
#[allow(clippy::too_many_arguments)]
pub fn translate_error(tx: &mut Tx, buf: &mut [u8], msg_at: usize, msg_len: usize, outer: &Outer4, ty: u8, code: u8, rest: Rest) -> Verdict {
    const ROOM: usize = crate::icmp_errors::V4_ERROR_MAX - ipv4::HEADER_LEN - icmp::HEADER_LEN;
    const BODY: usize = ipv4::HEADER_LEN + icmp::HEADER_LEN;
    let msg = &buf[msg_at..msg_at + msg_len];
    if !checksum::verifies(checksum::pseudo_v6(&outer.src6, &outer.dst6, ICMPV6, msg_len as u32) + checksum::sum(msg)) {
        return Verdict::Drop(Counter::drop_icmp_bad_checksum);
    }
    let body = &msg[icmp::HEADER_LEN..];
    let attribute = if has_length_attribute(msg[0]) { msg[4] as usize * 8 } else { 0 };
    let (datagram, ext) = if attribute != 0 && attribute <= body.len() { body.split_at(attribute) } else { (body, &body[body.len()..]) };
    let scratch = &mut tx.scratch[..crate::icmp_errors::V4_ERROR_MAX];
    let quoted = match inner::v6_to_v4(&tx.map, tx.ids, tx.cfg.tos_v4, tx.binding.as_ref(), datagram, &mut scratch[BODY..]) {
        Ok(q) => q,
        Err(_) => return Verdict::Drop(Counter::drop_icmp_inner),
    };
    let layout = rfc4884::layout(quoted.len, ext.len(), 4, ROOM);
    let written = quoted.len.min(ROOM);
    if layout.datagram > written {
        scratch[BODY + written..BODY + layout.datagram].fill(0);
    }
    let ext_at = BODY + layout.datagram;
    scratch[ext_at..ext_at + layout.ext].copy_from_slice(&ext[..layout.ext]);
    let attribute = (layout.attribute as u32) << 16;
    let rest_word = match rest {
        Rest::Length => attribute,
        Rest::Mtu => attribute | icmp::mtu_v6_to_v4(get32(msg, 4), tx.cfg.mtu_v6, tx.cfg.mtu_v4).min(0xffff),
        Rest::Pointer(p) => (p << 24) | attribute,
    };
    let total = BODY + layout.datagram + layout.ext;
    let icmp_msg = &mut scratch[ipv4::HEADER_LEN..total];
    icmp_msg[0] = ty;
    icmp_msg[1] = code;
    icmp_msg[2] = 0;
    icmp_msg[3] = 0;
    icmp_msg[4..8].copy_from_slice(&rest_word.to_be_bytes());
    let c = checksum::finish(checksum::sum(icmp_msg));
    icmp_msg[2..4].copy_from_slice(&c.to_be_bytes());
    let (id, flags_offset) = match outer.id_flags {
        Some(v) => v,
        None => (tx.ids.next(), 0),
    };
    ipv4::write(scratch, &Ipv4Out {
        tos: outer.tos,
        total_len: total as u16,
        id,
        flags_offset,
        ttl: outer.ttl,
        protocol: ICMP,
        src: outer.src,
        dst: outer.dst,
    });
    buf[..total].copy_from_slice(&scratch[..total]);
    Verdict::Forward { start: 0, len: total }
}

#[cfg(test)]
mod tests {
    use crate::counters::Counter;
    use crate::ipv4;
    use crate::protocol::ICMPV6;
    use crate::testutil::*;
    use crate::verdict::Verdict;

    /// The packet `H4` sent to `H6`, as an IPv6 router quotes it.
    fn quoted(n: usize) -> std::vec::Vec<u8> {
        udp6(H4_AS_V6, H6, 5, n)
    }

    fn error(ty: u8, code: u8, rest: [u8; 4], body: &[u8]) -> std::vec::Vec<u8> {
        v6(H6, H4_AS_V6, ICMPV6, 64, &[], &icmp6_msg(&H6, &H4_AS_V6, ty, code, rest, body))
    }

    #[test]
    fn port_unreachable_quotes_the_translated_packet() {
        let cfg = graybox_config();
        let r = run64(&cfg, &error(1, 4, [0; 4], &quoted(12)));
        assert_eq!(r.verdict, Verdict::Forward { start: 0, len: 28 + 20 + 20 });
        let e = r.out();
        let outer = ipv4::parse(e).unwrap();
        assert_eq!((outer.src, outer.dst, outer.ttl, outer.protocol), (H6_AS_V4, H4, 63, 1));
        assert_eq!(&e[20..22], &[3, 3]);
        assert!(v4_l4_ok(e));
        let inner = ipv4::parse(&e[28..]).unwrap();
        assert_eq!((inner.src, inner.dst, inner.ttl, inner.total_len), (H4, H6_AS_V4, 5, 40));
        assert!(v4_l4_ok(&e[28..]), "inner UDP checksum follows its addresses");
    }

    #[test]
    fn codes_and_types() {
        let cfg = graybox_config();
        for (ty, code, want) in [(1u8, 0u8, [3u8, 1u8]), (1, 1, [3, 10]), (1, 3, [3, 1]), (3, 0, [11, 0]), (3, 1, [11, 1]), (4, 1, [3, 2])] {
            let r = run64(&cfg, &error(ty, code, [0; 4], &quoted(12)));
            assert_eq!(&r.out()[20..22], &want[..], "{}/{}", ty, code);
        }
        assert_eq!(run64(&cfg, &error(1, 7, [0; 4], &quoted(12))).verdict, Verdict::Drop(Counter::drop_icmp_untranslatable));
        assert_eq!(run64(&cfg, &error(4, 2, [0; 4], &quoted(12))).verdict, Verdict::Drop(Counter::drop_icmp_untranslatable));
    }

    #[test]
    fn packet_too_big_and_parameter_problem_fields() {
        let mut cfg = graybox_config();
        let r = run64(&cfg, &error(2, 0, [0, 0, 0x05, 0x00], &quoted(12)));
        assert_eq!(&r.out()[20..28], &[3, 4, r.out()[22], r.out()[23], 0, 0, 0x04, 0xec]);
        cfg.mtu_v4 = 1000;
        let r = run64(&cfg, &error(2, 0, [0, 0, 0x05, 0x00], &quoted(12)));
        assert_eq!(&r.out()[26..28], &1000u16.to_be_bytes());
        let r = run64(&cfg, &error(4, 0, [0, 0, 0, 7], &quoted(12)));
        assert_eq!(&r.out()[20..25], &[12, 0, r.out()[22], r.out()[23], 8]);
    }

    #[test]
    fn rfc4884_extension_after_a_padded_datagram() {
        let cfg = graybox_config();
        let mut body = quoted(12);
        body.resize(128, 0);
        let ext = [0x20, 0, 0xab, 0xcd, 0, 8, 1, 1];
        body.extend_from_slice(&ext);
        let r = run64(&cfg, &error(3, 0, [16, 0, 0, 0], &body));
        let e = r.out();
        assert_eq!(e[25], 32, "length attribute in 32-bit words");
        assert_eq!(&e[28 + 128..], &ext[..]);
        assert!(v4_l4_ok(e));
        // An extension that cannot fit beside 128 bytes of datagram is removed.
        let mut big = quoted(12);
        big.resize(128, 0);
        big.extend_from_slice(&[0x20; 500]);
        let r = run64(&cfg, &error(3, 0, [16, 0, 0, 0], &big));
        assert_eq!(r.out().len(), 28 + 40);
        assert_eq!(r.out()[25], 0);
    }

    #[test]
    fn errors_are_cut_to_576_bytes() {
        let cfg = graybox_config();
        let r = run64(&cfg, &error(1, 4, [0; 4], &quoted(1000)));
        assert_eq!(r.out().len(), 576);
        assert!(v4_l4_ok(r.out()));
        assert_eq!(ipv4::parse_truncated(&r.out()[28..]).unwrap().total_len, 1028);
    }

    #[test]
    fn bad_checksum_is_dropped() {
        let cfg = graybox_config();
        let mut e = error(1, 4, [0; 4], &quoted(12));
        e[42] ^= 1;
        assert_eq!(run64(&cfg, &e).verdict, Verdict::Drop(Counter::drop_icmp_bad_checksum));
    }
}

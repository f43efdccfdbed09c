//! ICMPv4 error → ICMPv6 error (RFC 7915 §4.2, §4.3). The message is rebuilt in the
//! scratch buffer, because the quoted packet grows in the middle and an RFC 4884
//! extension after it moves, then copied to the start of the slot.

use crate::bytes::{get16, put32};
use crate::checksum;
use crate::context::Tx;
use crate::counters::Counter;
use crate::icmp::{self, Rest};
use crate::inner;
use crate::ipv6::{self, Ipv6Out};
use crate::protocol::ICMPV6;
use crate::rfc4884;
use crate::verdict::Verdict;

/// Outer IPv6 header fields of the translated error.
#[derive(Clone, Copy, Debug)]
pub struct Outer6 {
    /// Source address.
    pub src: [u8; 16],
    /// Destination address.
    pub dst: [u8; 16],
    /// Traffic Class.
    pub traffic_class: u8,
    /// Hop Limit.
    pub hop_limit: u8,
}

/// True for the ICMPv4 types whose byte 5 is an RFC 4884 length attribute.
fn has_length_attribute(ty: u8) -> bool {
    matches!(ty, icmp::V4_DEST_UNREACH | icmp::V4_TIME_EXCEEDED | icmp::V4_PARAM_PROBLEM)
}

/// Translates the ICMPv4 error message at `buf[msg_at..msg_at + msg_len]` into
/// an ICMPv6 error of type `ty`, code `code` and bytes 4..8 per `rest`, written at
/// the start of `buf`. `hairpin` marks the second pass of a hairpin.
#[allow(clippy::too_many_arguments)]
pub fn translate_error(tx: &mut Tx, buf: &mut [u8], msg_at: usize, msg_len: usize, outer: &Outer6, ty: u8, code: u8, rest: Rest, hairpin: bool) -> Verdict {
    const ROOM: usize = crate::icmp_errors::V6_ERROR_MAX - ipv6::HEADER_LEN - icmp::HEADER_LEN;
    const BODY: usize = ipv6::HEADER_LEN + icmp::HEADER_LEN;
    let msg = &buf[msg_at..msg_at + msg_len];
    if !checksum::verifies(checksum::sum(msg)) {
        return Verdict::Drop(Counter::drop_icmp_bad_checksum);
    }
    let body = &msg[icmp::HEADER_LEN..];
    let attribute = if has_length_attribute(msg[0]) { msg[5] as usize * 4 } else { 0 };
    let (datagram, ext) = if attribute != 0 && attribute <= body.len() { body.split_at(attribute) } else { (body, &body[body.len()..]) };
    let ext = if rest == Rest::Length { ext } else { &ext[..0] };
    let scratch = &mut tx.scratch[..];
    let quoted = match inner::v4_to_v6(&tx.map, tx.cfg.zeroize_tc, hairpin, tx.binding.as_ref(), datagram, &mut scratch[BODY..]) {
        Ok(q) => q,
        Err(_) => return Verdict::Drop(Counter::drop_icmp_inner),
    };
    let layout = rfc4884::layout(quoted.len, ext.len(), 8, ROOM);
    let written = quoted.len.min(ROOM);
    if layout.datagram > written {
        scratch[BODY + written..BODY + layout.datagram].fill(0);
    }
    let ext_at = BODY + layout.datagram;
    scratch[ext_at..ext_at + layout.ext].copy_from_slice(&ext[..layout.ext]);
    let rest_word = match rest {
        Rest::Length => (layout.attribute as u32) << 24,
        Rest::Mtu => icmp::mtu_v4_to_v6(get16(msg, 6) as u32, quoted.quoted_total_len, tx.cfg.mtu_v6, tx.cfg.mtu_v4),
        Rest::Pointer(p) => p,
    };
    let payload_len = icmp::HEADER_LEN + layout.datagram + layout.ext;
    let icmp_msg = &mut scratch[ipv6::HEADER_LEN..ipv6::HEADER_LEN + payload_len];
    icmp_msg[0] = ty;
    icmp_msg[1] = code;
    icmp_msg[2] = 0;
    icmp_msg[3] = 0;
    put32(icmp_msg, 4, rest_word);
    let c = checksum::finish(checksum::pseudo_v6(&outer.src, &outer.dst, ICMPV6, payload_len as u32) + checksum::sum(icmp_msg));
    icmp_msg[2..4].copy_from_slice(&c.to_be_bytes());
    ipv6::write(scratch, &Ipv6Out {
        traffic_class: outer.traffic_class,
        payload_len: payload_len as u16,
        next_header: ICMPV6,
        hop_limit: outer.hop_limit,
        src: outer.src,
        dst: outer.dst,
    });
    let len = ipv6::HEADER_LEN + payload_len;
    buf[..len].copy_from_slice(&scratch[..len]);
    Verdict::Forward { start: 0, len }
}

#[cfg(test)]
mod tests {
    use crate::counters::Counter;
    use crate::ipv6;
    use crate::protocol::ICMP;
    use crate::testutil::*;
    use crate::verdict::Verdict;

    /// The packet `H6` sent to `H4`, as an IPv4 router quotes it.
    fn quoted(n: usize) -> std::vec::Vec<u8> {
        udp4(H6_AS_V4, H4, 5, 0, n)
    }

    fn error(ty: u8, code: u8, rest: [u8; 4], body: &[u8]) -> std::vec::Vec<u8> {
        v4(H4, H6_AS_V4, ICMP, 64, 0, &icmp4_msg(ty, code, rest, body))
    }

    #[test]
    fn port_unreachable_quotes_the_translated_packet() {
        let cfg = graybox_config();
        let r = run46(&cfg, &error(3, 3, [0; 4], &quoted(12)), false);
        assert_eq!(r.verdict, Verdict::Forward { start: 0, len: 48 + 40 + 20 });
        let e = r.out();
        let outer = ipv6::parse(e).unwrap();
        assert_eq!((outer.src, outer.dst, outer.hop_limit), (H4_AS_V6, H6, 63));
        assert_eq!(&e[40..42], &[1, 4]);
        assert!(v6_l4_ok(e));
        let inner = ipv6::parse(&e[48..]).unwrap();
        assert_eq!((inner.src, inner.dst, inner.hop_limit, inner.payload_len), (H6, H4_AS_V6, 5, 20));
        assert!(v6_l4_ok(&e[48..]), "inner UDP checksum follows its addresses");
    }

    #[test]
    fn fragmentation_needed_becomes_packet_too_big() {
        let mut cfg = graybox_config();
        let r = run46(&cfg, &error(3, 4, [0, 0, 0x05, 0x78], &quoted(12)), false);
        assert_eq!(&r.out()[40..48], &[2, 0, r.out()[42], r.out()[43], 0, 0, 0x05, 0x8c]);
        // A zero MTU (pre-RFC 1191 router): plateau under the quoted Total Length.
        cfg.mtu_v6 = 9000;
        cfg.mtu_v4 = 9000;
        let mut q = quoted(12);
        q[2..4].copy_from_slice(&4000u16.to_be_bytes());
        refresh_v4_checksum(&mut q);
        let r = run46(&cfg, &error(3, 4, [0; 4], &q), false);
        assert_eq!(&r.out()[44..48], &(2002u32 + 20).to_be_bytes());
    }

    #[test]
    fn parameter_problems_map_their_pointer() {
        let cfg = graybox_config();
        let r = run46(&cfg, &error(12, 0, [9, 0, 0, 0], &quoted(12)), false);
        assert_eq!(&r.out()[40..42], &[4, 0]);
        assert_eq!(&r.out()[44..48], &6u32.to_be_bytes());
        let r = run46(&cfg, &error(3, 2, [0; 4], &quoted(12)), false);
        assert_eq!(&r.out()[40..42], &[4, 1]);
        assert_eq!(&r.out()[44..48], &6u32.to_be_bytes());
        assert_eq!(run46(&cfg, &error(12, 0, [4, 0, 0, 0], &quoted(12)), false).verdict, Verdict::Drop(Counter::drop_icmp_untranslatable));
    }

    #[test]
    fn rfc4884_extension_keeps_its_place_after_a_128_byte_datagram() {
        let cfg = graybox_config();
        let mut body = quoted(12);
        body.resize(128, 0);
        let ext = [0x20, 0, 0xab, 0xcd, 0, 8, 1, 1, 9, 9, 9, 9];
        body.extend_from_slice(&ext);
        let r = run46(&cfg, &error(11, 0, [0, 32, 0, 0], &body), false);
        let e = r.out();
        assert_eq!(e[44], 16, "length attribute in 64-bit words");
        assert_eq!(&e[48 + 128..], &ext[..]);
        assert!(e[48 + 60..48 + 128].iter().all(|&b| b == 0));
        assert!(v6_l4_ok(e));
    }

    #[test]
    fn errors_are_cut_to_1280_bytes() {
        let cfg = graybox_config();
        let r = run46(&cfg, &error(3, 1, [0; 4], &quoted(1400)), false);
        assert_eq!(r.out().len(), 1280);
        assert_eq!(ipv6::parse(r.out()).unwrap().payload_len, 1240);
        assert!(v6_l4_ok(r.out()));
        // The quoted header keeps the length of the packet, not of the quote.
        assert_eq!(ipv6::parse_truncated(&r.out()[48..]).unwrap().payload_len, 1408);
    }

    #[test]
    fn refuses_bad_checksums_and_errors_about_errors() {
        let cfg = graybox_config();
        let mut bad = error(3, 3, [0; 4], &quoted(12));
        bad[22] ^= 1;
        assert_eq!(run46(&cfg, &bad, false).verdict, Verdict::Drop(Counter::drop_icmp_bad_checksum));
        let inner_error = v4(H6_AS_V4, H4, ICMP, 5, 0, &icmp4_msg(3, 1, [0; 4], &[0; 28]));
        assert_eq!(run46(&cfg, &error(3, 3, [0; 4], &inner_error), false).verdict, Verdict::Drop(Counter::drop_icmp_inner));
        let stray = udp4([10, 9, 9, 9], [10, 9, 9, 8], 5, 0, 4);
        let mut c = graybox_config();
        c.eamt.clear();
        c.pool6 = None;
        c.eamt.add(crate::prefix::Prefix6 { addr: H4_AS_V6, len: 128 }, crate::prefix::Prefix4 { addr: H4, len: 32 }).unwrap();
        c.eamt.add(crate::prefix::Prefix6 { addr: H6, len: 128 }, crate::prefix::Prefix4 { addr: H6_AS_V4, len: 32 }).unwrap();
        assert_eq!(run46(&c, &error(3, 3, [0; 4], &stray), false).verdict, Verdict::Drop(Counter::drop_icmp_inner));
    }
}

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
    let quoted = match inner::v4_to_v6(&tx.map, tx.cfg.zeroize_tc, hairpin, datagram, &mut scratch[BODY..]) {
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

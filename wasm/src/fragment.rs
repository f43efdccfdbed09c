//! Cutting a translated packet into fragments: IPv6 fragments of an IPv4 packet
//! sent without DF (RFC 7915 §4, lowest-ipv6-mtu), and IPv4 fragments of a packet
//! too big for the IPv4 next hop (RFC 791 §3.2). The first fragment stays in the
//! slot; the engine gives the others room in the spill area.

use crate::bytes::{get16, put16};
use crate::ipv4;
use crate::ipv6::{self, Fragment};

/// How a packet is cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Header bytes repeated in every fragment (IPv6 + Fragment header, or IPv4).
    pub header_len: usize,
    /// Payload bytes per fragment except the last, a multiple of 8.
    pub chunk: usize,
    /// Number of fragments.
    pub count: usize,
    /// Payload bytes of the whole packet.
    pub payload_len: usize,
}

impl Plan {
    /// Plans fragments of at most `mtu` bytes for a packet of `len` bytes whose first
    /// `header_len` bytes are repeated; `None` when `mtu` leaves no room for 8 bytes.
    pub fn new(len: usize, header_len: usize, mtu: usize) -> Option<Plan> {
        let chunk = mtu.checked_sub(header_len)? & !7;
        if chunk == 0 || len < header_len {
            return None;
        }
        let payload_len = len - header_len;
        Some(Plan { header_len, chunk, count: (payload_len + chunk - 1) / chunk, payload_len })
    }

    /// Length of fragment `k`.
    pub fn piece_len(&self, k: usize) -> usize {
        self.header_len + self.chunk.min(self.payload_len - k * self.chunk)
    }

    /// Total bytes of fragments `1..count` (those written outside the slot).
    pub fn tail_bytes(&self) -> usize {
        (1..self.count).map(|k| self.piece_len(k)).sum()
    }
}

/// Fragment offset and M flag of piece `k`: offsets advance from the original's,
/// and only the last piece keeps the original's M flag.
fn piece_offset(plan: &Plan, k: usize, offset: u16, more: bool) -> (u16, bool) {
    let last = k + 1 == plan.count;
    (offset + (k * plan.chunk / 8) as u16, more || !last)
}

/// Writes IPv6 fragment `k ≥ 1` of `pkt` (fixed header, Fragment header, payload)
/// into `out`, returning its length.
pub fn write_v6_piece(pkt: &[u8], plan: &Plan, k: usize, out: &mut [u8]) -> usize {
    let len = plan.piece_len(k);
    let from = plan.header_len + k * plan.chunk;
    out[..plan.header_len].copy_from_slice(&pkt[..plan.header_len]);
    out[plan.header_len..len].copy_from_slice(&pkt[from..from + len - plan.header_len]);
    set_v6_piece(&mut out[..len], plan, k);
    len
}

/// Turns `pkt` into IPv6 fragment 0 in place, returning its length. Call after
/// writing the other pieces, which read their payload from `pkt`.
pub fn finish_v6_first(pkt: &mut [u8], plan: &Plan) -> usize {
    let len = plan.piece_len(0);
    set_v6_piece(&mut pkt[..len], plan, 0);
    len
}

fn set_v6_piece(piece: &mut [u8], plan: &Plan, k: usize) {
    let word = get16(piece, ipv6::HEADER_LEN + 2);
    let (offset, more) = piece_offset(plan, k, word >> 3, word & 1 == 1);
    put16(piece, 4, (piece.len() - ipv6::HEADER_LEN) as u16);
    let f = &mut piece[ipv6::HEADER_LEN..];
    let id = u32::from_be_bytes([f[4], f[5], f[6], f[7]]);
    ipv6::write_fragment(f, f[0], &Fragment { offset, more, id });
}

/// Writes IPv4 fragment `k ≥ 1` of `pkt` (20-byte header, payload) into `out`.
pub fn write_v4_piece(pkt: &[u8], plan: &Plan, k: usize, out: &mut [u8]) -> usize {
    let len = plan.piece_len(k);
    let from = plan.header_len + k * plan.chunk;
    out[..plan.header_len].copy_from_slice(&pkt[..plan.header_len]);
    out[plan.header_len..len].copy_from_slice(&pkt[from..from + len - plan.header_len]);
    set_v4_piece(&mut out[..len], plan, k);
    len
}

/// Turns `pkt` into IPv4 fragment 0 in place, like [`finish_v6_first`].
pub fn finish_v4_first(pkt: &mut [u8], plan: &Plan) -> usize {
    let len = plan.piece_len(0);
    set_v4_piece(&mut pkt[..len], plan, 0);
    len
}

fn set_v4_piece(piece: &mut [u8], plan: &Plan, k: usize) {
    let word = get16(piece, 6);
    let (offset, more) = piece_offset(plan, k, word & ipv4::OFFSET_MASK, word & ipv4::MF != 0);
    let flags = (word & ipv4::DF) | if more { ipv4::MF } else { 0 };
    ipv4::set_length_and_fragment(piece, piece.len() as u16, flags | offset);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum;
    use crate::ipv4::Ipv4Out;
    use crate::ipv6::Ipv6Out;
    extern crate std;
    use std::vec;

    fn v6_packet(payload: usize, offset: u16, more: bool) -> std::vec::Vec<u8> {
        let mut p = vec![0u8; 48 + payload];
        ipv6::write(&mut p, &Ipv6Out { traffic_class: 0, payload_len: (8 + payload) as u16, next_header: 44, hop_limit: 63, src: [1; 16], dst: [2; 16] });
        ipv6::write_fragment(&mut p[40..], 6, &Fragment { offset, more, id: 0x4d2 });
        for (i, b) in p[48..].iter_mut().enumerate() {
            *b = i as u8;
        }
        p
    }

    #[test]
    fn plans_multiples_of_eight() {
        let p = Plan::new(1289, 48, 1280).unwrap();
        assert_eq!(p, Plan { header_len: 48, chunk: 1232, count: 2, payload_len: 1241 });
        assert_eq!((p.piece_len(0), p.piece_len(1)), (1280, 57));
        assert_eq!(p.tail_bytes(), 57);
        assert_eq!(Plan::new(1000, 48, 50), None);
        assert_eq!(Plan::new(1403 + 8, 48, 1402).unwrap().chunk, 1352);
    }

    #[test]
    fn ipv6_pieces_carry_offsets_and_m_flags() {
        // RFC 7915 graybox cft1: a 1268-byte IPv4 fragment (MF set) becomes 1280 + 64.
        let pkt = v6_packet(1248 - 8 + 8, 0, true);
        let plan = Plan::new(pkt.len(), 48, 1280).unwrap();
        assert_eq!(plan.count, 2);
        let mut second = vec![0u8; 100];
        let n = write_v6_piece(&pkt, &plan, 1, &mut second);
        assert_eq!(n, 64);
        assert_eq!(&second[40..48], &[6, 0, 0x04, 0xd1, 0, 0, 0x04, 0xd2]);
        assert_eq!(&second[4..6], &[0, 24]);
        assert_eq!(second[48], 1232u32 as u8);
        let mut first = pkt.clone();
        assert_eq!(finish_v6_first(&mut first, &plan), 1280);
        assert_eq!(&first[40..48], &[6, 0, 0, 1, 0, 0, 0x04, 0xd2]);
        assert_eq!(&first[4..6], &(1240u16).to_be_bytes());
    }

    #[test]
    fn last_piece_keeps_a_clear_m_flag() {
        let pkt = v6_packet(1241, 0, false);
        let plan = Plan::new(pkt.len(), 48, 1280).unwrap();
        let mut second = vec![0u8; 100];
        write_v6_piece(&pkt, &plan, 1, &mut second);
        assert_eq!(&second[42..44], &[0x04, 0xd0]);
    }

    #[test]
    fn ipv4_pieces_have_valid_headers() {
        let mut pkt = vec![0u8; 20 + 1000];
        ipv4::write(&mut pkt, &Ipv4Out { tos: 0, total_len: 1020, id: 7, flags_offset: 0, ttl: 63, protocol: 17, src: [192, 0, 2, 1], dst: [198, 51, 100, 1] });
        let plan = Plan::new(pkt.len(), 20, 576).unwrap();
        assert_eq!((plan.chunk, plan.count), (552, 2));
        let mut second = vec![0u8; 600];
        let n = write_v4_piece(&pkt, &plan, 1, &mut second);
        let h = ipv4::parse(&second[..n]).unwrap();
        assert_eq!((h.total_len, h.offset(), h.mf(), h.id), (20 + 448, 69, false, 7));
        let n = finish_v4_first(&mut pkt, &plan);
        let h = ipv4::parse(&pkt[..n]).unwrap();
        assert_eq!((h.total_len, h.offset(), h.mf()), (572, 0, true));
        assert!(checksum::verifies(checksum::sum(&pkt[..20])));
    }
}

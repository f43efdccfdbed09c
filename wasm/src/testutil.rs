//! Packet builders and a configuration shared by the unit tests (test builds only).

extern crate std;
use std::boxed::Box;
use std::vec::Vec;

use crate::checksum;
use crate::config::Config;
use crate::ipv4::{self, Ipv4Out};
use crate::ipv6::{self, Ipv6Out};
use crate::prefix::{Prefix4, Prefix6};
use crate::context::{Tx, SCRATCH_LEN};
use crate::ipid::IdGen;
use crate::ratelimit::TokenBucket;
use crate::protocol::{ICMP, TCP, UDP};
use crate::translate46;
use crate::translate64;
use crate::verdict::Verdict;

/// A small deterministic generator (xorshift64*) for the tests that mutate packets.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// An IPv6 address from eight 16-bit groups.
pub fn a6(words: [u16; 8]) -> [u8; 16] {
    let mut a = [0u8; 16];
    for (i, w) in words.iter().enumerate() {
        a[2 * i..2 * i + 2].copy_from_slice(&w.to_be_bytes());
    }
    a
}

/// The configuration of the Jool graybox SIIT tests: pool6 2001:db8:100::/40, EAMT
/// 2001:db8:3::/120 ↔ 1.0.0.0/24 and 2001:db8:2::/120 ↔ 10.0.0.0/24, own addresses.
pub fn graybox_config() -> Box<Config> {
    let mut c = Config::defaults();
    c.pool6 = Some(Prefix6 { addr: a6([0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0]), len: 40 });
    c.eamt.add(Prefix6 { addr: a6([0x2001, 0xdb8, 3, 0, 0, 0, 0, 0]), len: 120 }, Prefix4 { addr: [1, 0, 0, 0], len: 24 }).unwrap();
    c.eamt.add(Prefix6 { addr: a6([0x2001, 0xdb8, 2, 0, 0, 0, 0, 0]), len: 120 }, Prefix4 { addr: [10, 0, 0, 0], len: 24 }).unwrap();
    c.own_ipv4 = Some([198, 51, 100, 1]);
    c.own_ipv6 = Some(a6([0x2001, 0xdb8, 0x1c0, 2, 1, 0, 0, 0]));
    c
}

/// IPv6 host 2001:db8:1c0:2:21:: (192.0.2.33 under pool6).
pub const H6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0x01, 0xc0, 0x00, 0x02, 0x00, 0x21, 0, 0, 0, 0, 0, 0];
/// IPv4 host 198.51.100.2, seen from IPv6 as 2001:db8:1c6:3364:2::.
pub const H4: [u8; 4] = [198, 51, 100, 2];
/// `H4` as IPv6 sees it.
pub const H4_AS_V6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0x01, 0xc6, 0x33, 0x64, 0x00, 0x02, 0, 0, 0, 0, 0, 0];
/// `H6` as IPv4 sees it.
pub const H6_AS_V4: [u8; 4] = [192, 0, 2, 33];

/// A transport segment with a correct checksum for the given pseudo-header sum.
pub fn l4(protocol: u8, pseudo: u64, body: &[u8]) -> Vec<u8> {
    let mut seg = Vec::new();
    match protocol {
        UDP => {
            seg.extend_from_slice(&[0x07, 0xd0, 0x0f, 0xa0]);
            seg.extend_from_slice(&((8 + body.len()) as u16).to_be_bytes());
            seg.extend_from_slice(&[0, 0]);
        }
        TCP => {
            seg.extend_from_slice(&[0x07, 0xd0, 0x0f, 0xa0, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0x00, 0x64, 0, 0, 0, 0]);
        }
        _ => {}
    }
    seg.extend_from_slice(body);
    let at = if protocol == UDP { 6 } else { 16 };
    let c = checksum::finish(pseudo + checksum::sum(&seg));
    seg[at..at + 2].copy_from_slice(&c.to_be_bytes());
    seg
}

/// An ICMP echo request (`ty` 8 or 128) with a correct checksum for `pseudo`.
pub fn echo(ty: u8, pseudo: u64, body: &[u8]) -> Vec<u8> {
    let mut m = std::vec![ty, 0, 0, 0, 0x12, 0x34, 0, 1];
    m.extend_from_slice(body);
    let c = checksum::finish(pseudo + checksum::sum(&m));
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

/// An ICMPv4 message (type, code, bytes 4..8, body) with a correct checksum.
pub fn icmp4_msg(ty: u8, code: u8, rest: [u8; 4], body: &[u8]) -> Vec<u8> {
    let mut m = std::vec![ty, code, 0, 0];
    m.extend_from_slice(&rest);
    m.extend_from_slice(body);
    let c = checksum::finish(checksum::sum(&m));
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

/// An ICMPv6 message with a correct checksum for the given addresses.
pub fn icmp6_msg(src: &[u8; 16], dst: &[u8; 16], ty: u8, code: u8, rest: [u8; 4], body: &[u8]) -> Vec<u8> {
    let mut m = std::vec![ty, code, 0, 0];
    m.extend_from_slice(&rest);
    m.extend_from_slice(body);
    let c = checksum::finish(checksum::pseudo_v6(src, dst, crate::protocol::ICMPV6, m.len() as u32) + checksum::sum(&m));
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

/// An IPv4 packet around `payload`.
pub fn v4(src: [u8; 4], dst: [u8; 4], protocol: u8, ttl: u8, flags_offset: u16, payload: &[u8]) -> Vec<u8> {
    let total_len = (20 + payload.len()) as u16;
    let mut p = std::vec![0u8; total_len as usize];
    ipv4::write(&mut p, &Ipv4Out { tos: 0, total_len, id: 0x1234, flags_offset, ttl, protocol, src, dst });
    p[20..].copy_from_slice(payload);
    p
}

/// Recomputes the header checksum of the IPv4 packet `p` after a test edited it.
pub fn refresh_v4_checksum(p: &mut [u8]) {
    let hl = ((p[0] & 0x0f) as usize) * 4;
    p[10] = 0;
    p[11] = 0;
    let c = checksum::finish(checksum::sum(&p[..hl]));
    p[10..12].copy_from_slice(&c.to_be_bytes());
}

/// An IPv4 UDP datagram with a correct checksum and `n` bytes of payload.
pub fn udp4(src: [u8; 4], dst: [u8; 4], ttl: u8, flags_offset: u16, n: usize) -> Vec<u8> {
    let body: Vec<u8> = (0..n).map(|i| i as u8).collect();
    let seg = l4(UDP, checksum::pseudo_v4(&src, &dst, UDP, (8 + n) as u32), &body);
    v4(src, dst, UDP, ttl, flags_offset, &seg)
}

/// An IPv6 packet: `exts` (extension headers, Next Header chain already filled in)
/// then `payload`; `first` is the fixed header's Next Header.
pub fn v6(src: [u8; 16], dst: [u8; 16], first: u8, hop_limit: u8, exts: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut p = std::vec![0u8; 40];
    ipv6::write(&mut p, &Ipv6Out { traffic_class: 0, payload_len: (exts.len() + payload.len()) as u16, next_header: first, hop_limit, src, dst });
    p.extend_from_slice(exts);
    p.extend_from_slice(payload);
    p
}

/// An IPv6 UDP datagram with a correct checksum and `n` bytes of payload.
pub fn udp6(src: [u8; 16], dst: [u8; 16], hop_limit: u8, n: usize) -> Vec<u8> {
    let body: Vec<u8> = (0..n).map(|i| i as u8).collect();
    let seg = l4(UDP, checksum::pseudo_v6(&src, &dst, UDP, (8 + n) as u32), &body);
    v6(src, dst, UDP, hop_limit, &[], &seg)
}

/// True when the TCP/UDP/ICMP checksum of an IPv4 packet verifies.
pub fn v4_l4_ok(p: &[u8]) -> bool {
    let h = ipv4::parse(p).unwrap();
    let seg = &p[h.header_len..h.total_len];
    let pseudo = if h.protocol == ICMP { 0 } else { checksum::pseudo_v4(&h.src, &h.dst, h.protocol, seg.len() as u32) };
    checksum::verifies(pseudo + checksum::sum(seg))
}

/// True when the TCP/UDP/ICMPv6 checksum of an IPv6 packet without extension headers verifies.
pub fn v6_l4_ok(p: &[u8]) -> bool {
    let h = ipv6::parse(p).unwrap();
    let seg = &p[40..40 + h.payload_len];
    checksum::verifies(checksum::pseudo_v6(&h.src, &h.dst, h.next_header, seg.len() as u32) + checksum::sum(seg))
}

/// Appends one TLV config record.
pub fn tlv(out: &mut Vec<u8>, tag: u16, value: &[u8]) {
    out.extend_from_slice(&tag.to_le_bytes());
    out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    out.extend_from_slice(value);
}

/// [`graybox_config`] as TLV records.
pub fn graybox_tlv() -> Vec<u8> {
    use crate::config::tag;
    let mut b = Vec::new();
    let mut pool = [0u8; 17];
    pool[..16].copy_from_slice(&a6([0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0]));
    pool[16] = 40;
    tlv(&mut b, tag::POOL6, &pool);
    for (v6, v4) in [([0x2001, 0xdb8, 3, 0, 0, 0, 0, 0], [1, 0, 0, 0]), ([0x2001, 0xdb8, 2, 0, 0, 0, 0, 0], [10, 0, 0, 0])] {
        let mut e = [0u8; 22];
        e[..16].copy_from_slice(&a6(v6));
        e[16] = 120;
        e[17..21].copy_from_slice(&v4);
        e[21] = 24;
        tlv(&mut b, tag::EAMT, &e);
    }
    tlv(&mut b, tag::OWN_IPV4, &[198, 51, 100, 1]);
    tlv(&mut b, tag::OWN_IPV6, &a6([0x2001, 0xdb8, 0x1c0, 2, 1, 0, 0, 0]));
    b
}

/// A translator run on one packet in a slot-like buffer with 64 bytes of headroom.
pub struct Run {
    /// What the translator decided.
    pub verdict: Verdict,
    /// The slot after the run.
    pub slot: Vec<u8>,
}

impl Run {
    /// The bytes the verdict points at (empty for a drop).
    pub fn out(&self) -> &[u8] {
        match self.verdict {
            Verdict::Forward { start, len }
            | Verdict::Hairpin { start, len }
            | Verdict::Error { start, len, .. }
            | Verdict::FragmentV6 { start, len, .. }
            | Verdict::FragmentV4 { start, len, .. } => &self.slot[start..start + len],
            Verdict::Drop(_) | Verdict::Held(_) => &[],
        }
    }
}

fn slot_with(pkt: &[u8]) -> Vec<u8> {
    let mut slot = std::vec![0u8; (64 + pkt.len()).max(64 + 1280)];
    slot[64..64 + pkt.len()].copy_from_slice(pkt);
    slot
}

/// Runs IPv4 → IPv6 on `pkt`.
pub fn run46(cfg: &Config, pkt: &[u8], hairpin: bool) -> Run {
    let mut ids = IdGen::new();
    let mut scratch = [0u8; SCRATCH_LEN];
    let mut bucket = TokenBucket::new();
    let mut tx = Tx::new(cfg, &mut ids, &mut scratch, &mut bucket, 0.0);
    let mut slot = slot_with(pkt);
    let verdict = translate46::translate::<false>(&mut tx, &mut slot, 64, pkt.len(), hairpin);
    Run { verdict, slot }
}

/// Runs IPv6 → IPv4 on `pkt`.
pub fn run64(cfg: &Config, pkt: &[u8]) -> Run {
    let mut ids = IdGen::new();
    let mut scratch = [0u8; SCRATCH_LEN];
    let mut bucket = TokenBucket::new();
    let mut tx = Tx::new(cfg, &mut ids, &mut scratch, &mut bucket, 0.0);
    let mut slot = slot_with(pkt);
    let verdict = translate64::translate::<false>(&mut tx, &mut slot, 64, pkt.len());
    Run { verdict, slot }
}

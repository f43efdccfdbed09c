//! TUN offloads through the batch call, as the host drives them: virtio-net headers in
//! front of inputs, partial checksums and GSO super-packets translated once, the headers
//! of the outputs, and what happens to headers the engine refuses.
//!
//! A partial checksum is checked the way the kernel finishes it: sum the output from
//! `csum_start` to its end (the field included), fold, invert, store at `csum_start +
//! csum_offset`; the result must equal the checksum computed from scratch over the
//! translated packet with its own pseudo-header.

extern crate std;
use std::vec::Vec;

use super::test_host::{Host, Output};
use crate::checksum;
use crate::config::{tag, Config};
use crate::context::{Tx, SCRATCH_LEN};
use crate::counters::Counter;
use crate::ipid::IdGen;
use crate::ipv4;
use crate::ipv6;
use crate::offload::{Gso, Partial, VnetHeader, F_DATA_VALID, F_NEEDS_CSUM, GSO_ECN, GSO_NONE, GSO_TCPV4, GSO_TCPV6, GSO_UDP, GSO_UDP_L4};
use crate::protocol::{DSTOPTS, ICMPV6, TCP, UDP};
use crate::ratelimit::TokenBucket;
use crate::testutil::*;
use crate::translate64;
use crate::verdict::Verdict;
use crate::{OUT_FRAGMENT, OUT_ICMP_ERROR, OUT_TRANSLATED};

/// Payload bytes per segment of the super-packets: what fills a 1500-byte IPv6 packet
/// behind a TCP header with timestamps (1500 - 40 - 32), as Linux's TSO cuts them.
const MSS: usize = 1428;
/// Bytes of TCP options of the test segments (NOP, NOP, timestamps).
const TCP_OPTIONS: usize = 12;

/// A SIIT engine (the graybox configuration) with 8 KiB slots, offloads as asked.
fn siit(offload: bool, extra: &[(u16, Vec<u8>)]) -> Host {
    let mut h = Host::with_geometry(10, 8192, 0);
    let mut records = graybox_tlv();
    tlv(&mut records, tag::OFFLOAD, &[offload as u8]);
    for (t, v) in extra {
        tlv(&mut records, *t, v);
    }
    h.configure(&records).unwrap();
    h
}

/// Payload bytes that differ from one position to the next.
pub(super) fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + 3) as u8).collect()
}

/// A TCP segment (ACK|PSH, `options` bytes of NOP, NOP, timestamps) around `body`,
/// checksum field zero.
fn tcp(sport: u16, dport: u16, options: usize, flags: u8, body: &[u8]) -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(&sport.to_be_bytes());
    s.extend_from_slice(&dport.to_be_bytes());
    s.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2, (((20 + options) / 4) << 4) as u8, flags, 0xff, 0xff, 0, 0, 0, 0]);
    for i in 0..options {
        s.push(match i {
            0 | 1 => 1,
            2 => 8,
            3 => 10,
            _ => i as u8,
        });
    }
    s.extend_from_slice(body);
    s
}

/// A UDP datagram around `body`, checksum field zero.
pub(super) fn udp(sport: u16, dport: u16, body: &[u8]) -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(&sport.to_be_bytes());
    s.extend_from_slice(&dport.to_be_bytes());
    s.extend_from_slice(&((8 + body.len()) as u16).to_be_bytes());
    s.extend_from_slice(&[0, 0]);
    s.extend_from_slice(body);
    s
}

/// Stores in the checksum field at `seg[at..]` what the kernel leaves there for
/// CHECKSUM_PARTIAL: the folded, not inverted, sum of the IPv4 pseudo-header.
pub(super) fn partial_v4(seg: &mut [u8], at: usize, src: &[u8; 4], dst: &[u8; 4], proto: u8) {
    let pseudo = checksum::pseudo_v4(src, dst, proto, seg.len() as u32);
    seg[at..at + 2].copy_from_slice(&checksum::fold(pseudo).to_be_bytes());
}

/// [`partial_v4`] with the IPv6 pseudo-header.
pub(super) fn partial_v6(seg: &mut [u8], at: usize, src: &[u8; 16], dst: &[u8; 16], proto: u8) {
    let pseudo = checksum::pseudo_v6(src, dst, proto, seg.len() as u32);
    seg[at..at + 2].copy_from_slice(&checksum::fold(pseudo).to_be_bytes());
}

/// Stores the full checksum of the segment for `pseudo` in the field at `seg[at..]`.
pub(super) fn make_full(seg: &mut [u8], at: usize, pseudo: u64) {
    seg[at..at + 2].copy_from_slice(&[0, 0]);
    let c = checksum::finish(pseudo + checksum::sum(seg));
    seg[at..at + 2].copy_from_slice(&c.to_be_bytes());
}

pub(super) fn field(p: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([p[at], p[at + 1]])
}

/// The packet as the kernel sends it after completing the checksum `h` describes.
pub(super) fn complete_as_kernel(pkt: &[u8], h: &VnetHeader) -> Vec<u8> {
    let mut p = pkt.to_vec();
    let start = h.csum_start as usize;
    let at = start + h.csum_offset as usize;
    let c = checksum::finish(checksum::sum(&p[start..]));
    p[at..at + 2].copy_from_slice(&c.to_be_bytes());
    p
}

/// The transport checksum of an IPv4 packet computed from scratch.
fn scratch_v4(pkt: &[u8]) -> u16 {
    let ip = ipv4::parse(pkt).unwrap();
    let mut seg = pkt[ip.header_len..ip.total_len].to_vec();
    let at = if ip.protocol == UDP { 6 } else { 16 };
    let pseudo = checksum::pseudo_v4(&ip.src, &ip.dst, ip.protocol, seg.len() as u32);
    make_full(&mut seg, at, pseudo);
    field(&seg, at)
}

/// The transport checksum of an IPv6 packet without extension headers, from scratch.
fn scratch_v6(pkt: &[u8]) -> u16 {
    let ip = ipv6::parse(pkt).unwrap();
    let mut seg = pkt[40..40 + ip.payload_len].to_vec();
    let at = if ip.next_header == UDP { 6 } else { 16 };
    let pseudo = checksum::pseudo_v6(&ip.src, &ip.dst, ip.next_header, seg.len() as u32);
    make_full(&mut seg, at, pseudo);
    field(&seg, at)
}

pub(super) fn needs_csum(gso_type: u8, hdr_len: u16, gso_size: u16, csum_start: u16, csum_offset: u16) -> VnetHeader {
    VnetHeader { flags: F_NEEDS_CSUM, gso_type, hdr_len, gso_size, csum_start, csum_offset }
}

/// An IPv6 TCP super-packet of three full segments from `src` to `dst`, checksum partial.
fn tcp6_super(src: [u8; 16], dst: [u8; 16], body: &[u8]) -> Vec<u8> {
    let mut seg = tcp(2000, 80, TCP_OPTIONS, 0x18, body);
    partial_v6(&mut seg, 16, &src, &dst, TCP);
    v6(src, dst, TCP, 64, &[], &seg)
}

/// The one output of a batch of one packet.
fn only(out: Vec<Output>) -> Vec<u8> {
    assert_eq!(out.len(), 1, "one output for one packet");
    assert_eq!(out[0].2, OUT_TRANSLATED);
    out.into_iter().next().unwrap().0
}

#[test]
fn a_tcp6_super_packet_leaves_as_one_tcp4_super_packet() {
    let mut h = siit(true, &[]);
    let body = payload(3 * MSS);
    h.load(0, &tcp6_super(H6, H4_AS_V6, &body));
    h.load_vnet(0, &needs_csum(GSO_TCPV6, 72, MSS as u16, 40, 16));
    let p = only(h.run(1));
    let v = h.vnet_out(0);
    assert_eq!(v, needs_csum(GSO_TCPV4, 52, MSS as u16, 20, 16), "offsets moved 20 bytes forward, TSO for IPv4");
    let ip = ipv4::parse(&p).expect("a valid IPv4 header, its checksum included");
    assert_eq!((ip.total_len, p.len(), ip.src, ip.dst), (20 + 32 + 3 * MSS, 20 + 32 + 3 * MSS, H6_AS_V4, H4));
    assert!(ip.df(), "each 1480-byte segment is over 1260 bytes (RFC 7915 §5.1)");
    assert_eq!(&p[52..], &body[..]);
    let sent = complete_as_kernel(&p, &v);
    assert_eq!(field(&sent, 36), scratch_v4(&p));
    assert!(v4_l4_ok(&sent));
    assert_eq!(h.counter(Counter::offload_gso_packets), 1);
    assert_eq!(h.counter(Counter::offload_csum_partial), 1);
    assert_eq!(h.counter(Counter::offload_csum_completed), 0);
    assert_eq!(h.counter(Counter::translated_6to4), 1);
}

#[test]
fn a_tcp4_super_packet_with_options_and_ecn_leaves_as_tcp6() {
    let mut h = siit(true, &[]);
    let body = payload(3 * MSS);
    let mut seg = tcp(80, 2000, 0, 0x10, &body);
    partial_v4(&mut seg, 16, &H4, &H6_AS_V4, TCP);
    // Four bytes of IPv4 options (NOP NOP NOP EOL), which translation drops.
    let plain = v4(H4, H6_AS_V4, TCP, 64, ipv4::DF, &seg);
    let mut pkt = plain[..20].to_vec();
    pkt.extend_from_slice(&[1, 1, 1, 0]);
    pkt.extend_from_slice(&plain[20..]);
    pkt[0] = 0x46;
    let total = pkt.len() as u16;
    pkt[2..4].copy_from_slice(&total.to_be_bytes());
    refresh_v4_checksum(&mut pkt);
    h.load(0, &pkt);
    h.load_vnet(0, &needs_csum(GSO_TCPV4 | GSO_ECN, 44, MSS as u16, 24, 16));
    let p = only(h.run(1));
    let v = h.vnet_out(0);
    assert_eq!(v, needs_csum(GSO_TCPV6 | GSO_ECN, 60, MSS as u16, 40, 16));
    let ip = ipv6::parse(&p).unwrap();
    assert_eq!((ip.payload_len, ip.next_header, ip.src, ip.dst), (20 + 3 * MSS, TCP, H4_AS_V6, H6));
    assert_eq!(&p[60..], &body[..]);
    let sent = complete_as_kernel(&p, &v);
    assert_eq!(field(&sent, 56), scratch_v6(&p));
    assert!(v6_l4_ok(&sent));
}

#[test]
fn a_hairpinned_super_packet_is_translated_twice_and_stays_partial() {
    let mut h = siit(true, &[]);
    let src = a6([0x2001, 0xdb8, 3, 0, 0, 0, 0, 8]);
    let dst = a6([0x2001, 0xdb8, 0x101, 0, 9, 0, 0, 0]);
    let body = payload(3 * MSS);
    h.load(0, &tcp6_super(src, dst, &body));
    h.load_vnet(0, &needs_csum(GSO_TCPV6, 72, MSS as u16, 40, 16));
    let p = only(h.run(1));
    let v = h.vnet_out(0);
    assert_eq!(v, needs_csum(GSO_TCPV6, 72, MSS as u16, 40, 16));
    let ip = ipv6::parse(&p).unwrap();
    assert_eq!((ip.src, ip.dst), (a6([0x2001, 0xdb8, 0x101, 0, 8, 0, 0, 0]), a6([0x2001, 0xdb8, 3, 0, 0, 0, 0, 9])));
    assert_eq!(field(&complete_as_kernel(&p, &v), 56), scratch_v6(&p));
    assert_eq!(h.counter(Counter::hairpinned), 1);
}

#[test]
fn a_partial_udp_datagram_behind_an_extension_header() {
    let mut h = siit(true, &[]);
    let mut seg = udp(5000, 53, &payload(100));
    partial_v6(&mut seg, 6, &H6, &H4_AS_V6, UDP);
    let pkt = v6(H6, H4_AS_V6, DSTOPTS, 64, &[UDP, 0, 1, 4, 0, 0, 0, 0], &seg);
    h.load(0, &pkt);
    h.load_vnet(0, &needs_csum(GSO_NONE, 0, 0, 48, 6));
    let p = only(h.run(1));
    let v = h.vnet_out(0);
    assert_eq!(v, needs_csum(GSO_NONE, 28, 0, 20, 6), "from the real output header: 48 bytes in, 20 out");
    assert_eq!(field(&complete_as_kernel(&p, &v), 26), scratch_v4(&p));
    assert_eq!((h.counter(Counter::offload_csum_partial), h.counter(Counter::offload_gso_packets)), (1, 0));
}

#[test]
fn icmpv6_with_a_partial_checksum_is_completed_then_translated() {
    let mut h = siit(true, &[]);
    let mut msg = echo(128, 0, &payload(40));
    partial_v6(&mut msg, 2, &H6, &H4_AS_V6, ICMPV6);
    h.load(0, &v6(H6, H4_AS_V6, ICMPV6, 64, &[], &msg));
    h.load_vnet(0, &needs_csum(GSO_NONE, 0, 0, 40, 2));
    let p = only(h.run(1));
    assert_eq!(p[20], 8, "echo request");
    assert!(v4_l4_ok(&p), "the ICMPv4 checksum is a whole one");
    assert_eq!(h.vnet_out(0), VnetHeader::default());
    assert_eq!(h.counter(Counter::offload_csum_completed), 1);
}

/// A NAT64 engine with 8 KiB slots and offloads: 64:ff9b::/96, pool4 192.0.2.2 for
/// TCP and UDP, and the static binding UDP 2001:db8:1::5#3000 ↔ 192.0.2.2#4000.
fn nat64() -> Host {
    let mut h = Host::with_geometry(8, 8192, 1024);
    h.configure(&nat64_records()).unwrap();
    h
}

/// The records of [`nat64`].
pub(super) fn nat64_records() -> Vec<u8> {
    let mut b = Vec::new();
    tlv(&mut b, tag::MODE, &[1]);
    let mut pool6 = [0u8; 17];
    pool6[1..4].copy_from_slice(&[0x64, 0xff, 0x9b]);
    pool6[16] = 96;
    tlv(&mut b, tag::POOL6, &pool6);
    tlv(&mut b, tag::WKP_ALLOW_NONGLOBAL, &[1]);
    for proto in 0..2u8 {
        tlv(&mut b, tag::POOL4, &[proto, 192, 0, 2, 2, 32, 1, 0, 0xff, 0xff]);
    }
    let mut st = Vec::new();
    st.push(1);
    st.extend_from_slice(&CLIENT);
    st.extend_from_slice(&3000u16.to_le_bytes());
    st.extend_from_slice(&POOL4);
    st.extend_from_slice(&4000u16.to_le_bytes());
    tlv(&mut b, tag::STATIC_BIB, &st);
    tlv(&mut b, tag::OWN_IPV4, &[203, 0, 113, 1]);
    tlv(&mut b, tag::OWN_IPV6, &a6([0x2001, 0xdb8, 0xff, 0, 0, 0, 0, 1]));
    tlv(&mut b, tag::OFFLOAD, &[1]);
    b
}

pub(super) const CLIENT: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5];
pub(super) const SERVER: [u8; 4] = [198, 51, 100, 9];
pub(super) const SERVER6: [u8; 16] = [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 198, 51, 100, 9];
pub(super) const POOL4: [u8; 4] = [192, 0, 2, 2];

#[test]
fn nat64_port_rewrites_stay_out_of_the_partial_sum() {
    let mut h = nat64();
    // Out: the source port 3000 becomes 4000 in the bytes the kernel sums later.
    let mut seg = udp(3000, 53, &payload(64));
    partial_v6(&mut seg, 6, &CLIENT, &SERVER6, UDP);
    h.load(0, &v6(CLIENT, SERVER6, UDP, 64, &[], &seg));
    h.load_vnet(0, &needs_csum(GSO_NONE, 0, 0, 40, 6));
    let p = only(h.run(1));
    assert_eq!((field(&p, 20), &p[12..16]), (4000, &POOL4[..]));
    let v = h.vnet_out(0);
    assert_eq!(v, needs_csum(GSO_NONE, 28, 0, 20, 6));
    assert_eq!(field(&complete_as_kernel(&p, &v), 26), scratch_v4(&p));
    // Back: a USO super-packet of three datagrams' worth, destination port 4000 → 3000.
    let mut seg = udp(53, 4000, &payload(3 * 1000));
    partial_v4(&mut seg, 6, &SERVER, &POOL4, UDP);
    h.load(0, &v4(SERVER, POOL4, UDP, 64, 0, &seg));
    h.load_vnet(0, &needs_csum(GSO_UDP_L4, 28, 1000, 20, 6));
    let p = only(h.run(1));
    assert_eq!((field(&p, 42), &p[24..40]), (3000, &CLIENT[..]));
    let v = h.vnet_out(0);
    assert_eq!(v, needs_csum(GSO_UDP_L4, 48, 1000, 40, 6), "USO stays USO");
    assert_eq!(field(&complete_as_kernel(&p, &v), 46), scratch_v6(&p));
    assert_eq!(h.counter(Counter::offload_gso_packets), 1);
}

#[test]
fn a_stored_syn_is_kept_with_its_checksum_complete() {
    let mut h = nat64();
    let mut seg = tcp(80, 5000, 0, 0x02, &[]);
    partial_v4(&mut seg, 16, &SERVER, &POOL4, TCP);
    let syn = v4(SERVER, POOL4, TCP, 64, 0, &seg);
    h.load(0, &syn);
    h.load_vnet(0, &needs_csum(GSO_NONE, 0, 0, 20, 16));
    assert!(h.run(1).is_empty());
    assert_eq!((h.counter(Counter::nat64_syns_stored), h.counter(Counter::offload_csum_completed)), (1, 1));
    // RFC 6146 §3.5.2.2: six seconds later it is answered with port unreachable, quoting it.
    let (out, _) = h.expire(8000.0, 100);
    assert_eq!(out.len(), 1);
    let quoted = &out[0].0[28..];
    assert_eq!(&quoted[..36], &syn[..36]);
    assert_eq!(field(quoted, 36), scratch_v4(&syn));
    assert_eq!(h.vnet_out(0), VnetHeader::default());
}

#[test]
fn a_segment_too_big_gets_a_packet_too_big_quoting_a_complete_checksum() {
    let mut h = siit(true, &[(tag::MTU_V4, 1400u32.to_le_bytes().to_vec())]);
    let pkt = tcp6_super(H6, H4_AS_V6, &payload(3 * MSS));
    h.load(0, &pkt);
    h.load_vnet(0, &needs_csum(GSO_TCPV6, 72, MSS as u16, 40, 16));
    let out = h.run(1);
    assert_eq!(out.len(), 1);
    let (e, _, kind) = &out[0];
    assert_eq!(*kind, OUT_ICMP_ERROR);
    assert_eq!((&e[40..42], field(e, 46)), (&[2u8, 0][..], 1420), "Packet Too Big, MTU 1400 + 20");
    assert_eq!(e.len(), 1280);
    assert_eq!(field(e, 48 + 56), scratch_v6(&pkt), "the quoted segment's checksum is whole");
    assert_eq!(h.vnet_out(0), VnetHeader::default());
    assert_eq!((h.counter(Counter::drop_too_big), h.counter(Counter::offload_csum_completed)), (1, 1));
}

#[test]
fn a_super_packet_is_never_fragmented() {
    let mut h = siit(true, &[]);
    let mut seg = tcp(80, 2000, 0, 0x10, &payload(3 * MSS));
    partial_v4(&mut seg, 16, &H4, &H6_AS_V4, TCP);
    h.load(0, &v4(H4, H6_AS_V4, TCP, 64, 0, &seg));
    h.load_vnet(0, &needs_csum(GSO_TCPV4, 40, MSS as u16, 20, 16));
    assert!(h.run(1).is_empty(), "DF clear, 1488-byte segments over lowest-ipv6-mtu 1280");
    assert_eq!(h.counter(Counter::drop_gso_segment_too_big), 1);
    // A packet of the same size is fragmented (RFC 7915 §4), its checksum completed first.
    let mut seg = udp(5000, 53, &payload(1400));
    partial_v4(&mut seg, 6, &H4, &H6_AS_V4, UDP);
    h.load(0, &v4(H4, H6_AS_V4, UDP, 64, 0, &seg));
    h.load_vnet(0, &needs_csum(GSO_NONE, 0, 0, 20, 6));
    let out = h.run(1);
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|o| o.2 == OUT_FRAGMENT));
    assert_eq!((h.vnet_out(0), h.vnet_out(1)), (VnetHeader::default(), VnetHeader::default()));
    let mut datagram = out[0].0[48..].to_vec();
    datagram.extend_from_slice(&out[1].0[48..]);
    let ip = ipv6::parse(&out[0].0).unwrap();
    assert!(checksum::verifies(checksum::pseudo_v6(&ip.src, &ip.dst, UDP, datagram.len() as u32) + checksum::sum(&datagram)));
    assert_eq!(h.counter(Counter::offload_csum_completed), 1);
}

#[test]
fn headers_the_engine_refuses_drop_their_packet() {
    let mut h = siit(true, &[]);
    let body = payload(3 * MSS);
    let pkt = tcp6_super(H6, H4_AS_V6, &body);
    let len = pkt.len() as u16;
    let cases = [
        (needs_csum(GSO_NONE, 0, 0, len - 1, 0), Counter::drop_bad_vnet_header),
        (needs_csum(GSO_NONE, 0, 0, 40, len), Counter::drop_bad_vnet_header),
        (needs_csum(GSO_UDP, 72, MSS as u16, 40, 16), Counter::drop_gso_ufo),
        (VnetHeader { flags: 0, ..needs_csum(GSO_TCPV6, 72, MSS as u16, 40, 16) }, Counter::drop_gso_no_csum),
        (needs_csum(GSO_TCPV4, 72, MSS as u16, 40, 16), Counter::drop_gso_mismatch),
        (needs_csum(GSO_TCPV6, 72, MSS as u16, 40, 6), Counter::drop_gso_mismatch),
        (needs_csum(GSO_TCPV6, 72, 0, 40, 16), Counter::drop_bad_vnet_header),
        (needs_csum(2, 72, MSS as u16, 40, 16), Counter::drop_bad_vnet_header),
    ];
    for (i, (header, _)) in cases.iter().enumerate() {
        h.load(i, &pkt);
        h.load_vnet(i, header);
    }
    // A TCP Data Offset under 5 words is no TCP header to cut segments behind.
    let mut short = pkt.clone();
    short[52] = 0x40;
    h.load(cases.len(), &short);
    h.load_vnet(cases.len(), &needs_csum(GSO_TCPV6, 72, MSS as u16, 40, 16));
    assert!(h.run(cases.len() as u32 + 1).is_empty());
    assert_eq!(h.counter(Counter::drop_gso_mismatch), 3);
    for c in [Counter::drop_bad_vnet_header, Counter::drop_gso_ufo, Counter::drop_gso_no_csum] {
        assert_eq!(h.counter(c) as usize, cases.iter().filter(|(_, r)| *r == c).count(), "{:?}", c);
    }
    assert_eq!(h.counter(Counter::packets_in_v6), cases.len() as u64 + 1);
}

#[test]
fn a_super_packet_too_long_for_ipv4_is_dropped() {
    // 65496 transport bytes fill the largest slot; a translator is given more, as a
    // hairpin or a future slot size could: 65535 of them would need a 65555-byte IPv4 packet.
    let cfg: std::boxed::Box<Config> = graybox_config();
    let mut seg = tcp(2000, 80, 0, 0x10, &payload(65535 - 20));
    partial_v6(&mut seg, 16, &H6, &H4_AS_V6, TCP);
    let pkt = v6(H6, H4_AS_V6, TCP, 64, &[], &seg);
    let mut buf = std::vec![0u8; 64 + pkt.len()];
    buf[64..].copy_from_slice(&pkt);
    let (mut ids, mut scratch, mut bucket) = (IdGen::new(), [0u8; SCRATCH_LEN], TokenBucket::new());
    let mut tx = Tx::new(&cfg, &mut ids, &mut scratch, &mut bucket, 0.0);
    let gso = Some(Gso { size: MSS as u16, ecn: false });
    tx.partial = Some(Partial { l4: 104, end: buf.len(), protocol: TCP, l4_header: 20, gso });
    assert_eq!(translate64::translate::<false>(&mut tx, &mut buf, 64, pkt.len()), Verdict::Drop(Counter::drop_gso_too_long));
    tx.partial = None;
    assert_eq!(translate64::translate::<false>(&mut tx, &mut buf, 64, pkt.len()), Verdict::Drop(Counter::drop_too_big));
}

#[test]
fn without_offload_the_input_headers_are_not_read_and_outputs_get_zero_headers() {
    let mut h = siit(false, &[]);
    let pkt = udp6(H6, H4_AS_V6, 64, 100);
    h.load(0, &pkt);
    h.load_vnet(0, &needs_csum(GSO_UDP, 1, 2, 3, 4));
    let at = h.l.vnet_out;
    h.e.memory()[at..at + 16].fill(0xff);
    let p = only(h.run(1));
    assert!(v4_l4_ok(&p), "the full checksum was updated as always");
    assert_eq!(h.vnet_out(0), VnetHeader::default());
    assert_eq!(h.counter(Counter::offload_csum_partial) + h.counter(Counter::drop_gso_ufo), 0);
}

/// xorshift64*, for reproducible noise.

/// Random virtio-net headers on mutated packets never make the engine panic (a trap in
/// WebAssembly), UDP super-packets of translated output included, and every header it
/// writes points inside its output.
#[test]
fn mutated_headers_never_panic() {
    let mut h = siit(true, &[(tag::MTU_V4, 1400u32.to_le_bytes().to_vec()), (tag::USO, std::vec![3])]);
    let body = payload(2 * MSS + 100);
    let mut seg4 = tcp(80, 2000, 0, 0x10, &body);
    partial_v4(&mut seg4, 16, &H4, &H6_AS_V4, TCP);
    let mut useg = udp(5000, 53, &payload(300));
    partial_v6(&mut useg, 6, &H6, &H4_AS_V6, UDP);
    let templates: Vec<(Vec<u8>, VnetHeader)> = std::vec![
        (tcp6_super(H6, H4_AS_V6, &body), needs_csum(GSO_TCPV6, 72, MSS as u16, 40, 16)),
        (v4(H4, H6_AS_V4, TCP, 64, ipv4::DF, &seg4), needs_csum(GSO_TCPV4, 40, MSS as u16, 20, 16)),
        (v6(H6, H4_AS_V6, UDP, 64, &[], &useg), needs_csum(GSO_UDP_L4, 48, 100, 40, 6)),
        (v6(H6, H4_AS_V6, UDP, 64, &[], &useg), needs_csum(GSO_NONE, 0, 0, 40, 6)),
        (v6(H6, H4_AS_V6, UDP, 64, &[], &useg), needs_csum(GSO_NONE, 0, 0, 40, 6)),
        (udp6(H6, H4_AS_V6, 64, 300), VnetHeader { flags: F_DATA_VALID, ..VnetHeader::default() }),
        (udp4(H4, H6_AS_V4, 64, ipv4::DF, 200), VnetHeader { flags: F_DATA_VALID, ..VnetHeader::default() }),
        (tcp6_super(a6([0x2001, 0xdb8, 3, 0, 0, 0, 0, 8]), a6([0x2001, 0xdb8, 0x101, 0, 9, 0, 0, 0]), &body), needs_csum(GSO_TCPV6, 72, MSS as u16, 40, 16)),
        (v6(H6, H4_AS_V6, ICMPV6, 64, &[], &echo(128, 0, &[1; 30])), needs_csum(GSO_NONE, 0, 0, 40, 2)),
        (udp4(H4, H6_AS_V4, 64, 0, 1400), needs_csum(GSO_NONE, 0, 0, 20, 6)),
    ];
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..3000 {
        for slot in 0..8 {
            let (mut p, mut v) = templates[(rng.next() % templates.len() as u64) as usize].clone();
            for _ in 0..(rng.next() % 3) {
                let at = (rng.next() % p.len() as u64) as usize;
                p[at] = rng.next() as u8;
            }
            match rng.next() % 6 {
                0 => v.csum_start = rng.next() as u16,
                1 => v.csum_offset = rng.next() as u16,
                2 => v.gso_type = rng.next() as u8,
                3 => v.gso_size = (rng.next() % 3000) as u16,
                4 => v.flags = rng.next() as u8,
                _ => {}
            }
            if rng.next() % 4 == 0 {
                p.truncate((rng.next() % p.len() as u64) as usize + 1);
            }
            h.load(slot, &p);
            h.load_vnet(slot, &v);
        }
        for (j, (bytes, _, kind)) in h.run(8).into_iter().enumerate() {
            let v = h.vnet_out(j);
            if v.flags & F_NEEDS_CSUM != 0 {
                assert_eq!(kind, OUT_TRANSLATED);
                assert!(v.csum_start as usize + v.csum_offset as usize + 2 <= bytes.len());
                assert!((v.hdr_len as usize) <= bytes.len());
            } else {
                assert_eq!(v, VnetHeader::default());
            }
        }
    }
    assert!(h.counter(Counter::translated_6to4) > 0 && h.counter(Counter::offload_csum_completed) > 0);
    assert!(h.counter(Counter::offload_uso_packets) > 0);
}

//! UDP super-packets of translated output (USO) through the batch call: which datagrams
//! merge, the bytes and virtio-net header of a super-packet, the order of what leaves,
//! and the limits.
//!
//! A super-packet is checked the way the kernel sends it: cut into `gso_size` pieces
//! behind copies of its headers, each segment's lengths fixed (IPv4: its own
//! Identification and header checksum), its partial UDP checksum adjusted from the
//! super-packet's total length to its own and then completed
//! (`__udp_gso_segment`, `skb_checksum_help`). The segments must equal what the engine
//! sends without USO, datagram by datagram, checksums completed likewise; the IPv4
//! Identification (and so the header checksum) may differ.

extern crate std;
use std::collections::BTreeMap;
use std::vec::Vec;

use super::offload_tests::{field, make_full, nat64_records, needs_csum, partial_v4, partial_v6, udp, CLIENT, POOL4, SERVER, SERVER6};
use super::test_host::{Host, Output};
use crate::bytes::put16;
use crate::checksum;
use crate::config::{tag, USO_V4, USO_V6};
use crate::counters::Counter;
use crate::ipv4;
use crate::ipv6;
use crate::offload::{VnetHeader, F_DATA_VALID, F_NEEDS_CSUM, GSO_NONE, GSO_UDP_L4};
use crate::protocol::{DSTOPTS, TCP, UDP};
use crate::testutil::*;
use crate::OUT_TRANSLATED;

/// How the checksum of a test datagram comes in.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Csum {
    /// NEEDS_CSUM: the field holds the pseudo-header sum.
    Partial,
    /// A full checksum the kernel verified (DATA_VALID).
    Verified,
    /// A full checksum nobody verified (flags 0).
    Full,
}

/// The input header of a datagram with checksum `c` and `hl` bytes of IP header.
fn vnet_in(c: Csum, hl: u16) -> VnetHeader {
    match c {
        Csum::Partial => needs_csum(GSO_NONE, 0, 0, hl, 6),
        Csum::Verified => VnetHeader { flags: F_DATA_VALID, ..VnetHeader::default() },
        Csum::Full => VnetHeader::default(),
    }
}

/// `n` payload bytes that tell datagram `mark` from the others.
fn body(n: usize, mark: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(7).wrapping_add(mark.wrapping_mul(31))).collect()
}

/// A test datagram: its bytes and its input header.
type Datagram = (Vec<u8>, VnetHeader);

/// An IPv6 UDP datagram from `H6` port `sport` to `H4_AS_V6` port 53 (it leaves as IPv4).
fn from6(sport: u16, n: usize, mark: u8, c: Csum) -> Datagram {
    let mut seg = udp(sport, 53, &body(n, mark));
    let len = seg.len() as u32;
    match c {
        Csum::Partial => partial_v6(&mut seg, 6, &H6, &H4_AS_V6, UDP),
        _ => make_full(&mut seg, 6, checksum::pseudo_v6(&H6, &H4_AS_V6, UDP, len)),
    }
    (v6(H6, H4_AS_V6, UDP, 64, &[], &seg), vnet_in(c, 40))
}

/// An IPv4 UDP datagram (DF set) from `H4` port `sport` to `H6_AS_V4` port 53 (it leaves as IPv6).
fn from4(sport: u16, n: usize, mark: u8, c: Csum) -> Datagram {
    let mut seg = udp(sport, 53, &body(n, mark));
    let len = seg.len() as u32;
    match c {
        Csum::Partial => partial_v4(&mut seg, 6, &H4, &H6_AS_V4, UDP),
        _ => make_full(&mut seg, 6, checksum::pseudo_v4(&H4, &H6_AS_V4, UDP, len)),
    }
    (v4(H4, H6_AS_V4, UDP, 64, ipv4::DF, &seg), vnet_in(c, 20))
}

/// A SIIT engine (graybox) with offloads, next-hop MTUs of 65535, `slots` slots of
/// `slot_size` bytes, and a USO record when `uso` is given.
fn host(slots: u32, slot_size: u32, uso: Option<u8>, extra: &[(u16, Vec<u8>)]) -> Host {
    let mut h = Host::with_geometry(slots, slot_size, 0);
    let mut records = graybox_tlv();
    tlv(&mut records, tag::OFFLOAD, &[1]);
    tlv(&mut records, tag::MTU_V4, &65535u32.to_le_bytes());
    tlv(&mut records, tag::MTU_V6, &65535u32.to_le_bytes());
    if let Some(m) = uso {
        tlv(&mut records, tag::USO, &[m]);
    }
    for (t, v) in extra {
        tlv(&mut records, *t, v);
    }
    h.configure(&records).unwrap();
    h
}

/// Loads `batch` into `h` and runs it; the outputs with their virtio-net headers.
fn run(h: &mut Host, batch: &[Datagram]) -> Vec<(Output, VnetHeader)> {
    for (i, (p, v)) in batch.iter().enumerate() {
        h.load(i, p);
        h.load_vnet(i, v);
    }
    let out = h.run(batch.len() as u32);
    (0..out.len()).map(|j| h.vnet_out(j)).zip(out).map(|(v, o)| (o, v)).collect()
}

/// Completes a partial checksum whose sum starts at `from` and whose field is at
/// `field`, as `skb_checksum_help` does (a 0 result is sent as 0xffff).
fn complete(p: &mut [u8], from: usize, at: usize) {
    let c = checksum::finish(checksum::sum(&p[from..]));
    put16(p, at, if c == 0 { 0xffff } else { c });
}

/// The segments the kernel cuts super-packet `p` with header `h` into, checksums
/// completed, after checking that the kernel takes it (virtio_net_hdr_to_skb,
/// __udp_gso_segment): partial UDP checksum, headers in `hdr_len`, more than one and
/// at most 64 segments, lengths covering the whole packet.
fn segment(p: &[u8], h: &VnetHeader) -> Vec<Vec<u8>> {
    assert_eq!((h.flags, h.gso_type, h.csum_offset), (F_NEEDS_CSUM, GSO_UDP_L4, 6));
    let hl = h.csum_start as usize;
    let v6 = p[0] >> 4 == 6;
    assert_eq!(hl, if v6 { 40 } else { 20 });
    assert_eq!(h.hdr_len as usize, hl + 8);
    let mss = h.gso_size as usize;
    let payload = &p[hl + 8..];
    assert!(payload.len() > mss && payload.len() <= 64 * mss, "{} bytes in {}-byte segments", payload.len(), mss);
    let udp_len = field(p, hl + 4);
    assert_eq!(udp_len as usize, 8 + payload.len());
    if v6 {
        assert_eq!(field(p, 4), udp_len);
    } else {
        let ip = ipv4::parse(p).expect("a valid IPv4 header, its checksum included");
        assert_eq!(ip.total_len, p.len());
    }
    let check = field(p, hl + 6);
    payload
        .chunks(mss)
        .enumerate()
        .map(|(k, piece)| {
            let mut s = p[..hl + 8].to_vec();
            s.extend_from_slice(piece);
            let len = (8 + piece.len()) as u16;
            put16(&mut s, hl + 4, len);
            // The partial sum loses the super-packet's UDP length and gains the segment's.
            put16(&mut s, hl + 6, checksum::fold(check as u64 + !udp_len as u64 + len as u64));
            if v6 {
                put16(&mut s, 4, len);
            } else {
                put16(&mut s, 2, hl as u16 + len);
                let id = field(&s, 4).wrapping_add(k as u16);
                put16(&mut s, 4, id);
                refresh_v4_checksum(&mut s);
            }
            complete(&mut s, hl, hl + 6);
            s
        })
        .collect()
}

/// The datagrams of `out` as they leave the kernel: super-packets cut, partial
/// checksums completed; each with the slot of its descriptor.
fn on_the_wire(out: &[(Output, VnetHeader)]) -> Vec<(Vec<u8>, u32)> {
    let mut wire = Vec::new();
    for ((bytes, slot, _), v) in out {
        if v.gso_type == GSO_UDP_L4 {
            wire.extend(segment(bytes, v).into_iter().map(|s| (s, *slot)));
        } else {
            let mut p = bytes.clone();
            if v.flags & F_NEEDS_CSUM != 0 {
                let from = v.csum_start as usize;
                complete(&mut p, from, from + v.csum_offset as usize);
            }
            wire.push((p, *slot));
        }
    }
    wire
}

/// `p` with its IPv4 Identification and header checksum blanked: the kernel numbers
/// the segments of a super-packet itself.
fn masked(p: &[u8]) -> Vec<u8> {
    let mut m = p.to_vec();
    if m[0] >> 4 == 4 {
        m[4..6].fill(0);
        m[10..12].fill(0);
    }
    m
}

/// The flow of a UDP packet: family, addresses and ports.
fn flow(p: &[u8]) -> Vec<u8> {
    if p[0] >> 4 == 6 {
        p[8..44].to_vec()
    } else {
        p[12..24].to_vec()
    }
}

/// The datagrams on the wire, flow by flow in their order, IDs masked.
fn by_flow(wire: &[(Vec<u8>, u32)]) -> BTreeMap<Vec<u8>, Vec<Vec<u8>>> {
    let mut m: BTreeMap<Vec<u8>, Vec<Vec<u8>>> = BTreeMap::new();
    for (p, _) in wire {
        m.entry(flow(p)).or_default().push(masked(p));
    }
    m
}

/// Runs `batch` with USO `uso` and without, and checks that once cut by the kernel
/// the outputs are the same datagrams in the same order per flow, each with a
/// checksum that verifies; returns the outputs with USO.
fn same_datagrams(slots: u32, slot_size: u32, uso: u8, batch: &[Datagram]) -> Vec<(Output, VnetHeader)> {
    let mut with = host(slots, slot_size, Some(uso), &[]);
    let mut without = host(slots, slot_size, None, &[]);
    let out = run(&mut with, batch);
    let reference = run(&mut without, batch);
    let wire = on_the_wire(&out);
    let (got, want) = (by_flow(&wire), by_flow(&on_the_wire(&reference)));
    assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>());
    for (f, w) in &want {
        let g = &got[f];
        let lens = |v: &[Vec<u8>]| v.iter().map(|p| p.len()).collect::<Vec<_>>();
        assert_eq!(lens(g), lens(w), "datagram sizes of flow {:?}", f);
        for (k, (a, b)) in g.iter().zip(w).enumerate() {
            assert!(a == b, "datagram {} of flow {:?} differs at bytes {:?}", k, f, (0..a.len()).filter(|&i| a[i] != b[i]).collect::<Vec<_>>());
        }
    }
    for (p, _) in &wire {
        assert!(if p[0] >> 4 == 6 { v6_l4_ok(p) } else { ipv4::parse(p).is_ok() && v4_l4_ok(p) });
    }
    for c in [Counter::out4_udp_packets, Counter::out4_udp_bytes, Counter::out6_udp_packets, Counter::out6_udp_bytes, Counter::translated_6to4, Counter::translated_4to6] {
        assert_eq!(with.counter(c), without.counter(c), "{:?} counts datagrams as without USO", c);
    }
    let merged: usize = out.iter().filter(|(_, v)| v.gso_type == GSO_UDP_L4).map(|(o, v)| segment(&o.0, v).len()).sum();
    assert_eq!(with.counter(Counter::offload_uso_datagrams), merged as u64);
    assert_eq!(with.counter(Counter::offload_uso_packets), out.iter().filter(|(_, v)| v.gso_type == GSO_UDP_L4).count() as u64);
    out
}

#[test]
fn ten_partial_ipv6_datagrams_leave_as_one_ipv4_super_packet() {
    let batch: Vec<Datagram> = (0..10).map(|k| from6(5000, 200, k, Csum::Partial)).collect();
    let out = same_datagrams(10, 2048, USO_V4 | USO_V6, &batch);
    assert_eq!(out.len(), 1);
    let ((p, slot, kind), v) = &out[0];
    assert_eq!((*slot, *kind), (0, OUT_TRANSLATED));
    assert_eq!(*v, needs_csum(GSO_UDP_L4, 28, 200, 20, 6));
    assert_eq!(p.len(), 20 + 8 + 10 * 200);
    let ip = ipv4::parse(p).unwrap();
    assert_eq!((ip.src, ip.dst, ip.protocol, ip.df()), (H6_AS_V4, H4, UDP, false));
    let pseudo = checksum::pseudo_v4(&H6_AS_V4, &H4, UDP, 8 + 2000);
    assert_eq!(field(p, 26), checksum::fold(pseudo), "the pseudo-header sum over the whole UDP length");
    for (k, (d, _)) in batch.iter().enumerate() {
        assert_eq!(&p[28 + 200 * k..28 + 200 * (k + 1)], &d[48..], "payload {} in its place", k);
    }
    assert_eq!(segment(p, v).len(), 10);
}

#[test]
fn ipv4_datagrams_leave_as_one_ipv6_super_packet_the_smaller_last() {
    let mut batch: Vec<Datagram> = (0..9).map(|k| from4(6000, 300, k, Csum::Partial)).collect();
    batch.push(from4(6000, 120, 9, Csum::Partial));
    let out = same_datagrams(10, 2048, USO_V4 | USO_V6, &batch);
    assert_eq!(out.len(), 1);
    let ((p, slot, _), v) = &out[0];
    assert_eq!(*slot, 0);
    assert_eq!(*v, needs_csum(GSO_UDP_L4, 48, 300, 40, 6));
    assert_eq!(p.len(), 40 + 8 + 9 * 300 + 120);
    let ip = ipv6::parse(p).unwrap();
    assert_eq!((ip.src, ip.dst, ip.next_header, ip.payload_len), (H4_AS_V6, H6, UDP, 8 + 9 * 300 + 120));
    assert_eq!(field(p, 46), checksum::fold(checksum::pseudo_v6(&H4_AS_V6, &H6, UDP, 8 + 9 * 300 + 120)));
    let segments = segment(p, v);
    assert_eq!(segments.last().unwrap().len(), 40 + 8 + 120);
}

#[test]
fn verified_checksums_merge_too() {
    let batch: Vec<Datagram> = (0..4).map(|k| from4(6000, 100, k, Csum::Verified)).collect();
    let out = same_datagrams(4, 2048, USO_V6, &batch);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].1, needs_csum(GSO_UDP_L4, 48, 100, 40, 6));
}

#[test]
fn interleaved_flows_become_one_super_packet_each_in_their_order() {
    // Two flows between the same hosts, and a TCP segment between them, which carries
    // none of their datagrams and stays where it is.
    let tcp = (v6(H6, H4_AS_V6, TCP, 64, &[], &l4(TCP, checksum::pseudo_v6(&H6, &H4_AS_V6, TCP, 20), &[])), VnetHeader::default());
    let mut batch = Vec::new();
    for k in 0..3u8 {
        batch.push(from6(5000, 100, 2 * k, Csum::Partial));
        batch.push(from6(5001, 100, 2 * k + 1, Csum::Partial));
        if k == 0 {
            batch.push(tcp.clone());
        }
    }
    let out = same_datagrams(8, 2048, USO_V4, &batch);
    assert_eq!(out.len(), 3);
    assert_eq!(out.iter().map(|o| o.0 .1).collect::<Vec<_>>(), [0, 1, 2], "each at its flow's first datagram, TCP in between");
    assert_eq!((field(&out[0].0 .0, 20), field(&out[1].0 .0, 20)), (5000, 5001));
    assert_eq!(out[2].1, VnetHeader::default());
    for ((p, _, _), v) in &out[..2] {
        assert_eq!(segment(p, v).len(), 3);
    }
}

#[test]
fn a_larger_or_smaller_datagram_ends_the_run() {
    let sizes = [200, 200, 100, 200, 200, 300, 300, 300];
    let batch: Vec<Datagram> = sizes.iter().enumerate().map(|(k, n)| from6(5000, *n, k as u8, Csum::Partial)).collect();
    let out = same_datagrams(8, 2048, USO_V4, &batch);
    let runs: Vec<(u32, u16, usize)> = out.iter().map(|((p, slot, _), v)| (*slot, v.gso_size, segment(p, v).len())).collect();
    assert_eq!(runs, [(0, 200, 3), (3, 200, 2), (5, 300, 3)]);
}

#[test]
fn a_datagram_whose_segment_headers_differ_ends_its_flows_run() {
    let hops = [64, 64, 63, 64, 64];
    let batch: Vec<Datagram> = hops
        .iter()
        .enumerate()
        .map(|(k, hop)| {
            let (mut p, v) = from6(5000, 100, k as u8, Csum::Partial);
            p[7] = *hop;
            (p, v)
        })
        .collect();
    let out = same_datagrams(5, 2048, USO_V4, &batch);
    assert_eq!(out.iter().map(|o| (o.0 .1, o.1.gso_type)).collect::<Vec<_>>(), [(0, GSO_UDP_L4), (2, GSO_NONE), (3, GSO_UDP_L4)]);
    assert_eq!(out[1].0 .0[8], 62);
}

#[test]
fn stateful_nat64_sessions_coalesce_both_ways() {
    let mut h = Host::with_geometry(8, 8192, 1024);
    let mut records = nat64_records();
    tlv(&mut records, tag::USO, &[USO_V4 | USO_V6]);
    h.configure(&records).unwrap();
    let out6: Vec<Datagram> = (0..4)
        .map(|k| {
            let mut seg = udp(3000, 53, &body(100, k));
            partial_v6(&mut seg, 6, &CLIENT, &SERVER6, UDP);
            (v6(CLIENT, SERVER6, UDP, 64, &[], &seg), vnet_in(Csum::Partial, 40))
        })
        .collect();
    let out = run(&mut h, &out6);
    assert_eq!(out.len(), 1);
    let segments = segment(&out[0].0 .0, &out[0].1);
    assert_eq!(segments.len(), 4);
    for (k, s) in segments.iter().enumerate() {
        assert_eq!((&s[12..16], field(s, 20), &s[28..]), (&POOL4[..], 4000, &body(100, k as u8)[..]));
        assert!(v4_l4_ok(s));
    }
    // Back: the static binding's IPv4 end, to the client's port.
    let back: Vec<Datagram> = (0..4)
        .map(|k| {
            let mut seg = udp(53, 4000, &body(100, k));
            partial_v4(&mut seg, 6, &SERVER, &POOL4, UDP);
            (v4(SERVER, POOL4, UDP, 64, 0, &seg), vnet_in(Csum::Partial, 20))
        })
        .collect();
    let out = run(&mut h, &back);
    assert_eq!(out.len(), 1);
    for s in segment(&out[0].0 .0, &out[0].1) {
        assert_eq!((&s[24..40], field(&s, 42)), (&CLIENT[..], 3000));
        assert!(v6_l4_ok(&s));
    }
    assert_eq!((h.counter(Counter::offload_uso_packets), h.counter(Counter::offload_uso_datagrams)), (2, 8));
}

#[test]
fn an_unverified_full_checksum_is_not_merged_and_ends_its_flows_run() {
    let kinds = [Csum::Partial, Csum::Partial, Csum::Full, Csum::Partial, Csum::Partial];
    let batch: Vec<Datagram> = kinds.iter().enumerate().map(|(k, c)| from6(5000, 100, k as u8, *c)).collect();
    let out = same_datagrams(5, 2048, USO_V4, &batch);
    assert_eq!(out.iter().map(|o| (o.0 .1, o.1.gso_type)).collect::<Vec<_>>(), [(0, GSO_UDP_L4), (2, GSO_NONE), (3, GSO_UDP_L4)]);
    assert_eq!(out[1].1, VnetHeader::default(), "its own checksum, updated");
    let full: Vec<Datagram> = (0..3).map(|k| from4(6000, 100, k, Csum::Full)).collect();
    assert_eq!(same_datagrams(3, 2048, USO_V6, &full).len(), 3);
}

#[test]
fn only_the_families_in_the_mask_are_coalesced() {
    let mut batch: Vec<Datagram> = (0..4).map(|k| from6(5000, 100, k, Csum::Partial)).collect();
    batch.extend((0..4).map(|k| from4(6000, 100, k, Csum::Partial)));
    let out = same_datagrams(8, 2048, USO_V4, &batch);
    assert_eq!(out.len(), 5);
    assert_eq!(out[0].1.gso_type, GSO_UDP_L4);
    let mut without = host(8, 2048, None, &[]);
    let reference = run(&mut without, &batch);
    assert_eq!(&out[1..], &reference[4..], "the IPv6 outputs as they were, headers included");
    let out = same_datagrams(8, 2048, USO_V6, &batch);
    assert_eq!(out.len(), 5);
    assert_eq!(&out[..4], &reference[..4]);
    assert_eq!((out[4].0 .1, out[4].1.gso_type), (4, GSO_UDP_L4));
}

#[test]
fn without_uso_the_batch_is_what_each_packet_gives_alone() {
    let mut batch: Vec<Datagram> = (0..6).map(|k| from6(5000, 100, k, Csum::Partial)).collect();
    batch.extend((0..4).map(|k| from4(6000, 100, k, Csum::Verified)));
    for uso in [None, Some(0)] {
        let mut h = host(10, 2048, uso, &[]);
        let mut alone = host(10, 2048, uso, &[]);
        let out = run(&mut h, &batch);
        assert_eq!(out.len(), batch.len());
        for (i, d) in batch.iter().enumerate() {
            let one = run(&mut alone, std::slice::from_ref(d));
            assert_eq!((&out[i].0 .0, out[i].1), (&one[0].0 .0, one[0].1), "output {}", i);
            assert_eq!(out[i].0 .1, i as u32);
        }
        assert_eq!(h.counter(Counter::offload_uso_packets), 0);
    }
}

#[test]
fn a_lone_datagram_of_its_flow_is_left_as_it_is() {
    let batch = [from6(5000, 100, 0, Csum::Partial), from6(5001, 100, 1, Csum::Partial), from4(6000, 100, 2, Csum::Verified)];
    let out = same_datagrams(3, 2048, USO_V4 | USO_V6, &batch);
    let mut without = host(3, 2048, None, &[]);
    assert_eq!(out, run(&mut without, &batch));
}

#[test]
fn at_most_64_datagrams_in_a_super_packet() {
    let batch: Vec<Datagram> = (0..70).map(|k| from6(5000, 100, k, Csum::Partial)).collect();
    let out = same_datagrams(70, 2048, USO_V4, &batch);
    let runs: Vec<(u32, usize)> = out.iter().map(|((p, slot, _), v)| (*slot, segment(p, v).len())).collect();
    assert_eq!(runs, [(0, 64), (64, 6)]);
}

#[test]
fn at_most_65535_bytes_of_ip_packet() {
    // IPv4: 20 + 8 + 7 × 9000 + 2507 = 65535 (all over 1260 bytes: DF on each).
    for (last, want) in [(2507, std::vec![8]), (2508, std::vec![7, 1])] {
        let mut batch: Vec<Datagram> = (0..7).map(|k| from6(5000, 9000, k, Csum::Partial)).collect();
        batch.push(from6(5000, last, 7, Csum::Partial));
        let out = same_datagrams(8, 9216, USO_V4, &batch);
        let counts: Vec<usize> = out.iter().map(|((p, _, _), v)| if v.gso_type == GSO_UDP_L4 { segment(p, v).len() } else { 1 }).collect();
        assert_eq!(counts, want, "last datagram of {} bytes", last);
        if want.len() == 1 {
            assert_eq!(out[0].0 .0.len(), 65535);
        }
    }
    // IPv6: 40 + 8 + 8 × 8185 + 7 = 65535.
    for (last, want) in [(7, std::vec![9]), (8, std::vec![8, 1])] {
        let mut batch: Vec<Datagram> = (0..8).map(|k| from4(6000, 8185, k, Csum::Partial)).collect();
        batch.push(from4(6000, last, 8, Csum::Partial));
        let out = same_datagrams(9, 8320, USO_V6, &batch);
        let counts: Vec<usize> = out.iter().map(|((p, _, _), v)| if v.gso_type == GSO_UDP_L4 { segment(p, v).len() } else { 1 }).collect();
        assert_eq!(counts, want, "last datagram of {} bytes", last);
    }
}

#[test]
fn past_32_open_runs_the_oldest_is_closed() {
    // 33 flows, then the last two again: the first flow's run was closed to open the
    // 33rd, so its second datagram leaves alone; the 33rd flow's two merge.
    let mut batch: Vec<Datagram> = (0..33).map(|f| from6(5000 + f, 100, f as u8, Csum::Partial)).collect();
    batch.push(from6(5000, 100, 33, Csum::Partial));
    batch.push(from6(5032, 100, 34, Csum::Partial));
    let out = same_datagrams(35, 2048, USO_V4, &batch);
    assert_eq!(out.len(), 34);
    let merged: Vec<(u32, u16)> = out.iter().filter(|o| o.1.gso_type == GSO_UDP_L4).map(|o| (o.0 .1, field(&o.0 .0, 20))).collect();
    assert_eq!(merged, [(32, 5032)]);
}

#[test]
fn what_is_never_merged() {
    let hairpin = |k: u8| {
        let (src, dst) = (a6([0x2001, 0xdb8, 3, 0, 0, 0, 0, 8]), a6([0x2001, 0xdb8, 0x101, 0, 9, 0, 0, 0]));
        let mut seg = udp(5000, 53, &body(100, k));
        partial_v6(&mut seg, 6, &src, &dst, UDP);
        (v6(src, dst, UDP, 64, &[], &seg), vnet_in(Csum::Partial, 40))
    };
    let ext = |k: u8| {
        let mut seg = udp(5000, 53, &body(100, k));
        partial_v6(&mut seg, 6, &H6, &H4_AS_V6, UDP);
        (v6(H6, H4_AS_V6, DSTOPTS, 64, &[UDP, 0, 1, 4, 0, 0, 0, 0], &seg), vnet_in(Csum::Partial, 48))
    };
    let options = |k: u8| {
        let (p, _) = from4(6000, 100, k, Csum::Partial);
        let mut q = p[..20].to_vec();
        q.extend_from_slice(&[1, 1, 1, 0]);
        q.extend_from_slice(&p[20..]);
        q[0] = 0x46;
        let len = q.len() as u16;
        put16(&mut q, 2, len);
        refresh_v4_checksum(&mut q);
        (q, vnet_in(Csum::Partial, 24))
    };
    let gso = |k: u8| {
        let mut seg = udp(5000, 53, &body(300, k));
        partial_v6(&mut seg, 6, &H6, &H4_AS_V6, UDP);
        (v6(H6, H4_AS_V6, UDP, 64, &[], &seg), needs_csum(GSO_UDP_L4, 48, 100, 40, 6))
    };
    let no_checksum = |k: u8| {
        let (mut p, _) = from4(6000, 100, k, Csum::Full);
        put16(&mut p, 26, 0);
        (p, vnet_in(Csum::Verified, 20))
    };
    let empty = |_: u8| from6(5000, 0, 0, Csum::Partial);
    let cases: [(&str, &dyn Fn(u8) -> Datagram); 6] =
        [("hairpin", &hairpin), ("IPv6 extension header", &ext), ("IPv4 options", &options), ("GSO input", &gso), ("UDP checksum 0", &no_checksum), ("no payload", &empty)];
    for (what, make) in cases {
        let batch: Vec<Datagram> = (0..3).map(make).collect();
        let mut h = host(3, 2048, Some(USO_V4 | USO_V6), &[(tag::UDP_ZERO_CSUM, std::vec![1])]);
        let mut without = host(3, 2048, None, &[(tag::UDP_ZERO_CSUM, std::vec![1])]);
        let out = run(&mut h, &batch);
        assert_eq!(out.len(), 3, "{}", what);
        assert_eq!(out, run(&mut without, &batch), "{}", what);
        assert_eq!(h.counter(Counter::offload_uso_packets), 0, "{}", what);
    }
}

#[test]
fn without_spill_room_the_datagrams_leave_one_by_one() {
    // IPv4 links of 68 bytes: a 1200-byte IPv6 datagram (DF clear once translated)
    // leaves in 25 fragments, 24 of them (1632 bytes) in the spill area, whose 4 × 1344
    // bytes then lack the 2348 the super-packet of the two IPv4 datagrams would take.
    let mut h = Host::with_geometry(4, 1344, 0);
    let mut records = graybox_tlv();
    for (t, v) in [(tag::OFFLOAD, std::vec![1]), (tag::USO, std::vec![USO_V6]), (tag::MTU_V4, 68u32.to_le_bytes().to_vec())] {
        tlv(&mut records, t, &v);
    }
    h.configure(&records).unwrap();
    let fragmented = (0..2).map(|k| from6(5000, 1152, k, Csum::Full));
    let batch: Vec<Datagram> = fragmented.chain((0..2).map(|k| from4(6000, 1150, k, Csum::Partial))).collect();
    let out = run(&mut h, &batch);
    assert_eq!(out.len(), 2 * 25 + 2);
    assert!(out.iter().all(|o| o.1.gso_type == GSO_NONE));
    assert_eq!(h.counter(Counter::offload_uso_packets), 0);
    // The same two datagrams alone do fit.
    let out = run(&mut h, &batch[2..]);
    assert_eq!((out.len(), out[0].1.gso_type), (1, GSO_UDP_L4));
}

/// xorshift64*, for reproducible noise.

/// Random batches of a few flows both ways, with sizes that start and end runs, all
/// three checksum states and TCP in between: what leaves, once cut by the kernel, is
/// what leaves without USO, flow by flow in order.
#[test]
fn random_batches_leave_the_same_datagrams_in_each_flows_order() {
    let mut rng = Rng(0x5eed_0f_0c0a_1e5c);
    let sizes = [100, 100, 100, 100, 60, 200, 1, 1300];
    let csums = [Csum::Partial, Csum::Partial, Csum::Verified, Csum::Full];
    let mut merged = 0;
    for _ in 0..400 {
        let n = 1 + (rng.next() % 32) as usize;
        let batch: Vec<Datagram> = (0..n)
            .map(|k| {
                let size = sizes[(rng.next() % sizes.len() as u64) as usize];
                let c = csums[(rng.next() % csums.len() as u64) as usize];
                match rng.next() % 6 {
                    0 | 1 => from6(5000, size, k as u8, c),
                    2 => from6(5001, size, k as u8, c),
                    3 => from4(6000, size, k as u8, c),
                    4 => from4(6001, size, k as u8, c),
                    _ => (v6(H6, H4_AS_V6, TCP, 64, &[], &l4(TCP, checksum::pseudo_v6(&H6, &H4_AS_V6, TCP, 20 + size as u32), &body(size, k as u8))), VnetHeader::default()),
                }
            })
            .collect();
        let out = same_datagrams(32, 2048, USO_V4 | USO_V6, &batch);
        merged += out.iter().filter(|o| o.1.gso_type == GSO_UDP_L4).count();
    }
    assert!(merged > 100, "super-packets were built ({})", merged);
}

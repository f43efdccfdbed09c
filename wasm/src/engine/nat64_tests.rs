//! Stateful NAT64 through the batch and timer calls, as the host drives them: bindings
//! both ways, refusals and their answers, held fragments, stored SYNs, probes,
//! hairpinning, limits, snapshots and listings through the state buffer.

extern crate std;
use std::vec::Vec;

use super::exchange::{NO_MORE, PAGE_HEADER};
use super::test_host::{Host, Output};
use crate::checksum;
use crate::config::tag;
use crate::counters::Counter;
use crate::ipv4;
use crate::ipv6;
use crate::nat64::records::SESSION_RECORD;
use crate::protocol::{FRAGMENT, TCP, UDP};
use crate::testutil::*;
use crate::{OUT_ICMP_ERROR, OUT_PROBE, OUT_TRANSLATED};

/// The IPv6 client.
const CLIENT: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5];
/// A second IPv6 client.
const CLIENT2: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6];
/// The IPv4 server.
const SERVER: [u8; 4] = [198, 51, 100, 9];
/// The pool4 address.
const POOL4: [u8; 4] = [192, 0, 2, 2];
const SYN: u8 = 0x02;
const ACK: u8 = 0x10;

/// An address inside 64:ff9b::/96.
fn wkp(v4: [u8; 4]) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[..4].copy_from_slice(&[0, 0x64, 0xff, 0x9b]);
    a[12..].copy_from_slice(&v4);
    a
}

/// The NAT64 configuration: 64:ff9b::/96 (non-global documentation addresses allowed),
/// pool4 192.0.2.2 with every port, own addresses, and `extra` records.
fn nat64_tlv(extra: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut b = Vec::new();
    tlv(&mut b, tag::MODE, &[1]);
    let mut pool6 = [0u8; 17];
    pool6[..16].copy_from_slice(&wkp([0; 4]));
    pool6[16] = 96;
    tlv(&mut b, tag::POOL6, &pool6);
    tlv(&mut b, tag::WKP_ALLOW_NONGLOBAL, &[1]);
    for proto in 0..3u8 {
        tlv(&mut b, tag::POOL4, &[proto, 192, 0, 2, 2, 32, 1, 0, 0xff, 0xff]);
    }
    tlv(&mut b, tag::OWN_IPV4, &[203, 0, 113, 1]);
    tlv(&mut b, tag::OWN_IPV6, &a6([0x2001, 0xdb8, 0xff, 0, 0, 0, 0, 1]));
    for (t, v) in extra {
        tlv(&mut b, *t, v);
    }
    b
}

fn host(extra: &[(u16, Vec<u8>)]) -> Host {
    let mut h = Host::with_sessions(8, 1024);
    h.configure(&nat64_tlv(extra)).unwrap();
    h
}

/// A TCP or UDP segment with ports, TCP flags and a checksum for `pseudo`.
fn segment(proto: u8, sport: u16, dport: u16, flags: u8, body: &[u8], pseudo: u64) -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(&sport.to_be_bytes());
    s.extend_from_slice(&dport.to_be_bytes());
    if proto == UDP {
        s.extend_from_slice(&((8 + body.len()) as u16).to_be_bytes());
        s.extend_from_slice(&[0, 0]);
    } else {
        s.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    }
    s.extend_from_slice(body);
    let at = if proto == UDP { 6 } else { 16 };
    let c = checksum::finish(pseudo + checksum::sum(&s));
    s[at..at + 2].copy_from_slice(&c.to_be_bytes());
    s
}

fn from6(src: [u8; 16], proto: u8, sport: u16, to: [u8; 4], dport: u16, flags: u8) -> Vec<u8> {
    let dst = wkp(to);
    let body = [1, 2, 3, 4];
    let len = if proto == UDP { 12 } else { 24 };
    v6(src, dst, proto, 64, &[], &segment(proto, sport, dport, flags, &body, checksum::pseudo_v6(&src, &dst, proto, len)))
}

fn from4(src: [u8; 4], proto: u8, sport: u16, to: [u8; 4], dport: u16, flags: u8) -> Vec<u8> {
    let body = [1, 2, 3, 4];
    let len = if proto == UDP { 12 } else { 24 };
    v4(src, to, proto, 64, 0, &segment(proto, sport, dport, flags, &body, checksum::pseudo_v4(&src, &to, proto, len)))
}

fn port(p: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([p[at], p[at + 1]])
}

/// Sends one packet at `now` and returns its only output.
fn one(h: &mut Host, pkt: &[u8], now: f64) -> Output {
    let mut out = h.send(&[pkt], now);
    assert_eq!(out.len(), 1, "one output for one packet");
    out.remove(0)
}

#[test]
fn a_binding_carries_traffic_both_ways_and_shows_in_the_gauges() {
    let mut h = host(&[]);
    let (out, _, kind) = one(&mut h, &from6(CLIENT, UDP, 3000, SERVER, 53, 0), 1000.0);
    assert_eq!(kind, OUT_TRANSLATED);
    let ip = ipv4::parse(&out).unwrap();
    assert_eq!((ip.src, ip.dst, ip.ttl, port(&out, 22)), (POOL4, SERVER, 63, 53));
    let x = port(&out, 20);
    assert!(x >= 1024, "a source port above 1023 keeps its range (RFC 6146 §3.5.1.1)");
    assert!(v4_l4_ok(&out));
    let (back, _, _) = one(&mut h, &from4(SERVER, UDP, 53, POOL4, x, 0), 1001.0);
    let ip6 = ipv6::parse(&back).unwrap();
    assert_eq!((ip6.src, ip6.dst, port(&back, 40), port(&back, 42)), (wkp(SERVER), CLIENT, 53, 3000));
    assert!(v6_l4_ok(&back));
    for (c, v) in [
        (Counter::sessions_udp, 1),
        (Counter::bib_udp, 1),
        (Counter::pool4_used_udp, 1),
        (Counter::pool4_size_udp, 65535),
        (Counter::sessions_tcp, 0),
        (Counter::in6_udp_packets, 1),
        (Counter::out4_udp_packets, 1),
        (Counter::in4_udp_packets, 1),
        (Counter::out6_udp_packets, 1),
        (Counter::out6_udp_bytes, back.len() as u64),
    ] {
        assert_eq!(h.counter(c), v, "{:?}", c);
    }
}

#[test]
fn echo_identifiers_are_bound_like_ports() {
    let mut h = host(&[]);
    let dst = wkp(SERVER);
    let req = v6(CLIENT, dst, crate::protocol::ICMPV6, 64, &[], &echo(128, checksum::pseudo_v6(&CLIENT, &dst, crate::protocol::ICMPV6, 12), &[9; 4]));
    let (out, _, _) = one(&mut h, &req, 1000.0);
    assert_eq!((out[20], ipv4::parse(&out).unwrap().src), (8, POOL4));
    assert!(v4_l4_ok(&out));
    let id = port(&out, 24);
    let mut reply = icmp4_msg(0, 0, [(id >> 8) as u8, id as u8, 0, 1], &[9; 4]);
    reply[2..4].copy_from_slice(&[0, 0]);
    let c = checksum::finish(checksum::sum(&reply));
    reply[2..4].copy_from_slice(&c.to_be_bytes());
    let (back, _, _) = one(&mut h, &v4(SERVER, POOL4, crate::protocol::ICMP, 64, 0, &reply), 1001.0);
    assert_eq!((back[40], port(&back, 44), ipv6::parse(&back).unwrap().dst), (129, 0x1234, CLIENT));
    assert!(v6_l4_ok(&back));
    assert_eq!(h.counter(Counter::sessions_icmp), 1);
}

#[test]
fn ipv4_packets_without_a_binding_are_refused_as_the_rfc_says() {
    let mut h = host(&[]);
    let (err, _, kind) = one(&mut h, &from4(SERVER, UDP, 53, POOL4, 4101, 0), 1000.0);
    assert_eq!(kind, OUT_ICMP_ERROR);
    let ip = ipv4::parse(&err).unwrap();
    assert_eq!((ip.src, ip.dst, err[20], err[21]), (POOL4, SERVER, 3, 3), "port unreachable from the pool4 address");
    assert!(v4_l4_ok(&err));
    assert!(h.send(&[&from4(SERVER, TCP, 80, POOL4, 4102, ACK)], 1000.0).is_empty());
    assert!(h.send(&[&from4(SERVER, UDP, 53, [192, 0, 2, 3], 4101, 0)], 1000.0).is_empty(), "not a pool4 address");
    assert!(h.send(&[&from6(CLIENT, TCP, 3000, SERVER, 80, ACK)], 1000.0).is_empty(), "no state from a non-SYN");
    assert_eq!(h.counter(Counter::drop_no_binding), 2);
    assert_eq!(h.counter(Counter::drop_untranslatable_dst), 1);
    assert_eq!(h.counter(Counter::drop_tcp_not_syn), 1);
    assert_eq!(h.counter(Counter::icmp4_errors_sent), 1);
}

#[test]
fn an_unanswered_ipv4_syn_waits_six_seconds_then_gets_port_unreachable() {
    let mut h = host(&[]);
    assert!(h.send(&[&from4(SERVER, TCP, 50000, POOL4, 1500, SYN)], 1000.0).is_empty());
    assert_eq!(h.counter(Counter::nat64_syns_stored), 1);
    assert!(h.expire(6999.0, 100).0.is_empty(), "TCP_INCOMING_SYN is 6 s (RFC 6146 §4)");
    let (out, more) = h.expire(7000.0, 100);
    assert!(!more);
    assert_eq!(out.len(), 1);
    let (err, _, kind) = &out[0];
    assert_eq!((*kind, err[20], err[21], ipv4::parse(err).unwrap().src), (OUT_ICMP_ERROR, 3, 3, POOL4));
    assert_eq!(&err[28..], &from4(SERVER, TCP, 50000, POOL4, 1500, SYN)[..]);
    assert_eq!(h.counter(Counter::icmp4_errors_sent), 1);
}

#[test]
fn a_simultaneous_open_meets_the_stored_syn_which_then_goes_silently() {
    let mut h = host(&[]);
    assert!(h.send(&[&from4(SERVER, TCP, 2600, POOL4, 2601, SYN)], 1000.0).is_empty());
    let (out, _, _) = one(&mut h, &from6(CLIENT, TCP, 2601, SERVER, 2600, SYN), 2000.0);
    assert_eq!((ipv4::parse(&out).unwrap().src, port(&out, 20)), (POOL4, 2601), "the stored SYN's transport address");
    assert!(h.expire(9000.0, 100).0.is_empty(), "the stored SYN was dropped, not answered");
    let (back, _, _) = one(&mut h, &from4(SERVER, TCP, 2600, POOL4, 2601, SYN | ACK), 9001.0);
    assert_eq!(ipv6::parse(&back).unwrap().dst, CLIENT);
}

#[test]
fn an_idle_established_connection_is_probed_and_revived_by_its_answer() {
    let ms = |v: [u32; 6]| v.iter().flat_map(|m| m.to_le_bytes()).collect::<Vec<u8>>();
    let mut h = host(&[(tag::TIMEOUTS, ms([120_000, 10_000, 4_000, 60_000, 6_000, 2_000]))]);
    let (syn, _, _) = one(&mut h, &from6(CLIENT, TCP, 40000, SERVER, 443, SYN), 1000.0);
    let x = port(&syn, 20);
    one(&mut h, &from4(SERVER, TCP, 443, POOL4, x, SYN | ACK), 1001.0);
    assert!(h.expire(11_000.0, 100).0.is_empty());
    let (out, _) = h.expire(11_001.0, 100);
    assert_eq!(out.len(), 1);
    let (probe, _, kind) = &out[0];
    assert_eq!(*kind, OUT_PROBE);
    let ip = ipv6::parse(probe).unwrap();
    assert_eq!((ip.src, ip.dst, port(probe, 40), port(probe, 42), probe[53]), (wkp(SERVER), CLIENT, 443, 40000, ACK));
    assert!(v6_l4_ok(probe));
    assert_eq!(h.counter(Counter::nat64_tcp_probes), 1);
    // The probed end answers: the session is established again and outlives TCP_TRANS.
    one(&mut h, &from6(CLIENT, TCP, 40000, SERVER, 443, ACK), 12_000.0);
    assert!(h.expire(16_002.0, 100).0.is_empty());
    assert_eq!(h.counter(Counter::sessions_tcp), 1);
    // Unanswered, a probed session goes after TCP_TRANS.
    h.expire(22_001.0, 100);
    h.expire(26_002.0, 100);
    assert_eq!((h.counter(Counter::sessions_tcp), h.counter(Counter::nat64_sessions_expired)), (0, 1));
}

#[test]
fn out_of_order_fragments_are_held_until_the_first_and_then_released() {
    let mut h = host(&[]);
    let (out, _, _) = one(&mut h, &from6(CLIENT, UDP, 3000, SERVER, 53, 0), 1000.0);
    let x = port(&out, 20);
    // A 48-byte UDP datagram from the server in two IPv4 fragments, the second first.
    let body: Vec<u8> = (0..40).collect();
    let whole = segment(UDP, 53, x, 0, &body, checksum::pseudo_v4(&SERVER, &POOL4, UDP, 48));
    let second = v4(SERVER, POOL4, UDP, 64, 3, &whole[24..]);
    let first = v4(SERVER, POOL4, UDP, 64, ipv4::MF, &whole[..24]);
    assert!(h.send(&[&second], 1001.0).is_empty());
    assert_eq!(h.counter(Counter::nat64_fragments_held), 1);
    let out = h.send(&[&first], 1002.0);
    assert_eq!(out.len(), 2, "the first fragment and the held one");
    let offsets: Vec<u16> = out.iter().map(|(p, _, _)| {
        assert_eq!((p[6], ipv6::parse(p).unwrap().dst), (FRAGMENT, CLIENT));
        u16::from_be_bytes([p[42], p[43]]) >> 3
    }).collect();
    assert_eq!(offsets, [0, 3]);
    assert_eq!(port(&out[0].0, 50), 3000, "the port of the binding, in the first fragment");
    let mut payload = out[0].0[48..].to_vec();
    payload.extend_from_slice(&out[1].0[48..]);
    let pseudo = checksum::pseudo_v6(&wkp(SERVER), &CLIENT, UDP, payload.len() as u32);
    assert!(checksum::verifies(pseudo + checksum::sum(&payload)), "the reassembled datagram's checksum holds");
    assert_eq!(h.counter(Counter::translated_4to6), 2);
    // A fragment whose first never comes is dropped after FRAGMENT_MIN.
    let mut lone = second.clone();
    lone[4] = 0x77;
    refresh_v4_checksum(&mut lone);
    assert!(h.send(&[&lone], 2000.0).is_empty());
    h.expire(3999.0, 100);
    assert_eq!(h.counter(Counter::drop_fragment_timeout), 0);
    h.expire(4000.0, 100);
    assert_eq!(h.counter(Counter::drop_fragment_timeout), 1);
}

#[test]
fn hairpinned_packets_reach_the_other_hosts_binding() {
    let mut h = host(&[]);
    let (out, _, _) = one(&mut h, &from6(CLIENT, UDP, 5000, SERVER, 53, 0), 1000.0);
    let x = port(&out, 20);
    let (pin, _, kind) = one(&mut h, &from6(CLIENT2, UDP, 6000, POOL4, x, 0), 1001.0);
    assert_eq!(kind, OUT_TRANSLATED);
    let ip = ipv6::parse(&pin).unwrap();
    assert_eq!((ip.dst, port(&pin, 42), ip.src, ip.hop_limit), (CLIENT, 5000, wkp(POOL4), 63));
    assert!(v6_l4_ok(&pin));
    assert_eq!((h.counter(Counter::hairpinned), h.counter(Counter::sessions_udp)), (1, 3));
}

#[test]
fn limits_refuse_new_sessions_with_address_unreachable_and_spare_the_old_ones() {
    let mut h = host(&[(tag::MAX_SESSIONS, 1u32.to_le_bytes().to_vec())]);
    one(&mut h, &from6(CLIENT, UDP, 3000, SERVER, 53, 0), 1000.0);
    let (err, _, kind) = one(&mut h, &from6(CLIENT2, UDP, 3000, SERVER, 53, 0), 1000.0);
    assert_eq!((kind, err[40], err[41]), (OUT_ICMP_ERROR, 1, 3));
    assert_eq!(ipv6::parse(&err).unwrap().dst, CLIENT2);
    assert_eq!(h.counter(Counter::drop_session_limit), 1);
    let (still, _, kind) = one(&mut h, &from6(CLIENT, UDP, 3000, SERVER, 53, 0), 1001.0);
    assert_eq!((kind, ipv4::parse(&still).unwrap().src), (OUT_TRANSLATED, POOL4));
}

#[test]
fn configuration_errors_name_the_nat64_field() {
    let mut h = Host::with_sessions(4, 64);
    let mut bad = nat64_tlv(&[]);
    tlv(&mut bad, tag::STATIC_BIB, &{
        let mut v = [0u8; 25];
        v[1..17].copy_from_slice(&CLIENT);
        v[17..19].copy_from_slice(&80u16.to_le_bytes());
        v[19..23].copy_from_slice(&[198, 51, 100, 1]);
        v[23..25].copy_from_slice(&80u16.to_le_bytes());
        v
    });
    assert_eq!(h.configure(&bad), Err(()));
    assert_eq!(h.error(), "stateful NAT64 static_bib entry 0 maps to an IPv4 address that is not in pool4 for its protocol");
    let mut none = Host::new(4);
    assert_eq!(none.configure(&nat64_tlv(&[])), Err(()));
    assert!(none.error().contains("session capacity of 0"));
}

/// Writes a listing filter: any protocol, no address, at most `most` records.
fn list_page(h: &mut Host, cursor: u32, most: u16) -> (u32, u32, u32) {
    let st = h.state();
    st[..20].fill(0);
    st[0] = 255;
    st[2..4].copy_from_slice(&most.to_le_bytes());
    let n = h.e.list_sessions(cursor, 5000.0);
    let st = h.state();
    let w = |at: usize| u32::from_le_bytes([st[at], st[at + 1], st[at + 2], st[at + 3]]);
    assert_eq!(n as u32, w(0));
    (w(0), w(4), w(8))
}

#[test]
fn snapshots_and_listings_go_through_the_state_buffer_in_pieces() {
    let mut a = Host::with_sessions(4, 8192);
    a.configure(&nat64_tlv(&[])).unwrap();
    assert_eq!(a.e.fill(5000, 7, 1000.0), 5000);
    assert_eq!(a.counter(Counter::sessions_udp), 5000);
    // Pages of 2000 records: every session once, the total on every page.
    let (mut cursor, mut seen) = (0, 0);
    loop {
        let (n, next, total) = list_page(&mut a, cursor, 2000);
        assert_eq!(total, 5000);
        seen += n;
        if next == NO_MORE {
            break;
        }
        cursor = next;
    }
    assert_eq!(seen, 5000);
    let first = a.state()[PAGE_HEADER..PAGE_HEADER + SESSION_RECORD].to_vec();
    assert_eq!(first[0], 1, "UDP");
    // Export in pieces, import into another engine in pieces.
    let len = a.e.export_begin(2000.0) as usize;
    assert_eq!(len, 32 + 5000 * SESSION_RECORD);
    let mut file = a.state()[..32].to_vec();
    loop {
        let n = a.e.export_next();
        assert!(n >= 0);
        if n == 0 {
            break;
        }
        file.extend_from_slice(&a.state()[..n as usize]);
    }
    assert_eq!(file.len(), len);
    a.send(&[&from6(CLIENT, UDP, 1, SERVER, 53, 0)], 2001.0);
    assert_eq!(a.e.export_next(), -1, "a batch in between ends the export");

    let mut b = Host::with_sessions(4, 8192);
    b.configure(&nat64_tlv(&[])).unwrap();
    let chunk = 1600 * SESSION_RECORD;
    b.state()[..32].copy_from_slice(&file[..32]);
    assert_eq!(b.e.import_begin(file.len() as u32), 0);
    for pass in 0..2 {
        for piece in file[32..].chunks(chunk) {
            b.state()[..piece.len()].copy_from_slice(piece);
            let rc = if pass == 0 { b.e.import_check(piece.len() as u32) } else { b.e.import_apply(piece.len() as u32, 90_000.0) };
            assert_eq!(rc, 0, "{}", b.error());
        }
    }
    assert_eq!(b.e.import_end(), 0);
    assert_eq!(&b.state()[..8], &[0x88, 0x13, 0, 0, 0, 0, 0, 0], "5000 restored, none skipped");
    assert_eq!(b.counter(Counter::sessions_udp), 5000);
    // A damaged snapshot is refused with a sentence and leaves nothing behind.
    let mut c = Host::with_sessions(4, 8192);
    c.configure(&nat64_tlv(&[])).unwrap();
    let mut damaged = file.clone();
    damaged[100] ^= 1;
    c.state()[..32].copy_from_slice(&damaged[..32]);
    assert_eq!(c.e.import_begin(damaged.len() as u32), 0);
    for piece in damaged[32..].chunks(chunk) {
        c.state()[..piece.len()].copy_from_slice(piece);
        assert_eq!(c.e.import_check(piece.len() as u32), 0);
    }
    c.state()[..chunk].copy_from_slice(&damaged[32..32 + chunk]);
    assert_eq!(c.e.import_apply(chunk as u32, 1.0), -1);
    assert!(c.error().contains("checksum"), "{}", c.error());
    assert_eq!(c.counter(Counter::sessions_udp), 0);
}

#[test]
fn a_mass_expiry_is_spread_over_calls_by_the_budget() {
    let mut h = Host::with_sessions(4, 8192);
    h.configure(&nat64_tlv(&[])).unwrap();
    h.e.fill(3000, 3, 0.0);
    let udp_timeout = 300_000.0;
    let (out, more) = h.expire(udp_timeout, 1000);
    assert!(out.is_empty() && more);
    assert_eq!(h.counter(Counter::sessions_udp), 2000);
    let (_, more) = h.expire(udp_timeout, 1000);
    assert!(more);
    let (_, more) = h.expire(udp_timeout, 5000);
    assert!(!more);
    assert_eq!((h.counter(Counter::sessions_udp), h.counter(Counter::nat64_sessions_expired)), (0, 3000));
}

/// The (kind, cause) of each event record.
fn kinds(records: &[[u8; 64]]) -> Vec<(u8, u8)> {
    records.iter().map(|r| (r[8], r[9])).collect()
}

#[test]
fn session_events_come_only_when_asked_for_with_both_sides_filled_in() {
    let mut h = host(&[]);
    let x = port(&one(&mut h, &from6(CLIENT, UDP, 3000, SERVER, 53, 0), 1000.0).0, 20);
    assert!(h.take_events().is_empty(), "off by default");
    h.configure(&nat64_tlv(&[(tag::SESSION_EVENTS, std::vec![1])])).unwrap();
    one(&mut h, &from6(CLIENT2, UDP, 4000, SERVER, 53, 0), 1234.9);
    let r = h.take_events();
    assert_eq!(kinds(&r), [(3, 1), (1, 1)], "BIB then session, both from IPv6");
    let s = &r[1];
    assert_eq!(&s[0..8], &1234u64.to_le_bytes(), "the batch's now_ms");
    assert_eq!((s[10], u16::from_le_bytes([s[12], s[13]]), u16::from_le_bytes([s[14], s[15]])), (1, 4000, 53));
    assert_eq!((&s[20..24], &s[24..28]), (&POOL4[..], &SERVER[..]));
    assert_eq!((&s[32..48], &s[48..64]), (&CLIENT2[..], &wkp(SERVER)[..]), "X' and Y' (Y inside pool6)");
    assert_eq!(&r[0][48..64], &[0u8; 16][..], "a BIB entry has no remote");
    assert!(h.take_events().is_empty(), "taken once");
    // The timers remove both clients' sessions and bindings; the one made before
    // events were asked for is reported on its way out too.
    h.expire(302_000.0, 100);
    let gone = h.take_events();
    assert_eq!(kinds(&gone), [(2, 5), (4, 5), (2, 5), (4, 5)]);
    assert_eq!((&gone[0][32..48], u16::from_le_bytes([gone[0][16], gone[0][17]])), (&CLIENT[..], x));
    assert_eq!(&gone[0][0..8], &302_000u64.to_le_bytes());
    assert_eq!(h.counter(Counter::nat64_session_events_lost), 0);
}

#[test]
fn reconfiguration_events_keep_the_old_pool6_and_the_latest_time() {
    let mut h = host(&[(tag::SESSION_EVENTS, std::vec![1])]);
    one(&mut h, &from6(CLIENT, UDP, 3000, SERVER, 53, 0), 5000.0);
    // A new pool6 and a pool4 without the UDP address: the session goes.
    let mut b = Vec::new();
    tlv(&mut b, tag::MODE, &[1]);
    let mut pool6 = [0u8; 17];
    pool6[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    pool6[16] = 96;
    tlv(&mut b, tag::POOL6, &pool6);
    tlv(&mut b, tag::POOL4, &[0, 192, 0, 2, 2, 32, 1, 0, 0xff, 0xff]);
    tlv(&mut b, tag::SESSION_EVENTS, &[1]);
    h.configure(&b).unwrap();
    let r = h.take_events();
    assert_eq!(kinds(&r), [(3, 1), (1, 1), (2, 8), (4, 8)]);
    for e in &r[1..3] {
        assert_eq!(&e[48..64], &wkp(SERVER)[..], "the sessions lived under 64:ff9b::/96");
        assert_eq!(&e[0..8], &5000u64.to_le_bytes());
    }
}

#[test]
fn a_full_event_buffer_counts_what_it_loses_and_turning_events_off_stops_them() {
    let mut h = Host::with_sessions(4, 8192);
    h.configure(&nat64_tlv(&[(tag::SESSION_EVENTS, std::vec![1])])).unwrap();
    let capacity = h.e.events_capacity() as u64;
    assert_eq!(capacity, crate::nat64::EVENT_CAPACITY as u64);
    // Every synthetic session has its own binding: two events each.
    assert_eq!(h.e.fill(3000, 3, 10.0), 3000);
    assert_eq!(h.counter(Counter::nat64_session_events_lost), 6000 - capacity);
    assert_eq!(h.take_events().len() as u64, capacity);
    h.send(&[&from6(CLIENT, UDP, 3000, SERVER, 53, 0)], 20.0);
    assert_eq!(h.take_events().len(), 2, "room again once taken");
    h.configure(&nat64_tlv(&[])).unwrap();
    h.send(&[&from6(CLIENT, UDP, 3001, SERVER, 53, 0)], 30.0);
    assert!(h.take_events().is_empty());
    assert_eq!(h.counter(Counter::nat64_session_events_lost), 6000 - capacity);
}

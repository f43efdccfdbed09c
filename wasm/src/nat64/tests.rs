//! Behaviour tests of the whole stateful engine, through the API the packet path uses.

use super::records::{SessionRecord, BIB_RECORD, SESSION_RECORD};
use super::snapshot::HEADER;
use super::test_region::Region;
use super::timeouts::{RELINK_MS, TCP_EST_MS, TCP_TRANS_MS, UDP_DEFAULT_MS};
use super::*;

const SEED: [u8; 16] = *b"0123456789abcdef";
const POOL_A: Addr4 = [203, 0, 113, 0];
const SERVER: Addr4 = [198, 51, 100, 7];
const OTHER_SERVER: Addr4 = [198, 51, 100, 8];
const T0: u64 = 1_000_000;
/// Port sets of the tables these tests lay out: room for every pool4 they configure.
const PORT_SETS: u32 = 48;

fn host(n: u16) -> Addr6 {
    let mut a = [0u8; 16];
    a[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    a[14..].copy_from_slice(&n.to_be_bytes());
    a
}

fn pool(proto: Proto, prefix: Addr4, len: u8, first: u16, last: u16) -> Pool4Entry {
    Pool4Entry {
        proto,
        prefix,
        prefix_len: len,
        first_port: first,
        last_port: last,
    }
}

/// pool4 203.0.113.0/30, every port, for all three protocols.
fn full_pool() -> [Pool4Entry; 3] {
    [
        pool(Proto::Tcp, POOL_A, 30, 1, 65535),
        pool(Proto::Udp, POOL_A, 30, 1, 65535),
        pool(Proto::Icmp, POOL_A, 30, 0, 65535),
    ]
}

fn config<'c>(pool4: &'c [Pool4Entry], static_bib: &'c [StaticBib]) -> Nat64Config<'c> {
    Nat64Config {
        pool4,
        static_bib,
        ..Nat64Config::initial()
    }
}

fn engine<R>(cap: Capacity, cfg: &Nat64Config, f: impl FnOnce(&mut Nat64) -> R) -> R {
    let mut region = Region::with_bytes(Nat64::bytes_needed(&cap).unwrap());
    let mut n = Nat64::new(region.bytes(), &cap, &SEED).unwrap();
    n.configure(cfg, 0).unwrap();
    f(&mut n)
}

fn small() -> Capacity {
    Capacity::new(1024, PORT_SETS)
}

fn udp6(h: u16, sport: u16, dst: Addr4, dport: u16) -> Flow6 {
    Flow6 {
        proto: Proto::Udp,
        src6: host(h),
        sport,
        dst4: dst,
        dport,
        flags: TcpFlags::default(),
    }
}

fn tcp6(h: u16, sport: u16, dst: Addr4, dport: u16, flags: u8) -> Flow6 {
    Flow6 {
        proto: Proto::Tcp,
        flags: TcpFlags(flags),
        ..udp6(h, sport, dst, dport)
    }
}

/// The IPv4 packet answering `m`'s session, from (Y, y) to (X, x).
fn reply(m: &Mapping, flags: u8) -> Flow4 {
    Flow4 {
        proto: m.proto,
        src4: m.remote4,
        sport: m.remote_port,
        dst4: m.addr4,
        dport: m.port4,
        flags: TcpFlags(flags),
    }
}

const SYN: u8 = TcpFlags::SYN;
const SYN_ACK: u8 = TcpFlags::SYN | 0x10;
const ACK: u8 = 0x10;
const FIN: u8 = TcpFlags::FIN | 0x10;
const RST: u8 = TcpFlags::RST;

fn drain(n: &mut Nat64, now: u64) -> (ExpireSummary, Vec<String>) {
    let mut events = Vec::new();
    let sum = n.expire(now, u32::MAX, &mut |e| {
        events.push(match e {
            Expired::Session(m) => format!("session {}", m.port6),
            Expired::Probe(m) => format!("probe {}", m.port6),
            Expired::StoredSyn(b) => format!("syn {:?}", b),
        })
    });
    (sum, events)
}

#[test]
fn memory_per_session_is_at_most_128_bytes() {
    // 953 251 is the smallest capacity whose buckets round up to 2^20: the worst case.
    for base in [1_000_000u32, 953_251, 1 << 20, (1 << 20) + 1] {
        let a = Nat64::bytes_needed(&Capacity::new(base, PORT_SETS)).unwrap();
        let b = Nat64::bytes_needed(&Capacity::new(2 * base, PORT_SETS)).unwrap();
        let per_session = (b - a) as f64 / base as f64;
        assert!(per_session <= 128.0, "{} bytes per session at {}", per_session, base);
    }
}

#[test]
fn memory_per_pool4_pair_is_at_most_8360_bytes_and_the_cap_holds() {
    for pairs in [48u32, 768, 3000, MAX_PORT_SETS / 2] {
        let a = Nat64::bytes_needed(&Capacity::new(1024, pairs)).unwrap();
        let b = Nat64::bytes_needed(&Capacity::new(1024, 2 * pairs)).unwrap();
        let per_pair = (b - a) as f64 / pairs as f64;
        assert!(per_pair <= 8360.0, "{} bytes per pair at {}", per_pair, pairs);
    }
    assert!(Nat64::bytes_needed(&Capacity::new(1024, MAX_PORT_SETS)).unwrap() < 110_000_000);
    assert_eq!(Nat64::bytes_needed(&Capacity::new(1024, MAX_PORT_SETS + 1)), Err(InitError::TooManyPortSets));
}

/// TCP, UDP and ICMP over 198.18.0.0/24: 768 pairs.
fn slash24_pool() -> [Pool4Entry; 3] {
    [
        pool(Proto::Tcp, [198, 18, 0, 0], 24, 1024, 65535),
        pool(Proto::Udp, [198, 18, 0, 0], 24, 1024, 65535),
        pool(Proto::Icmp, [198, 18, 0, 0], 24, 0, 65535),
    ]
}

#[test]
fn a_slash24_for_three_protocols_lays_out_and_spreads_hosts_over_it() {
    engine(Capacity::new(16384, 768), &config(&slash24_pool(), &[]), |n| {
        let g = n.gauges();
        assert_eq!(g.pool4_size, [256 * 64512, 256 * 64512, 256 * 65536]);
        let mut used = std::collections::HashSet::new();
        for h in 1..=2000u16 {
            let u = n.outbound(&udp6(h, 5000, SERVER, 53), T0).unwrap();
            let t = n.outbound(&tcp6(h, 6000, SERVER, 443, SYN), T0).unwrap();
            assert_eq!(t.addr4, u.addr4, "host {} keeps its address across protocols", h);
            assert_eq!(&u.addr4[..3], &[198, 18, 0]);
            assert!(u.port4 >= 1024);
            assert_eq!(n.inbound(&reply(&u, 0), T0 + 1).unwrap(), u);
            used.insert(u.addr4);
        }
        // 2000 hosts drawn over 256 addresses leave about one unused.
        assert!(used.len() >= 250, "2000 hosts on {} of 256 addresses", used.len());
        assert_eq!(n.gauges().pool4_used, [2000, 2000, 0]);
    });
}

#[test]
fn a_pool4_beyond_the_pairs_laid_out_is_refused_and_changes_nothing() {
    let pool4 = slash24_pool();
    engine(Capacity::new(1024, 768), &config(&pool4, &[]), |n| {
        let a = n.outbound(&udp6(1, 5000, SERVER, 53), T0).unwrap();
        let mut grown = pool4.to_vec();
        grown.push(pool(Proto::Udp, [198, 18, 1, 0], 32, 1024, 65535));
        let e = n.configure(&config(&grown, &[]), 0).unwrap_err();
        let problem = Pool4Problem::TooManyAddresses { pairs: 769, capacity: 768 };
        assert_eq!(e, ConfigError::Pool4(Pool4Error { entry: 3, problem }));
        assert!(!n.pool4_has_address([198, 18, 1, 0]));
        assert_eq!(n.outbound(&udp6(1, 5000, SERVER, 53), T0).unwrap(), a);
        // Fewer pairs than laid out is fine.
        n.configure(&config(&pool4[..1], &[]), 0).unwrap();
        assert_eq!(n.gauges().pool4_size, [256 * 64512, 0, 0]);
    });
}

#[test]
fn bad_regions_and_capacities_are_refused() {
    let cap = small();
    let mut region = Region::with_bytes(Nat64::bytes_needed(&cap).unwrap() - 1);
    assert!(matches!(Nat64::new(region.bytes(), &cap, &SEED), Err(InitError::StorageTooSmall)));
    assert_eq!(Nat64::bytes_needed(&Capacity::new(0, PORT_SETS)), Err(InitError::BadCapacity));
}

#[test]
fn udp_mapping_is_endpoint_independent_and_found_from_both_sides() {
    engine(small(), &config(&full_pool(), &[]), |n| {
        let a = n.outbound(&udp6(1, 5000, SERVER, 53), T0).unwrap();
        assert_eq!((a.addr6, a.port6), (host(1), 5000));
        assert_eq!((a.remote4, a.remote_port), (SERVER, 53));
        assert!(n.pool4_has_address(a.addr4));
        let b = n.outbound(&udp6(1, 5000, OTHER_SERVER, 123), T0).unwrap();
        assert_eq!((b.addr4, b.port4), (a.addr4, a.port4), "RFC 6146 §3.5.1: endpoint-independent mapping");
        assert_ne!(a.session, b.session);
        let back = n.inbound(&reply(&a, 0), T0 + 1).unwrap();
        assert_eq!(back, a);
        assert_eq!(n.occupancy().bib_entries, 1);
        assert_eq!(n.occupancy().sessions, 2);
        let again = n.outbound(&udp6(1, 5000, SERVER, 53), T0 + 2).unwrap();
        assert_eq!(again, a);
    });
}

#[test]
fn unknown_ipv4_destinations_have_no_binding() {
    engine(small(), &config(&full_pool(), &[]), |n| {
        let a = n.outbound(&udp6(1, 5000, SERVER, 53), T0).unwrap();
        let mut f = reply(&a, 0);
        f.dport = f.dport.wrapping_add(1);
        assert_eq!(n.inbound(&f, T0), Err(Refusal::NoBinding));
        f.proto = Proto::Tcp;
        f.dport = a.port4;
        assert_eq!(n.inbound(&f, T0), Err(Refusal::NoBinding), "the BIBs of the protocols are separate");
    });
}

#[test]
fn endpoint_independent_filtering_lets_any_remote_in() {
    engine(small(), &config(&full_pool(), &[]), |n| {
        let a = n.outbound(&udp6(1, 5000, SERVER, 53), T0).unwrap();
        let stranger = Flow4 {
            src4: [192, 0, 2, 99],
            sport: 4444,
            ..reply(&a, 0)
        };
        let m = n.inbound(&stranger, T0).unwrap();
        assert_eq!((m.addr6, m.port6), (host(1), 5000));
        assert_eq!(n.occupancy().sessions, 2);
    });
}

#[test]
fn address_dependent_filtering_needs_a_session_with_the_remote_address() {
    let pool4 = full_pool();
    let cfg = Nat64Config {
        filtering: Filtering::AddressDependent,
        ..config(&pool4, &[])
    };
    engine(small(), &cfg, |n| {
        let a = n.outbound(&udp6(1, 5000, SERVER, 53), T0).unwrap();
        let other_port = Flow4 { sport: 9999, ..reply(&a, 0) };
        assert!(n.inbound(&other_port, T0).is_ok(), "same address, other port: allowed");
        let stranger = Flow4 {
            src4: [192, 0, 2, 99],
            ..reply(&a, 0)
        };
        assert_eq!(n.inbound(&stranger, T0), Err(Refusal::Filtered));
        let syn = Flow4 { proto: Proto::Tcp, ..stranger };
        assert_eq!(n.inbound(&syn, T0), Err(Refusal::NoBinding));
        assert_eq!(n.occupancy().sessions, 2);
    });
}

#[test]
fn tcp_connection_lifecycle_through_the_engine() {
    engine(small(), &config(&full_pool(), &[]), |n| {
        assert_eq!(n.outbound(&tcp6(1, 40000, SERVER, 80, ACK), T0), Err(Refusal::NotSyn));
        let syn = n.outbound(&tcp6(1, 40000, SERVER, 80, SYN), T0).unwrap();
        assert_eq!(syn.state, TcpState::V6Init);
        let m = n.inbound(&reply(&syn, SYN_ACK), T0 + 10).unwrap();
        assert_eq!(m.state, TcpState::Established);
        assert_eq!(n.outbound(&tcp6(1, 40000, SERVER, 80, ACK), T0 + 20).unwrap().state, TcpState::Established);
        assert_eq!(n.outbound(&tcp6(1, 40000, SERVER, 80, FIN), T0 + 30).unwrap().state, TcpState::V6FinRcv);
        assert_eq!(n.inbound(&reply(&syn, FIN), T0 + 40).unwrap().state, TcpState::V4FinV6FinRcv);
        let (sum, _) = drain(n, T0 + 40 + TCP_TRANS_MS as u64 - 1);
        assert_eq!(sum.sessions_removed, 0);
        let (sum, events) = drain(n, T0 + 40 + TCP_TRANS_MS as u64);
        assert_eq!(sum.sessions_removed, 1);
        assert_eq!(events, vec!["session 40000".to_string()]);
        assert_eq!(n.occupancy(), Occupancy::default(), "BIB entry and host go with the last session");
        assert!(n.peek_inbound(&reply(&syn, ACK)).is_none());
    });
}

#[test]
fn rst_moves_to_trans_and_idle_established_sessions_are_probed() {
    engine(small(), &config(&full_pool(), &[]), |n| {
        let syn = n.outbound(&tcp6(1, 40001, SERVER, 80, SYN), T0).unwrap();
        n.inbound(&reply(&syn, SYN_ACK), T0).unwrap();
        let (sum, events) = drain(n, T0 + TCP_EST_MS as u64);
        assert_eq!((sum.probes, sum.sessions_removed), (1, 0));
        assert_eq!(events, vec!["probe 40001".to_string()]);
        assert_eq!(n.peek_inbound(&reply(&syn, ACK)).unwrap().state, TcpState::Trans);
        // The probe is answered: traffic brings the session back to ESTABLISHED.
        let t1 = T0 + TCP_EST_MS as u64 + 1000;
        assert_eq!(n.inbound(&reply(&syn, ACK), t1).unwrap().state, TcpState::Established);
        assert_eq!(n.outbound(&tcp6(1, 40001, SERVER, 80, RST), t1).unwrap().state, TcpState::Trans);
        assert_eq!(n.inbound(&reply(&syn, RST), t1 + 100).unwrap().state, TcpState::Trans);
        let (sum, _) = drain(n, t1 + TCP_TRANS_MS as u64);
        assert_eq!(sum.sessions_removed, 1, "RST does not refresh a TRANS session");
    });
}

#[test]
fn static_bib_accepts_ipv4_initiated_tcp_unless_policy_drops_it() {
    let pool4 = full_pool();
    let statics = [StaticBib {
        proto: Proto::Tcp,
        addr6: host(80),
        port6: 80,
        addr4: [203, 0, 113, 1],
        port4: 8080,
    }];
    let syn4 = Flow4 {
        proto: Proto::Tcp,
        src4: SERVER,
        sport: 50000,
        dst4: [203, 0, 113, 1],
        dport: 8080,
        flags: TcpFlags(SYN),
    };
    engine(small(), &config(&pool4, &statics), |n| {
        let ack = Flow4 { flags: TcpFlags(ACK), ..syn4 };
        let m = n.inbound(&ack, T0).unwrap();
        assert_eq!((m.addr6, m.port6, m.session), (host(80), 80, None), "RFC 6146 §3.5.2.2: non-SYN through the BIB alone");
        let m = n.inbound(&syn4, T0).unwrap();
        assert_eq!(m.state, TcpState::V4Init);
        assert_eq!((m.addr6, m.port6), (host(80), 80));
        let back = n.outbound(&tcp6(80, 80, SERVER, 50000, SYN_ACK), T0 + 5).unwrap();
        assert_eq!(back.state, TcpState::Established);
        assert_eq!((back.addr4, back.port4), ([203, 0, 113, 1], 8080));
        let (sum, _) = drain(n, T0 + 5 + TCP_EST_MS as u64);
        assert_eq!(sum.probes, 1);
        let (sum, _) = drain(n, T0 + 5 + TCP_EST_MS as u64 + TCP_TRANS_MS as u64);
        assert_eq!(sum.sessions_removed, 1);
        assert_eq!(n.occupancy().bib_entries, 1, "static entries do not expire");
    });
    let cfg = Nat64Config {
        drop_external_tcp: true,
        ..config(&pool4, &statics)
    };
    engine(small(), &cfg, |n| {
        assert_eq!(n.inbound(&syn4, T0), Err(Refusal::ExternalTcpDenied));
        assert_eq!(n.store_syn(&syn4, &[0x45; 40], T0), Err(Refusal::ExternalTcpDenied));
    });
}

#[test]
fn unanswered_stored_syn_expires_into_an_icmp_answer() {
    engine(small(), &config(&full_pool(), &[]), |n| {
        let syn4 = Flow4 {
            proto: Proto::Tcp,
            src4: SERVER,
            sport: 50000,
            dst4: [203, 0, 113, 2],
            dport: 7000,
            flags: TcpFlags(SYN),
        };
        assert_eq!(n.inbound(&syn4, T0), Err(Refusal::NoBinding));
        n.store_syn(&syn4, &[0x45, 1, 2, 3], T0).unwrap();
        assert_eq!(n.store_syn(&syn4, &[0x45, 1, 2, 3], T0 + 1), Err(Refusal::StoredSynDuplicate));
        assert_eq!(n.store_syn(&Flow4 { flags: TcpFlags(ACK), ..syn4 }, &[0x45], T0), Err(Refusal::NotSyn));
        let (sum, events) = drain(n, T0 + 5_999);
        assert_eq!(sum.stored_syns, 0);
        assert!(events.is_empty(), "RFC 6146 §3.5.2.2: no ICMP error for at least 6 s");
        let (sum, events) = drain(n, T0 + 6_000);
        assert_eq!(sum.stored_syns, 1);
        assert_eq!(events, vec!["syn [69, 1, 2, 3]".to_string()]);
        assert_eq!(n.occupancy().stored_syns, 0);
    });
}

#[test]
fn simultaneous_open_meets_on_the_stored_syns_address() {
    engine(small(), &config(&full_pool(), &[]), |n| {
        let syn4 = Flow4 {
            proto: Proto::Tcp,
            src4: SERVER,
            sport: 50000,
            dst4: [203, 0, 113, 2],
            dport: 7001,
            flags: TcpFlags(SYN),
        };
        n.store_syn(&syn4, &[0x45; 60], T0).unwrap();
        let m = n.outbound(&tcp6(1, 33333, SERVER, 50000, SYN), T0 + 2_000).unwrap();
        assert_eq!((m.addr4, m.port4), ([203, 0, 113, 2], 7001));
        assert_eq!(n.occupancy().stored_syns, 0, "the stored SYN is silently dropped");
        let (sum, events) = drain(n, T0 + 10_000);
        assert_eq!(sum.stored_syns, 0);
        assert!(events.is_empty());
        assert_eq!(n.inbound(&syn4, T0 + 10_000).unwrap().state, TcpState::Established);
    });
}

#[test]
fn stored_syn_queue_is_bounded() {
    let cap = Capacity {
        stored_syns: 2,
        ..small()
    };
    engine(cap, &config(&full_pool(), &[]), |n| {
        for port in 0..2u16 {
            let f = Flow4 {
                proto: Proto::Tcp,
                src4: SERVER,
                sport: 1000 + port,
                dst4: [203, 0, 113, 2],
                dport: 7000,
                flags: TcpFlags(SYN),
            };
            n.store_syn(&f, &[0; 200], T0).unwrap();
        }
        let f = Flow4 {
            proto: Proto::Tcp,
            src4: SERVER,
            sport: 3000,
            dst4: [203, 0, 113, 2],
            dport: 7000,
            flags: TcpFlags(SYN),
        };
        assert_eq!(n.store_syn(&f, &[0; 20], T0), Err(Refusal::StoredSynFull));
        let (_, events) = drain(n, T0 + 6_000);
        assert_eq!(events.len(), 2);
        assert!(events[0].matches("0").count() == 128, "copies are truncated to the slot size");
    });
}

#[test]
fn ports_keep_their_range_and_parity() {
    engine(small(), &config(&full_pool(), &[]), |n| {
        for (i, sport) in [123u16, 124, 1023, 40000, 40001, 65535].iter().enumerate() {
            let m = n.outbound(&udp6(1, *sport, SERVER, 53 + i as u16), T0).unwrap();
            assert_eq!(m.port4 < 1024, *sport < 1024, "range of {} -> {}", sport, m.port4);
            assert_eq!(m.port4 % 2, sport % 2, "parity of {} -> {}", sport, m.port4);
        }
    });
}

#[test]
fn one_host_keeps_one_address_across_ports_and_protocols() {
    engine(Capacity::new(8192, PORT_SETS), &config(&full_pool(), &[]), |n| {
        let mut per_host: std::collections::HashMap<u16, Addr4> = Default::default();
        let mut used = std::collections::HashSet::new();
        for h in 1..=64u16 {
            for k in 0..8u16 {
                let m = if k % 2 == 0 {
                    n.outbound(&udp6(h, 2000 + k, SERVER, 53), T0).unwrap()
                } else {
                    n.outbound(&tcp6(h, 2000 + k, SERVER, 443, SYN), T0).unwrap()
                };
                let addr = *per_host.entry(h).or_insert(m.addr4);
                assert_eq!(m.addr4, addr, "host {} port {}", h, 2000 + k);
                used.insert(addr);
            }
        }
        assert_eq!(used.len(), 4, "hosts are spread over the pool");
        // When its bindings are gone the host is forgotten, pairing included.
        let (sum, _) = drain(n, T0 + TCP_TRANS_MS as u64);
        assert_eq!(sum.sessions_removed, 64 * 4);
        let (sum, _) = drain(n, T0 + UDP_DEFAULT_MS as u64);
        assert_eq!(sum.sessions_removed, 64 * 4);
        assert_eq!(n.occupancy(), Occupancy::default());
    });
}

#[test]
fn an_exhausted_paired_address_refuses_without_touching_existing_sessions() {
    let pool4 = [pool(Proto::Udp, [203, 0, 113, 9], 32, 2000, 2003)];
    engine(small(), &config(&pool4, &[]), |n| {
        let first: Vec<Mapping> = (0..4).map(|k| n.outbound(&udp6(1, 3000 + k, SERVER, 53), T0).unwrap()).collect();
        assert_eq!(n.outbound(&udp6(1, 3004, SERVER, 53), T0), Err(Refusal::PoolExhausted));
        assert_eq!(n.outbound(&udp6(2, 3000, SERVER, 53), T0), Err(Refusal::PoolExhausted));
        assert_eq!(n.occupancy().hosts, 1, "a refused host leaves no state");
        for m in &first {
            assert_eq!(n.inbound(&reply(m, 0), T0 + 1).unwrap(), *m);
        }
        assert_eq!(n.outbound(&tcp6(1, 3000, SERVER, 53, SYN), T0), Err(Refusal::NoPool4));
    });
}

#[test]
fn global_and_per_host_limits_refuse_distinctly() {
    let pool4 = full_pool();
    let cfg = Nat64Config {
        max_sessions: 10,
        max_sessions_per_host: 3,
        ..config(&pool4, &[])
    };
    engine(small(), &cfg, |n| {
        for k in 0..3 {
            n.outbound(&udp6(1, 4000 + k, SERVER, 53), T0).unwrap();
        }
        assert_eq!(n.outbound(&udp6(1, 4003, SERVER, 53), T0), Err(Refusal::HostSessionLimit));
        assert_eq!(n.outbound(&udp6(1, 4000, OTHER_SERVER, 53), T0), Err(Refusal::HostSessionLimit));
        let a = n.outbound(&udp6(1, 4000, SERVER, 53), T0).unwrap();
        assert_eq!(n.inbound(&Flow4 { src4: OTHER_SERVER, ..reply(&a, 0) }, T0), Err(Refusal::HostSessionLimit));
        for h in 2..=4 {
            for k in 0..3 {
                let r = n.outbound(&udp6(h, 4000 + k, SERVER, 53), T0);
                if n.occupancy().sessions < 10 || r.is_ok() {
                    r.unwrap();
                } else {
                    assert_eq!(r, Err(Refusal::SessionLimit));
                }
            }
        }
        assert_eq!(n.occupancy().sessions, 10);
        assert_eq!(n.outbound(&udp6(9, 4000, SERVER, 53), T0), Err(Refusal::SessionLimit));
        assert_eq!(n.occupancy().bib_entries, 10);
    });
    let over = Nat64Config {
        max_sessions: 1025,
        ..config(&pool4, &[])
    };
    engine(small(), &config(&pool4, &[]), |n| {
        assert_eq!(n.configure(&over, 0), Err(ConfigError::MaxSessions { capacity: 1024 }));
    });
}

#[test]
fn icmp_queries_use_the_identifier_as_port() {
    engine(small(), &config(&full_pool(), &[]), |n| {
        let echo = Flow6 {
            proto: Proto::Icmp,
            src6: host(1),
            sport: 0x1234,
            dst4: SERVER,
            dport: 0x1234,
            flags: TcpFlags::default(),
        };
        let m = n.outbound(&echo, T0).unwrap();
        assert_eq!(m.remote_port, 0);
        let reply4 = Flow4 {
            proto: Proto::Icmp,
            src4: SERVER,
            sport: 0,
            dst4: m.addr4,
            dport: m.port4,
            flags: TcpFlags::default(),
        };
        assert_eq!(n.inbound(&reply4, T0 + 1).unwrap(), m);
        let (sum, _) = drain(n, T0 + 1 + 60_000);
        assert_eq!(sum.sessions_removed, 1, "ICMP_DEFAULT is 60 s");
    });
}

#[test]
fn hairpinning_reaches_another_hosts_binding() {
    engine(small(), &config(&full_pool(), &[]), |n| {
        let a = n.outbound(&udp6(1, 5000, SERVER, 53), T0).unwrap();
        assert!(n.pool4_has_address(a.addr4));
        // Host 2 sends to A's pool4 address through pool6: 6→4 first...
        let b = n.outbound(&udp6(2, 6000, a.addr4, a.port4), T0).unwrap();
        // ...then the translated packet comes back in as IPv4 (RFC 6146 §3.8).
        let hop = Flow4 {
            proto: Proto::Udp,
            src4: b.addr4,
            sport: b.port4,
            dst4: a.addr4,
            dport: a.port4,
            flags: TcpFlags::default(),
        };
        let m = n.inbound(&hop, T0).unwrap();
        assert_eq!((m.addr6, m.port6), (host(1), 5000));
    });
}

#[test]
fn peeking_for_icmp_errors_changes_nothing() {
    engine(small(), &config(&full_pool(), &[]), |n| {
        let a = n.outbound(&udp6(1, 5000, SERVER, 53), T0).unwrap();
        let late = T0 + UDP_DEFAULT_MS as u64 - 1;
        assert_eq!(n.peek_inbound(&reply(&a, 0)), Some(a));
        assert_eq!(n.peek_outbound(&udp6(1, 5000, SERVER, 53)), Some(a));
        let m = n.peek_outbound(&udp6(1, 5000, OTHER_SERVER, 1)).unwrap();
        assert_eq!((m.port4, m.session), (a.port4, None));
        assert_eq!(n.peek_outbound(&udp6(1, 5001, SERVER, 53)), None);
        let (sum, _) = drain(n, late + 1);
        assert_eq!(sum.sessions_removed, 1, "peeks did not refresh the session");
        assert_eq!(n.occupancy(), Occupancy::default());
    });
}

#[test]
fn expiry_pops_oldest_first_and_only_looks_at_heads() {
    let cap = Capacity::new(100_000, PORT_SETS);
    engine(cap, &config(&full_pool(), &[]), |n| {
        for i in 0..100_000u32 {
            n.outbound(&synthetic_flow(i, 400), T0 + i as u64 / 1000).unwrap();
        }
        let (sum, _) = drain(n, T0 + UDP_DEFAULT_MS as u64 - 1);
        assert_eq!(sum.sessions_removed, 0);
        assert!(sum.examined <= 6, "an idle tick looks at {} heads", sum.examined);
        // Session 0 saw traffic a second after it began: it moved to the tail of the
        // queue (activity within RELINK_MS only stamps it).
        n.outbound(&synthetic_flow(0, 400), T0 + RELINK_MS as u64).unwrap();
        let mut removed = Vec::new();
        let sum = n.expire(T0 + UDP_DEFAULT_MS as u64 + 1, 1500, &mut |e| {
            if let Expired::Session(m) = e {
                removed.push(m.port6);
            }
        });
        assert!(sum.budget_exhausted);
        assert_eq!(sum.sessions_removed, 1500);
        assert_eq!(removed.len(), 1500);
        let expected: Vec<u16> = (1..=1500u32).map(|i| synthetic_flow(i, 400).sport).collect();
        assert_eq!(removed, expected, "oldest activity first");
        let (sum, _) = drain(n, T0 + UDP_DEFAULT_MS as u64 + 1);
        assert_eq!(sum.sessions_removed, 499);
        assert!(n.peek_outbound(&synthetic_flow(0, 400)).unwrap().session.is_some());
    });
}

#[test]
fn lookup_chains_stay_short_from_a_thousand_to_a_million_sessions() {
    for count in [1_000u32, 1_000_000] {
        let pool4 = [pool(Proto::Udp, [203, 0, 113, 0], 26, 1024, 65535)];
        let cap = Capacity {
            port_sets: 64,
            ..Capacity::new(count, PORT_SETS)
        };
        engine(cap, &config(&pool4, &[]), |n| {
            let hosts = (count / 4_000).max(1);
            assert_eq!(n.fill_udp(count, hosts, T0), FillResult { created: count, refusal: None });
            let mut stats = n.sessions.chain_stats().to_vec();
            stats.extend_from_slice(&n.bib.chain_stats());
            for (longest, visits) in stats {
                let mean = visits as f64 / count as f64;
                assert!(mean < 2.5, "{} sessions: {} entries visited per hit", count, mean);
                assert!(longest < 16, "{} sessions: chain of {}", count, longest);
            }
        });
    }
}

#[test]
fn fragments_find_their_ports_through_the_engine() {
    engine(small(), &config(&full_pool(), &[]), |n| {
        let k = FragmentKey::v6(host(1), host(2), 17, 0xabcd);
        assert_eq!(n.fragment(&k, None, &[1; 100], T0), Ok(FragmentVerdict::Held));
        assert_eq!(
            n.fragment(&k, Some((5000, 53)), &[0; 100], T0 + 1),
            Ok(FragmentVerdict::Translate { sport: 5000, dport: 53, held: 1 })
        );
        assert_eq!(n.take_held_fragment(&k).map(|b| b.len()), Some(100));
        assert_eq!(n.take_held_fragment(&k), None);
        let (sum, _) = drain(n, T0 + 2_000);
        assert_eq!((sum.fragment_datagrams, sum.held_fragments_dropped), (1, 0));
    });
}

/// A varied state: UDP, ICMP, TCP in several states, a static entry with a session,
/// created from `now` to `now + 5`.
fn populate(n: &mut Nat64, now: u64) {
    for k in 0..4u16 {
        for h in 1..=5u16 {
            n.outbound(&udp6(h, 1000 + k, SERVER, 53), now + k as u64).unwrap();
        }
    }
    let echo = Flow6 {
        proto: Proto::Icmp,
        src6: host(7),
        sport: 77,
        dst4: SERVER,
        dport: 77,
        flags: TcpFlags::default(),
    };
    n.outbound(&echo, now).unwrap();
    let est = n.outbound(&tcp6(3, 40000, SERVER, 443, SYN), now).unwrap();
    n.inbound(&reply(&est, SYN_ACK), now + 1).unwrap();
    n.outbound(&tcp6(3, 40002, SERVER, 443, SYN), now).unwrap();
    let fin = n.outbound(&tcp6(4, 40004, OTHER_SERVER, 25, SYN), now).unwrap();
    n.inbound(&reply(&fin, SYN_ACK), now).unwrap();
    n.inbound(&reply(&fin, FIN), now + 4).unwrap();
    let syn4 = Flow4 {
        proto: Proto::Tcp,
        src4: OTHER_SERVER,
        sport: 55555,
        dst4: [203, 0, 113, 1],
        dport: 8080,
        flags: TcpFlags(SYN),
    };
    n.inbound(&syn4, now + 5).unwrap();
}

fn statics() -> [StaticBib; 1] {
    [StaticBib {
        proto: Proto::Tcp,
        addr6: host(80),
        port6: 80,
        addr4: [203, 0, 113, 1],
        port4: 8080,
    }]
}

fn listing(n: &Nat64, now: u64) -> Vec<SessionRecord> {
    let mut out = vec![0u8; 64 * SESSION_RECORD];
    let page = n.list_sessions(&ListFilter::default(), 0, &mut out, now);
    assert_eq!(page.next, None);
    let mut v: Vec<SessionRecord> = out[..page.records as usize * SESSION_RECORD]
        .chunks(SESSION_RECORD)
        .map(SessionRecord::read)
        .collect();
    v.sort_by_key(|r| (r.proto, r.addr6, r.port6, r.remote4, r.rport));
    v
}

fn exported(n: &Nat64, now: u64) -> Vec<u8> {
    let needed = HEADER + n.occupancy().sessions as usize * SESSION_RECORD;
    let mut buf = vec![0u8; needed];
    assert_eq!(n.export(now, &mut buf[..needed - 1]), Err(SnapshotError::BufferTooSmall { needed }));
    let len = n.export(now, &mut buf).unwrap();
    assert_eq!(len, buf.len());
    buf
}

#[test]
fn gauges_follow_sessions_bindings_and_pool4_use() {
    let pool4 = full_pool();
    let st = statics();
    engine(small(), &config(&pool4, &st), |n| {
        let idle = n.gauges();
        // Four addresses with ports 1-65535 (0-65535 for ICMP); the static entry holds one.
        assert_eq!(idle.pool4_size, [4 * 65535, 4 * 65535, 4 * 65536]);
        assert_eq!((idle.pool4_used, idle.bib, idle.sessions), ([1, 0, 0], [1, 0, 0], [0; 3]));
        populate(n, T0);
        let g = n.gauges();
        assert_eq!(g.sessions, [4, 20, 1]);
        assert_eq!(g.bib, [4, 20, 1]);
        assert_eq!(g.pool4_used, g.bib, "each binding holds one pool4 port");
        drain(n, T0 + 10 * TCP_EST_MS as u64);
        drain(n, T0 + 20 * TCP_EST_MS as u64);
        assert_eq!(n.gauges(), Gauges { bib: [1, 0, 0], pool4_used: [1, 0, 0], ..idle });
    });
}

/// A snapshot written and read in pieces of `piece` records is the one-piece snapshot.
fn round_trip_in_pieces(from: &Nat64, to: &mut Nat64, now: u64, piece: usize) -> (Vec<u8>, ImportSummary) {
    let mut ex = Exporter::new(from, now);
    let mut file = vec![0u8; HEADER];
    ex.header(&mut file);
    let mut buf = vec![0u8; piece * SESSION_RECORD + 7];
    loop {
        let n = ex.records(from, &mut buf);
        if n == 0 {
            break;
        }
        assert_eq!(n % SESSION_RECORD, 0);
        file.extend_from_slice(&buf[..n]);
    }
    assert_eq!(file.len(), ex.len());
    let mut im = Importer::begin(&file[..HEADER], file.len()).unwrap();
    for chunk in file[HEADER..].chunks(piece * SESSION_RECORD) {
        im.check(chunk).unwrap();
    }
    for chunk in file[HEADER..].chunks(piece * SESSION_RECORD) {
        im.apply(to, chunk, now).unwrap();
    }
    let summary = im.finish(to).unwrap();
    (file, summary)
}

#[test]
fn snapshots_go_in_pieces_and_refuse_pieces_that_were_not_checked() {
    let pool4 = full_pool();
    let st = statics();
    let cfg = config(&pool4, &st);
    let mut region = Region::with_bytes(Nat64::bytes_needed(&small()).unwrap());
    let mut from = Nat64::new(region.bytes(), &small(), &SEED).unwrap();
    from.configure(&cfg, 0).unwrap();
    populate(&mut from, T0);
    let whole = exported(&from, T0 + 9);
    engine(small(), &cfg, |to| {
        for piece in [1, 4, 25, 100] {
            let (file, summary) = round_trip_in_pieces(&from, to, T0 + 9, piece);
            assert_eq!(file, whole, "pieces of {}", piece);
            assert_eq!(summary, ImportSummary { sessions: 25, skipped: 0 });
            assert_eq!(listing(to, T0 + 9), listing(&from, T0 + 9));
            drain(to, T0 + 10 * TCP_EST_MS as u64);
            drain(to, T0 + 20 * TCP_EST_MS as u64);
            assert_eq!(to.occupancy().sessions, 0);
        }
        // Applying before every record was checked, or other bytes than were checked.
        let mut im = Importer::begin(&whole, whole.len()).unwrap();
        im.check(&whole[HEADER..HEADER + SESSION_RECORD]).unwrap();
        assert_eq!(im.apply(to, &whole[HEADER..], T0), Err(SnapshotError::LengthMismatch));
        let mut im = Importer::begin(&whole, whole.len()).unwrap();
        im.check(&whole[HEADER..]).unwrap();
        assert_eq!(im.check(&whole[HEADER..HEADER + SESSION_RECORD]), Err(SnapshotError::LengthMismatch));
        let mut other = whole.clone();
        other.truncate(whole.len() - SESSION_RECORD);
        other.extend_from_slice(&whole[HEADER..HEADER + SESSION_RECORD]);
        im.apply(to, &whole[HEADER..HEADER + 3 * SESSION_RECORD], T0).unwrap();
        assert!(to.occupancy().sessions > 0);
        im.apply(to, &other[HEADER + 3 * SESSION_RECORD..HEADER + 24 * SESSION_RECORD], T0).unwrap();
        assert!(matches!(
            im.apply(to, &other[HEADER + 24 * SESSION_RECORD..], T0),
            Err(SnapshotError::Inconsistent { .. })
        ));
        assert_eq!(to.occupancy().sessions, 0, "a failed piece undoes the import");
        let mut im = Importer::begin(&whole, whole.len()).unwrap();
        im.check(&whole[HEADER..]).unwrap();
        im.apply(to, &whole[HEADER..HEADER + 24 * SESSION_RECORD], T0).unwrap();
        let mut last = whole[HEADER + 24 * SESSION_RECORD..].to_vec();
        last[36] ^= 1;
        im.apply(to, &last, T0).unwrap();
        assert_eq!(im.finish(to), Err(SnapshotError::Checksum));
        assert_eq!(to.occupancy().sessions, 0);
    });
}

#[test]
fn export_then_import_under_another_clock_restores_the_same_tables() {
    let pool4 = full_pool();
    let st = statics();
    let cfg = config(&pool4, &st);
    let saved_at = T0 + 50_000;
    let (snapshot, before) = engine(small(), &cfg, |n| {
        populate(n, T0);
        (exported(n, saved_at), listing(n, saved_at))
    });
    assert_eq!(before.len(), 25);
    let restored_at = 7_777_777_777;
    engine(small(), &cfg, |n| {
        let summary = n.import(&snapshot, restored_at).unwrap();
        assert_eq!(summary, ImportSummary { sessions: 25, skipped: 0 });
        assert_eq!(listing(n, restored_at), before);
        assert_eq!(n.import(&snapshot, restored_at), Err(SnapshotError::NotEmpty));
        // Restored sessions work in both directions and expire on the restored clock.
        let udp = n.outbound(&udp6(1, 1000, SERVER, 53), restored_at).unwrap();
        assert!(n.inbound(&reply(&udp, 0), restored_at).is_ok());
        let fin = n.peek_outbound(&tcp6(4, 40004, OTHER_SERVER, 25, ACK)).unwrap();
        assert_eq!(fin.state, TcpState::V4FinRcv);
        let icmp_left = 60_000 - (saved_at - T0);
        let (sum, _) = drain(n, restored_at + icmp_left - 1);
        assert_eq!(sum.sessions_removed, 0);
        let (sum, _) = drain(n, restored_at + icmp_left);
        assert_eq!(sum.sessions_removed, 1);
        // A new binding does not collide with restored ones.
        let fresh = n.outbound(&udp6(1, 1004, SERVER, 53), restored_at).unwrap();
        for r in &before {
            assert!(!(r.proto == 1 && r.addr4 == fresh.addr4 && r.port4 == fresh.port4));
        }
    });
}

#[test]
fn import_skips_what_the_new_configuration_no_longer_allows() {
    let pool4 = full_pool();
    let st = statics();
    let snapshot = engine(small(), &config(&pool4, &st), |n| {
        populate(n, T0);
        exported(n, T0 + 10)
    });
    // pool4 without 203.0.113.0/30 for UDP, and no static entry.
    let narrower = [
        pool(Proto::Tcp, POOL_A, 30, 1, 65535),
        pool(Proto::Udp, [192, 0, 2, 0], 30, 1, 65535),
        pool(Proto::Icmp, POOL_A, 30, 0, 65535),
    ];
    engine(small(), &config(&narrower, &[]), |n| {
        let s = n.import(&snapshot, T0).unwrap();
        assert_eq!(s, ImportSummary { sessions: 4, skipped: 21 });
    });
}

fn with_checksum(mut data: Vec<u8>) -> Vec<u8> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in &data[HEADER..] {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    data[24..32].copy_from_slice(&h.to_le_bytes());
    data
}

#[test]
fn corrupt_snapshots_are_refused_and_leave_the_engine_empty() {
    let pool4 = full_pool();
    let st = statics();
    let cfg = config(&pool4, &st);
    let snapshot = engine(small(), &cfg, |n| {
        populate(n, T0);
        exported(n, T0 + 10)
    });
    engine(small(), &cfg, |n| {
        assert_eq!(n.import(&snapshot[..10], T0), Err(SnapshotError::Truncated));
        assert_eq!(n.import(&snapshot[..snapshot.len() - 1], T0), Err(SnapshotError::LengthMismatch));
        let mut bad = snapshot.clone();
        bad[0] = b'X';
        assert_eq!(n.import(&bad, T0), Err(SnapshotError::BadMagic));
        let mut bad = snapshot.clone();
        bad[8] = 2;
        assert_eq!(n.import(&bad, T0), Err(SnapshotError::UnsupportedVersion(2)));
        let mut bad = snapshot.clone();
        bad[12] = 41;
        assert_eq!(n.import(&bad, T0), Err(SnapshotError::BadHeader));
        for at in (HEADER..snapshot.len()).step_by(7) {
            let mut bad = snapshot.clone();
            bad[at] ^= 0x10;
            assert_eq!(n.import(&bad, T0), Err(SnapshotError::Checksum), "flip at {}", at);
        }
        // Consistent checksums over impossible values.
        let rec = |i: usize| HEADER + i * SESSION_RECORD;
        let cases: [(usize, u8, &str); 5] = [(0, 9, "protocol"), (1, 8, "state"), (2, 7, "class"), (3, 2, "flags"), (34, 1, "reserved")];
        for (offset, value, field) in cases {
            let mut bad = snapshot.clone();
            bad[rec(3) + offset] = value;
            assert_eq!(n.import(&with_checksum(bad), T0), Err(SnapshotError::Corrupt { record: 3, field }));
        }
        let mut bad = snapshot.clone();
        let (a, b) = (rec(0), rec(5));
        let first: Vec<u8> = bad[a..a + SESSION_RECORD].to_vec();
        bad.copy_within(b..b + SESSION_RECORD, a);
        bad[b..b + SESSION_RECORD].copy_from_slice(&first);
        assert_eq!(n.import(&with_checksum(bad), T0), Err(SnapshotError::Corrupt { record: 1, field: "order" }));
        // A duplicated session is a contradiction found while applying: nothing stays.
        let mut dup = snapshot.clone();
        let last = dup.len() - SESSION_RECORD;
        let copy: Vec<u8> = dup[last..].to_vec();
        dup.extend_from_slice(&copy);
        let count = u32::from_le_bytes([dup[16], dup[17], dup[18], dup[19]]) + 1;
        dup[16..20].copy_from_slice(&count.to_le_bytes());
        assert_eq!(n.import(&with_checksum(dup), T0), Err(SnapshotError::Inconsistent { record: count - 1 }));
        assert_eq!(n.occupancy().sessions, 0);
        assert_eq!(n.occupancy().bib_entries, 1, "only the static entry");
        assert_eq!(n.occupancy().hosts, 0);
        // Random garbage never panics.
        let mut x = 1u64;
        for _ in 0..2000 {
            let mut junk = snapshot.clone();
            for _ in 0..4 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let at = (x >> 33) as usize % junk.len();
                junk[at] = (x >> 20) as u8;
            }
            let junk = with_checksum(junk);
            if n.import(&junk, T0).is_ok() {
                // Every restored lifetime is at most TCP_EST, plus TCP_TRANS after a probe.
                n.expire(T0 + TCP_EST_MS as u64, u32::MAX, &mut |_| {});
                n.expire(T0 + (TCP_EST_MS + TCP_TRANS_MS) as u64, u32::MAX, &mut |_| {});
            }
            assert_eq!(n.occupancy().sessions, 0);
        }
        assert_eq!(n.import(&snapshot, T0).unwrap().sessions, 25);
    });
}

#[test]
fn listing_filters_and_pages() {
    let pool4 = full_pool();
    let st = statics();
    engine(small(), &config(&pool4, &st), |n| {
        populate(n, T0);
        let mut out = vec![0u8; 7 * SESSION_RECORD];
        let mut cursor = 0;
        let mut seen = 0;
        let mut pages = 0;
        loop {
            let p = n.list_sessions(&ListFilter::default(), cursor, &mut out, T0);
            seen += p.records;
            pages += 1;
            match p.next {
                Some(c) => cursor = c,
                None => break,
            }
        }
        assert_eq!((seen, pages), (25, 4));
        let only_tcp = ListFilter {
            proto: Some(Proto::Tcp),
            ..ListFilter::default()
        };
        let mut big = vec![0u8; 64 * SESSION_RECORD];
        assert_eq!(n.list_sessions(&only_tcp, 0, &mut big, T0).records, 4);
        let host3 = ListFilter {
            addr6: Some(host(3)),
            ..ListFilter::default()
        };
        assert_eq!(n.list_sessions(&host3, 0, &mut big, T0).records, 6);
        let other = ListFilter {
            addr4: Some(OTHER_SERVER),
            ..ListFilter::default()
        };
        assert_eq!(n.list_sessions(&other, 0, &mut big, T0).records, 2);
        assert_eq!(
            [&ListFilter::default(), &only_tcp, &host3, &other].map(|f| n.count_sessions(f)),
            [25, 4, 6, 2],
            "the totals agree with the pages"
        );
        assert_eq!(n.count_bib(&ListFilter::default()), 25);
        assert_eq!(n.count_bib(&host3), 6);
        let mut bibs = vec![0u8; 64 * BIB_RECORD];
        let p = n.list_bib(&ListFilter::default(), 0, &mut bibs);
        assert_eq!(p, Page { records: 25, next: None });
        let statics_only: Vec<&[u8]> = bibs.chunks(BIB_RECORD).take(25).filter(|r| r[1] == 1).collect();
        assert_eq!(statics_only.len(), 1);
        assert_eq!(&statics_only[0][28..32], &1u32.to_le_bytes(), "one session on the static entry");
        let tiny = n.list_bib(&ListFilter::default(), 0, &mut bibs[..BIB_RECORD + 5]);
        assert_eq!(tiny.records, 1);
        assert!(tiny.next.is_some());
    });
}

#[test]
fn reconfiguring_keeps_what_still_fits_and_drops_the_rest() {
    let pool4 = full_pool();
    let st = statics();
    engine(small(), &config(&pool4, &st), |n| {
        populate(n, T0);
        let udp = n.peek_outbound(&udp6(2, 1000, SERVER, 53)).unwrap();
        // Same pool, no static entry, a new static entry on a dynamic entry's place.
        let takeover = [StaticBib {
            proto: Proto::Udp,
            addr6: host(99),
            port6: 99,
            addr4: udp.addr4,
            port4: udp.port4,
        }];
        n.configure(&config(&pool4, &takeover), 0).unwrap();
        assert!(n.peek_outbound(&udp6(2, 1000, SERVER, 53)).is_none(), "the dynamic entry made room");
        let flow = Flow4 {
            proto: Proto::Udp,
            src4: SERVER,
            sport: 53,
            dst4: udp.addr4,
            dport: udp.port4,
            flags: TcpFlags::default(),
        };
        assert_eq!(n.inbound(&flow, T0).unwrap().addr6, host(99));
        assert!(n.peek_outbound(&tcp6(80, 80, OTHER_SERVER, 55555, ACK)).is_none(), "the old static entry is gone");
        assert!(n.peek_outbound(&udp6(3, 1000, SERVER, 53)).is_some(), "the rest keeps running");
        // A pool4 without the UDP addresses drops the UDP entries but the new static
        // entry must then be refused.
        let no_udp = [pool(Proto::Tcp, POOL_A, 30, 1, 65535), pool(Proto::Icmp, POOL_A, 30, 0, 65535)];
        assert_eq!(
            n.configure(&config(&no_udp, &takeover), 0),
            Err(ConfigError::StaticBib { entry: 0, problem: StaticBibProblem::NotInPool4 })
        );
        n.configure(&config(&no_udp, &[]), 0).unwrap();
        let listed = listing(n, T0);
        assert!(listed.iter().all(|r| r.proto != 1));
        assert_eq!(listed.len(), 4);
        // Surviving entries keep working and keep their ports out of the rebuilt pool.
        let est = n.outbound(&tcp6(3, 40000, SERVER, 443, ACK), T0).unwrap();
        assert_eq!(est.state, TcpState::Established);
        let set = n.pool.find(Proto::Tcp, u32::from_be_bytes(est.addr4)).unwrap();
        assert!(!n.pool.take(set, est.port4));
    });
}

#[test]
fn configuration_errors_name_the_field_and_change_nothing() {
    let pool4 = full_pool();
    engine(small(), &config(&pool4, &[]), |n| {
        let a = n.outbound(&udp6(1, 5000, SERVER, 53), T0).unwrap();
        let bad_timeout = Nat64Config {
            timeouts: Timeouts {
                udp_ms: 60_000,
                ..Timeouts::default()
            },
            ..config(&pool4, &[])
        };
        let e = n.configure(&bad_timeout, 0).unwrap_err();
        assert_eq!(e.field(), "udp_ms");
        assert!(e.reason().to_string().contains("UDP_MIN"));
        let bad_pool = [pool(Proto::Udp, [203, 0, 113, 1], 24, 1, 2)];
        let e = n.configure(&config(&bad_pool, &[]), 0).unwrap_err();
        assert_eq!((e.field(), e.entry()), ("pool4", Some(0)));
        assert_eq!(n.timeouts(), Timeouts::default());
        assert_eq!(n.outbound(&udp6(1, 5000, SERVER, 53), T0).unwrap(), a);
    });
}

#[test]
fn shorter_timeouts_apply_to_live_sessions() {
    let pool4 = full_pool();
    engine(small(), &config(&pool4, &[]), |n| {
        n.outbound(&udp6(1, 5000, SERVER, 53), T0).unwrap();
        let cfg = Nat64Config {
            timeouts: Timeouts {
                udp_ms: 120_000,
                ..Timeouts::default()
            },
            ..config(&pool4, &[])
        };
        n.configure(&cfg, 0).unwrap();
        let (sum, _) = drain(n, T0 + 120_000);
        assert_eq!(sum.sessions_removed, 1);
    });
}

#[test]
fn a_clock_that_went_backwards_still_exports_an_importable_file() {
    let pool4 = full_pool();
    let cfg = config(&pool4, &[]);
    let snapshot = engine(small(), &cfg, |n| {
        n.outbound(&udp6(1, 1000, SERVER, 53), T0 + 10).unwrap();
        n.outbound(&udp6(1, 1001, SERVER, 53), T0).unwrap();
        exported(n, T0 + 20)
    });
    engine(small(), &cfg, |n| {
        assert_eq!(n.import(&snapshot, T0).unwrap().sessions, 2);
        let remaining: Vec<u32> = listing(n, T0).iter().map(|r| r.remaining_ms).collect();
        assert_eq!(remaining, vec![UDP_DEFAULT_MS - 10; 2]);
    });
}

/// Session and BIB events ([`super::events`]): what is recorded, when, and why.
mod events {
    use super::super::events::{EventLog, EventRecord, Why, FLAG_STATIC};
    use super::*;

    /// One event, readable: (kind, cause, protocol, x', x, y, now_ms).
    type Seen = (EventKind, Cause, u8, u16, u16, u16, u64);

    fn kind(k: u8) -> EventKind {
        [EventKind::SessionCreated, EventKind::SessionRemoved, EventKind::BibCreated, EventKind::BibRemoved][k as usize - 1]
    }

    fn cause(c: u8) -> Cause {
        [
            Cause::FromIpv6,
            Cause::FromIpv4,
            Cause::Restored,
            Cause::Configured,
            Cause::Expired,
            Cause::TcpClosed,
            Cause::TcpTrans,
            Cause::Reconfigured,
            Cause::RestoreUndone,
        ][c as usize - 1]
    }

    /// The records waiting in `log`, taken.
    fn take(log: &mut EventLog) -> Vec<EventRecord> {
        let n = log.take() as usize;
        log.records()[..n].to_vec()
    }

    fn seen(r: &EventRecord) -> Seen {
        let port = u16::from_le;
        (kind(r.kind), cause(r.cause), r.proto, port(r.port6), port(r.port4), port(r.remote_port), u64::from_le(r.now_ms))
    }

    fn events(n: &mut Nat64) -> Vec<Seen> {
        take(n.events()).iter().map(seen).collect()
    }

    /// Tables with `cfg` and events on.
    fn recording<R>(cap: Capacity, cfg: &Nat64Config, f: impl FnOnce(&mut Nat64) -> R) -> R {
        engine(cap, cfg, |n| {
            n.events().set_enabled(true);
            f(n)
        })
    }

    #[test]
    fn nothing_is_recorded_while_events_are_off() {
        engine(small(), &config(&full_pool(), &[]), |n| {
            let m = n.outbound(&udp6(1, 5000, SERVER, 53), T0).unwrap();
            n.inbound(&reply(&m, 0), T0).unwrap();
            drain(n, T0 + UDP_DEFAULT_MS as u64);
            assert_eq!((n.events().pending(), n.events().lost()), (0, 0));
        });
    }

    #[test]
    fn a_first_session_creates_its_binding_and_later_ones_only_themselves() {
        recording(small(), &config(&full_pool(), &[]), |n| {
            let a = n.outbound(&udp6(1, 5000, SERVER, 53), T0).unwrap();
            let (x, udp) = (a.port4, Proto::Udp as u8);
            assert_eq!(
                events(n),
                vec![
                    (EventKind::BibCreated, Cause::FromIpv6, udp, 5000, x, 0, T0),
                    (EventKind::SessionCreated, Cause::FromIpv6, udp, 5000, x, 53, T0),
                ]
            );
            n.outbound(&udp6(1, 5000, SERVER, 53), T0 + 1).unwrap();
            n.outbound(&udp6(1, 5000, OTHER_SERVER, 123), T0 + 2).unwrap();
            // Endpoint-independent filtering: a stranger's packet makes a session too.
            let stranger = Flow4 { src4: [192, 0, 2, 99], sport: 4444, ..reply(&a, 0) };
            n.inbound(&stranger, T0 + 3).unwrap();
            assert_eq!(
                events(n),
                vec![
                    (EventKind::SessionCreated, Cause::FromIpv6, udp, 5000, x, 123, T0 + 2),
                    (EventKind::SessionCreated, Cause::FromIpv4, udp, 5000, x, 4444, T0 + 3),
                ]
            );
        });
    }

    #[test]
    fn a_record_carries_both_sides_of_the_session() {
        recording(small(), &config(&full_pool(), &[]), |n| {
            let m = n.outbound(&tcp6(1, 40000, SERVER, 80, SYN), T0).unwrap();
            let r = take(n.events())[1];
            assert_eq!((r.addr6, r.addr4, r.remote4), (host(1), m.addr4, SERVER));
            assert_eq!((r.state, r.flags, r.remote6), (TcpState::V6Init as u8, 0, [0; 16]), "Y' is the engine's to fill");
        });
    }

    #[test]
    fn expiry_removes_the_session_then_its_binding() {
        recording(small(), &config(&full_pool(), &[]), |n| {
            let m = n.outbound(&udp6(1, 5000, SERVER, 53), T0).unwrap();
            events(n);
            let at = T0 + UDP_DEFAULT_MS as u64;
            drain(n, at);
            let udp = Proto::Udp as u8;
            assert_eq!(
                events(n),
                vec![
                    (EventKind::SessionRemoved, Cause::Expired, udp, 5000, m.port4, 53, at),
                    (EventKind::BibRemoved, Cause::Expired, udp, 5000, m.port4, 0, at),
                ]
            );
        });
    }

    #[test]
    fn tcp_removals_say_whether_the_connection_closed_or_was_reset() {
        recording(small(), &config(&full_pool(), &[]), |n| {
            let closed = n.outbound(&tcp6(1, 40000, SERVER, 80, SYN), T0).unwrap();
            n.inbound(&reply(&closed, SYN_ACK), T0).unwrap();
            n.outbound(&tcp6(1, 40000, SERVER, 80, FIN), T0).unwrap();
            n.inbound(&reply(&closed, FIN), T0).unwrap();
            let reset = n.outbound(&tcp6(1, 40001, SERVER, 80, SYN), T0).unwrap();
            n.inbound(&reply(&reset, SYN_ACK), T0).unwrap();
            n.inbound(&reply(&reset, RST), T0).unwrap();
            // A SYN never answered.
            n.outbound(&tcp6(1, 40002, SERVER, 80, SYN), T0).unwrap();
            events(n);
            drain(n, T0 + TCP_TRANS_MS as u64);
            let mut removed: Vec<(u16, Cause, u8)> = take(n.events())
                .iter()
                .filter(|r| r.kind == EventKind::SessionRemoved as u8)
                .map(|r| (u16::from_le(r.port6), cause(r.cause), r.state))
                .collect();
            removed.sort_by_key(|r| r.0);
            assert_eq!(
                removed,
                vec![
                    (40000, Cause::TcpClosed, TcpState::V4FinV6FinRcv as u8),
                    (40001, Cause::TcpTrans, TcpState::Trans as u8),
                    (40002, Cause::Expired, TcpState::V6Init as u8),
                ]
            );
        });
    }

    #[test]
    fn a_probe_is_not_a_removal() {
        recording(small(), &config(&full_pool(), &[]), |n| {
            let m = n.outbound(&tcp6(1, 40000, SERVER, 80, SYN), T0).unwrap();
            n.inbound(&reply(&m, SYN_ACK), T0).unwrap();
            events(n);
            let (sum, _) = drain(n, T0 + TCP_EST_MS as u64);
            assert_eq!(sum.probes, 1);
            assert_eq!(events(n), vec![]);
        });
    }

    #[test]
    fn reconfiguration_removes_what_it_takes_away_and_adds_static_entries() {
        let pool4 = full_pool();
        let st = statics();
        recording(small(), &config(&pool4, &[]), |n| {
            let m = n.outbound(&udp6(1, 5000, SERVER, 53), T0).unwrap();
            events(n);
            n.configure(&config(&pool4, &st), T0 + 5).unwrap();
            let added = take(n.events());
            assert_eq!(added.iter().map(seen).collect::<Vec<_>>(), vec![(EventKind::BibCreated, Cause::Configured, Proto::Tcp as u8, 80, 8080, 0, T0 + 5)]);
            assert_eq!((u16::from_le(added[0].flags), added[0].addr6), (FLAG_STATIC, host(80)));
            let no_udp = [pool(Proto::Tcp, POOL_A, 30, 1, 65535)];
            n.configure(&config(&no_udp, &[]), T0 + 6).unwrap();
            let udp = Proto::Udp as u8;
            let mut gone = events(n);
            gone.sort_by_key(|e| (e.2, e.0 as u8));
            assert_eq!(
                gone,
                vec![
                    (EventKind::BibRemoved, Cause::Reconfigured, Proto::Tcp as u8, 80, 8080, 0, T0 + 6),
                    (EventKind::SessionRemoved, Cause::Reconfigured, udp, 5000, m.port4, 53, T0 + 6),
                    (EventKind::BibRemoved, Cause::Reconfigured, udp, 5000, m.port4, 0, T0 + 6),
                ]
            );
        });
    }

    #[test]
    fn a_session_the_limit_refuses_leaves_no_event_and_removes_nothing() {
        let pool4 = full_pool();
        let cfg = Nat64Config { max_sessions: 1, ..config(&pool4, &[]) };
        recording(small(), &cfg, |n| {
            n.outbound(&udp6(1, 5000, SERVER, 53), T0).unwrap();
            events(n);
            assert_eq!(n.outbound(&udp6(2, 5000, SERVER, 53), T0), Err(Refusal::SessionLimit));
            assert_eq!(events(n), vec![]);
            assert_eq!(n.occupancy().sessions, 1);
        });
    }

    #[test]
    fn a_full_buffer_counts_the_events_it_loses() {
        let cap = Capacity { events: 3, ..small() };
        recording(cap, &config(&full_pool(), &[]), |n| {
            for port in 0..3 {
                n.outbound(&udp6(1, 5000, SERVER, 53 + port), T0).unwrap();
            }
            assert_eq!((n.events().pending(), n.events().lost()), (3, 1), "binding + 2 sessions written, 1 lost");
            assert_eq!(n.occupancy().sessions, 3, "the packet path never waits for the log");
            assert_eq!(take(n.events()).len(), 3);
            n.outbound(&udp6(1, 5000, SERVER, 99), T0).unwrap();
            assert_eq!((n.events().pending(), n.events().lost()), (1, 1));
        });
    }

    #[test]
    fn restored_sessions_are_recorded_and_an_undone_restore_removes_them() {
        let pool4 = full_pool();
        let mut region = Region::with_bytes(Nat64::bytes_needed(&small()).unwrap());
        let mut from = Nat64::new(region.bytes(), &small(), &SEED).unwrap();
        from.configure(&config(&pool4, &[]), 0).unwrap();
        from.outbound(&udp6(1, 5000, SERVER, 53), T0).unwrap();
        let file = exported(&from, T0);
        recording(small(), &config(&pool4, &[]), |to| {
            to.import(&file, T0 + 7).unwrap();
            let udp = Proto::Udp as u8;
            let restored: Vec<(EventKind, Cause, u64)> = events(to).iter().map(|e| (e.0, e.1, e.6)).collect();
            assert_eq!(
                restored,
                vec![(EventKind::BibCreated, Cause::Restored, T0 + 7), (EventKind::SessionCreated, Cause::Restored, T0 + 7)]
            );
            to.drop_all_sessions(Why::new(Cause::RestoreUndone, T0 + 8));
            let undone: Vec<(EventKind, Cause, u8)> = events(to).iter().map(|e| (e.0, e.1, e.2)).collect();
            assert_eq!(undone, vec![(EventKind::SessionRemoved, Cause::RestoreUndone, udp), (EventKind::BibRemoved, Cause::RestoreUndone, udp)]);
        });
    }
}

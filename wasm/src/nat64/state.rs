//! [`Nat64`]: every stateful table together, and the operations the packet path calls.

use super::bib::{BibEntry, BibTable, DOOMED, KEPT, POOLED, STATIC};
use super::carve::{Carver, InitError};
use super::events::{Cause, EventKind, EventLog, EventRecord, Why, EVENT_CAPACITY, FLAG_STATIC};
use super::fragments::{FragmentKey, FragmentTable, FragmentVerdict};
use super::hosts::HostTable;
use super::pool4::Pool4;
use super::sessions::SessionTable;
use super::settings::{validate_static_bib, ConfigError, Filtering, Nat64Config, StaticBib};
use super::siphash::{domain, SipKey};
use super::syn_store::SynStore;
use super::tcp::{self, OnExpiry, Side, TcpFlags, TcpState, Timer};
use super::timeouts::{stamp, TimeoutClass, Timeouts, SESSION_CLASSES};
use super::types::{u32_to_v4, v4_to_u32, v6_words, Addr4, Addr6, Flow4, Flow6, Mapping, Proto, Refusal};

/// The largest session capacity: 2^24.
pub const MAX_SESSIONS: u32 = 1 << 24;
/// The most (protocol, pool4 address) pairs the tables lay out: 4096 addresses (a /20)
/// for each of TCP, UDP and ICMP, about 100 MB of port sets. A carrier's pool4 is a few
/// /24s at most; beyond this the host would need gigabytes it almost certainly lacks.
pub const MAX_PORT_SETS: u32 = 3 * 4096;

/// Sizes fixed at init.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacity {
    /// Sessions; also bounds dynamic BIB entries and IPv6 hosts.
    pub sessions: u32,
    /// Static BIB entries (the BIB holds `sessions + static_bibs` entries).
    pub static_bibs: u32,
    /// (protocol, pool4 address) pairs, at most [`MAX_PORT_SETS`]; 8.2 KiB each.
    pub port_sets: u32,
    /// Stored IPv4 SYNs awaiting a simultaneous open.
    pub stored_syns: u32,
    /// Bytes kept of each stored SYN.
    pub stored_syn_bytes: u32,
    /// Fragmented datagrams tracked at once.
    pub fragments: u32,
    /// Out-of-order fragments held at once.
    pub held_fragments: u32,
    /// Bytes of one held fragment (the largest fragment that can be held).
    pub held_fragment_bytes: u32,
    /// Session and BIB events buffered for the host (64 bytes each).
    pub events: u32,
}

impl Capacity {
    /// `sessions` sessions, `port_sets` (protocol, pool4 address) pairs, and modest
    /// defaults for the rest: 256 static entries, 256 stored SYNs of 128 bytes, 1024
    /// fragmented datagrams, 64 held fragments of 1536 bytes, [`EVENT_CAPACITY`]
    /// events.
    pub fn new(sessions: u32, port_sets: u32) -> Self {
        Capacity {
            sessions,
            static_bibs: 256,
            port_sets,
            stored_syns: 256,
            stored_syn_bytes: 128,
            fragments: 1024,
            held_fragments: 64,
            held_fragment_bytes: 1536,
            events: EVENT_CAPACITY,
        }
    }
}

/// Live entry counts, for counters and `stats`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Occupancy {
    /// Sessions.
    pub sessions: u32,
    /// BIB entries, static ones included.
    pub bib_entries: u32,
    /// IPv6 hosts with state.
    pub hosts: u32,
    /// Stored IPv4 SYNs.
    pub stored_syns: u32,
    /// Fragmented datagrams tracked.
    pub fragment_datagrams: u32,
}

/// Per-protocol figures, indexed by [`Proto::index`]: what the engine exports as the
/// `sessions_*`, `bib_*`, `pool4_used_*` and `pool4_size_*` gauges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Gauges {
    /// Live sessions.
    pub sessions: [u32; 3],
    /// BIB entries, static ones included.
    pub bib: [u32; 3],
    /// pool4 ports (ICMP: identifiers) bound, over every address.
    pub pool4_used: [u32; 3],
    /// pool4 ports (ICMP: identifiers), over every address.
    pub pool4_size: [u32; 3],
}

/// Something [`Nat64::expire`] did that the packet path may have to act on.
#[derive(Debug, PartialEq, Eq)]
pub enum Expired<'p> {
    /// A session outlived its lifetime and was removed (its last mapping, for logs).
    Session(Mapping),
    /// An ESTABLISHED session was idle for TCP_EST: it is now TRANS with TCP_TRANS and
    /// the packet path SHOULD probe the endpoints (RFC 6146 §3.5.2.2); traffic revives it.
    Probe(Mapping),
    /// A stored IPv4 SYN waited TCP_INCOMING_SYN in vain: answer it with ICMP port
    /// unreachable, type 3 code 3 (RFC 6146 §3.5.2.2). The bytes are the stored copy.
    StoredSyn(&'p [u8]),
}

/// What one [`Nat64::expire`] call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ExpireSummary {
    /// Sessions removed.
    pub sessions_removed: u32,
    /// ESTABLISHED sessions moved to TRANS for probing.
    pub probes: u32,
    /// Stored SYNs that expired.
    pub stored_syns: u32,
    /// Fragmented datagrams forgotten.
    pub fragment_datagrams: u32,
    /// Held fragments dropped with them.
    pub held_fragments_dropped: u32,
    /// Queue heads looked at: the work done, which does not grow with live entries.
    pub examined: u32,
    /// The budget ran out: call again soon, more may be due.
    pub budget_exhausted: bool,
}

#[derive(Clone, Copy)]
pub(super) struct Settings {
    pub timeouts: Timeouts,
    pub filtering: Filtering,
    pub drop_external_tcp: bool,
    pub max_sessions: u32,
    pub max_per_host: u32,
}

/// The stateful NAT64 tables (RFC 6146): BIB, sessions, pool4, hosts, stored SYNs and
/// fragments, laid out once in a caller-provided region. See the module documentation
/// of [`super`] for the contract.
pub struct Nat64<'a> {
    pub(super) pool: Pool4<'a>,
    pub(super) bib: BibTable<'a>,
    pub(super) hosts: HostTable<'a>,
    pub(super) sessions: SessionTable<'a>,
    pub(super) syns: SynStore<'a>,
    pub(super) frags: FragmentTable<'a>,
    pub(super) settings: Settings,
    pub(super) events: EventLog<'a>,
    static_capacity: u32,
    port_key: SipKey,
    pair_key: SipKey,
    allocations: u64,
    rotation: usize,
}

impl<'a> Nat64<'a> {
    fn carve(c: &mut Carver<'a>, cap: &Capacity, seed: &[u8; 16]) -> Result<Self, InitError> {
        // Entry numbers stay below NIL; held fragment and stored SYN lengths fit u16.
        // A BIB entry counts its sessions in 25 bits (see `bib`).
        if cap.sessions == 0
            || cap.sessions > MAX_SESSIONS
            || cap.static_bibs >= u32::MAX / 2
            || cap.held_fragment_bytes > u16::MAX as u32
            || cap.stored_syn_bytes > u16::MAX as u32
        {
            return Err(InitError::BadCapacity);
        }
        if cap.port_sets > MAX_PORT_SETS {
            return Err(InitError::TooManyPortSets);
        }
        let key = SipKey::from_seed(seed);
        let n = cap.sessions as usize;
        let settings = Settings {
            timeouts: Timeouts::default(),
            filtering: Filtering::EndpointIndependent,
            drop_external_tcp: false,
            max_sessions: cap.sessions,
            max_per_host: 0,
        };
        Ok(Nat64 {
            pool: Pool4::carve(c, cap.port_sets as usize, key.derive(domain::POOL4))?,
            bib: BibTable::carve(c, n + cap.static_bibs as usize, &key)?,
            hosts: HostTable::carve(c, n, &key)?,
            sessions: SessionTable::carve(c, n, &key)?,
            syns: SynStore::carve(c, cap.stored_syns as usize, cap.stored_syn_bytes as usize, &key)?,
            frags: FragmentTable::carve(
                c,
                cap.fragments as usize,
                cap.held_fragments as usize,
                cap.held_fragment_bytes as usize,
                &key,
            )?,
            settings,
            events: EventLog::carve(c, cap.events)?,
            static_capacity: cap.static_bibs,
            port_key: key.derive(domain::PORT),
            pair_key: key.derive(domain::PAIRING),
            allocations: 0,
            rotation: 0,
        })
    }

    /// Bytes of region [`Nat64::new`] needs for `cap`.
    pub fn bytes_needed(cap: &Capacity) -> Result<usize, InitError> {
        let mut c = Carver::measuring();
        Nat64::carve(&mut c, cap, &[0; 16])?;
        Ok(c.used())
    }

    /// Lays the tables out in `region` (8-byte aligned, at least
    /// [`Nat64::bytes_needed`] bytes). `seed` keys every hash and the port choice: the
    /// host must give 16 unpredictable bytes. The engine starts with
    /// [`Nat64Config::initial`].
    pub fn new(region: &'a mut [u8], cap: &Capacity, seed: &[u8; 16]) -> Result<Self, InitError> {
        let mut c = Carver::new(region)?;
        Nat64::carve(&mut c, cap, seed)
    }

    /// Replaces the configuration at `now_ms` (the host's latest time, for the events
    /// it causes). Validation comes first: on error nothing changes. Then pool4 is
    /// rebuilt; dynamic BIB entries whose address left pool4, static entries no longer
    /// configured and entries in the way of a new static entry are removed with their
    /// sessions; everything else keeps running.
    pub fn configure(&mut self, cfg: &Nat64Config, now_ms: u64) -> Result<(), ConfigError> {
        cfg.timeouts.validate().map_err(ConfigError::Timeout)?;
        if cfg.max_sessions > self.sessions.capacity() {
            return Err(ConfigError::MaxSessions {
                capacity: self.sessions.capacity(),
            });
        }
        self.pool.validate(cfg.pool4).map_err(ConfigError::Pool4)?;
        validate_static_bib(cfg.static_bib, cfg.pool4, self.static_capacity)?;
        self.settings = Settings {
            timeouts: cfg.timeouts,
            filtering: cfg.filtering,
            drop_external_tcp: cfg.drop_external_tcp,
            max_sessions: if cfg.max_sessions == 0 { self.sessions.capacity() } else { cfg.max_sessions },
            max_per_host: cfg.max_sessions_per_host,
        };
        self.pool.apply(cfg.pool4);
        self.reconcile_bib(cfg.static_bib, now_ms);
        Ok(())
    }

    /// Brings the BIB in line with a freshly rebuilt pool4 and a new static list.
    fn reconcile_bib(&mut self, statics: &[StaticBib], now_ms: u64) {
        let gone = Why::new(Cause::Reconfigured, now_ms);
        let cap = self.bib.capacity();
        for i in 0..cap {
            self.bib.get_mut(i).clear_flags(POOLED | DOOMED | KEPT);
        }
        for s in statics {
            let a4 = v4_to_u32(s.addr4);
            let b6 = self.bib.find6(s.proto, &s.addr6, s.port6);
            let b4 = self.bib.find4(s.proto, a4, s.port4);
            match (b6, b4) {
                (Some(x), Some(y)) if x == y => {
                    if !self.bib.get(x).is_static() {
                        self.bib.get_mut(x).set_flags(STATIC);
                        self.forget_dynamic_bib_of_host(&s.addr6);
                    }
                    self.bib.get_mut(x).set_flags(KEPT);
                }
                _ => {
                    for b in [b6, b4].iter().flatten() {
                        self.bib.get_mut(*b).set_flags(DOOMED);
                    }
                }
            }
        }
        let mut doomed = false;
        for i in 0..cap {
            let e = *self.bib.get(i);
            let proto = match e.protocol() {
                Some(p) => p,
                None => continue,
            };
            let gone = if e.is_static() {
                e.flags() & KEPT == 0
            } else {
                self.pool.find(proto, e.addr4).is_none()
            };
            if gone || e.flags() & DOOMED != 0 {
                self.bib.get_mut(i).set_flags(DOOMED);
                doomed = true;
            }
        }
        if doomed {
            for s in 0..self.sessions.capacity() {
                let e = *self.sessions.get(s);
                if e.is_live() && self.bib.get(e.bib).flags() & DOOMED != 0 {
                    self.remove_session_only(s, gone);
                }
            }
            for i in 0..cap {
                if self.bib.get(i).protocol().is_some() && self.bib.get(i).flags() & DOOMED != 0 {
                    self.log_bib(EventKind::BibRemoved, i, gone);
                    self.remove_bib(i);
                }
            }
        }
        for i in 0..cap {
            let e = *self.bib.get(i);
            if let Some(proto) = e.protocol() {
                if let Some(set) = self.pool.find(proto, e.addr4) {
                    if self.pool.take(set, e.port4) {
                        self.bib.get_mut(i).set_flags(POOLED);
                    }
                }
            }
        }
        for s in statics {
            let a4 = v4_to_u32(s.addr4);
            if self.bib.find6(s.proto, &s.addr6, s.port6).is_some() {
                continue;
            }
            let mut flags = STATIC;
            if let Some(set) = self.pool.find(s.proto, a4) {
                if self.pool.take(set, s.port4) {
                    flags |= POOLED;
                }
            }
            // Capacity holds: static entries have their own share of the BIB.
            if let Some(b) = self.bib.insert(BibEntry::new(s.proto, s.addr6, s.port6, a4, s.port4, flags)) {
                self.log_bib(EventKind::BibCreated, b, Why::new(Cause::Configured, now_ms));
            }
        }
        for i in 0..cap {
            self.bib.get_mut(i).clear_flags(KEPT);
        }
    }

    /// A dynamic BIB entry of the host became static: it no longer counts for pairing.
    fn forget_dynamic_bib_of_host(&mut self, addr6: &Addr6) {
        if let Some(h) = self.hosts.find(addr6) {
            self.hosts.get_mut(h).bibs -= 1;
            self.hosts.remove_if_idle(h);
        }
    }

    /// Filtering and updating for an IPv6 packet (RFC 6146 §3.5.1, §3.5.2, §3.5.3):
    /// finds or creates the BIB entry and the session, runs the TCP state machine and
    /// restarts the lifetime. The mapping tells the packet path the IPv4 source (X, x).
    pub fn outbound(&mut self, f: &Flow6, now_ms: u64) -> Result<Mapping, Refusal> {
        let rport = if f.proto == Proto::Icmp { 0 } else { f.dport };
        let remote4 = v4_to_u32(f.dst4);
        let needs_syn = f.proto == Proto::Tcp && !f.flags.syn();
        if let Some(b) = self.bib.find6(f.proto, &f.src6, f.sport) {
            if let Some(s) = self.session_of(b, remote4, rport) {
                self.update(s, f.proto, Side::V6, f.flags, now_ms);
                return Ok(self.mapping(b, Some(s), remote4, rport));
            }
            if needs_syn {
                // RFC 6146 §3.5.2.2 CLOSED: a non-SYN with a BIB entry is translated
                // through the entry without creating a session.
                return Ok(self.mapping(b, None, remote4, rport));
            }
            let s = self.new_session(b, remote4, rport, Side::V6, f.flags, now_ms)?;
            return Ok(self.mapping(b, Some(s), remote4, rport));
        }
        if needs_syn {
            return Err(Refusal::NotSyn);
        }
        self.session_room(&f.src6)?;
        let b = self.new_dynamic_bib(f.proto, &f.src6, f.sport, remote4, rport)?;
        match self.new_session(b, remote4, rport, Side::V6, f.flags, now_ms) {
            Ok(s) => Ok(self.mapping(b, Some(s), remote4, rport)),
            Err(r) => {
                self.remove_bib(b);
                Err(r)
            }
        }
    }

    /// Filtering and updating for an IPv4 packet whose destination is a pool4 address
    /// (RFC 6146 §3.5.1, §3.5.2.2, §3.5.3): finds the BIB entry, applies filtering,
    /// finds or creates the session. The mapping tells the packet path the IPv6
    /// destination (X', x').
    pub fn inbound(&mut self, f: &Flow4, now_ms: u64) -> Result<Mapping, Refusal> {
        let rport = if f.proto == Proto::Icmp { 0 } else { f.sport };
        let remote4 = v4_to_u32(f.src4);
        let b = self
            .bib
            .find4(f.proto, v4_to_u32(f.dst4), f.dport)
            .ok_or(Refusal::NoBinding)?;
        if let Some(s) = self.session_of(b, remote4, rport) {
            self.update(s, f.proto, Side::V4, f.flags, now_ms);
            return Ok(self.mapping(b, Some(s), remote4, rport));
        }
        let allowed = self.settings.filtering == Filtering::EndpointIndependent || self.sessions.any_with_addr(b, remote4);
        if f.proto == Proto::Tcp && !f.flags.syn() {
            return if allowed {
                Ok(self.mapping(b, None, remote4, rport))
            } else {
                Err(Refusal::Filtered)
            };
        }
        if f.proto == Proto::Tcp && self.settings.drop_external_tcp {
            return Err(Refusal::ExternalTcpDenied);
        }
        if !allowed {
            return Err(Refusal::Filtered);
        }
        let s = self.new_session(b, remote4, rport, Side::V4, f.flags, now_ms)?;
        Ok(self.mapping(b, Some(s), remote4, rport))
    }

    /// The mapping of an IPv6 flow without changing anything: for the packet inside an
    /// ICMPv6 error, which must not create or refresh state (RFC 6146 §3.5).
    pub fn peek_outbound(&self, f: &Flow6) -> Option<Mapping> {
        let rport = if f.proto == Proto::Icmp { 0 } else { f.dport };
        let remote4 = v4_to_u32(f.dst4);
        let b = self.bib.find6(f.proto, &f.src6, f.sport)?;
        Some(self.mapping(b, self.peek_session(b, remote4, rport), remote4, rport))
    }

    /// The mapping of an IPv4 flow without changing anything (see
    /// [`Nat64::peek_outbound`]). The packet inside an ICMPv4 error went from (X, x) to
    /// (Y, y): pass it as a flow from (Y, y) to (X, x).
    pub fn peek_inbound(&self, f: &Flow4) -> Option<Mapping> {
        let rport = if f.proto == Proto::Icmp { 0 } else { f.sport };
        let remote4 = v4_to_u32(f.src4);
        let b = self.bib.find4(f.proto, v4_to_u32(f.dst4), f.dport)?;
        Some(self.mapping(b, self.peek_session(b, remote4, rport), remote4, rport))
    }

    /// The session of BIB entry `b` with (Y, y), through the entry's hint when it is
    /// still right; without changing anything.
    #[inline]
    fn peek_session(&self, b: u32, remote4: u32, rport: u16) -> Option<u32> {
        let r = self.bib.get(b).recent;
        if r < self.sessions.capacity() {
            let e = self.sessions.get(r);
            if e.bib == b && e.remote4 == remote4 && e.rport == rport {
                return Some(r);
            }
        }
        self.sessions.find(b, remote4, rport)
    }

    /// [`Nat64::peek_session`], keeping what it found as the entry's hint.
    #[inline]
    fn session_of(&mut self, b: u32, remote4: u32, rport: u16) -> Option<u32> {
        let s = self.peek_session(b, remote4, rport)?;
        self.bib.get_mut(b).recent = s;
        Some(s)
    }

    /// Whether `addr` is a pool4 address (for any protocol): IPv4 packets to other
    /// addresses are not for the NAT64, and an IPv6 packet whose pool6 destination
    /// embeds a pool4 address is hairpinned (RFC 6146 §3.8: translate it 6→4 with
    /// [`Nat64::outbound`], then treat the result as an incoming IPv4 packet with
    /// [`Nat64::inbound`]). No hashing: this runs for every packet.
    #[inline]
    pub fn pool4_has_address(&self, addr: Addr4) -> bool {
        self.pool.has_address(v4_to_u32(addr))
    }

    /// Keeps a copy of an IPv4 TCP SYN that got [`Refusal::NoBinding`] or
    /// [`Refusal::Filtered`], for a simultaneous open (RFC 6146 §3.5.2.2). It comes back
    /// from [`Nat64::expire`] as [`Expired::StoredSyn`] unless the IPv6 side opens the
    /// connection within TCP_INCOMING_SYN.
    pub fn store_syn(&mut self, f: &Flow4, packet: &[u8], now_ms: u64) -> Result<(), Refusal> {
        if f.proto != Proto::Tcp || !f.flags.syn() {
            return Err(Refusal::NotSyn);
        }
        if self.settings.drop_external_tcp {
            return Err(Refusal::ExternalTcpDenied);
        }
        self.syns
            .store(v4_to_u32(f.dst4), f.dport, v4_to_u32(f.src4), f.sport, packet, now_ms)
    }

    /// Handles one fragment of datagram `key` (RFC 6146 §3.4): `first_ports` are the
    /// (source, destination) ports when this is the offset-0 fragment, `None` otherwise;
    /// `packet` is copied into the hold buffer while the ports are not known yet.
    pub fn fragment(&mut self, key: &FragmentKey, first_ports: Option<(u16, u16)>, packet: &[u8], now_ms: u64) -> Result<FragmentVerdict, Refusal> {
        self.frags.on_fragment(key, first_ports, packet, now_ms)
    }

    /// The oldest held fragment of a datagram whose ports are now known.
    pub fn take_held_fragment(&mut self, key: &FragmentKey) -> Option<&[u8]> {
        self.frags.take_held(key)
    }

    /// Expires what is due at `now_ms`, at most `budget` entries, looking only at queue
    /// heads. `sink` hears about each removed session, each probe due and each stored
    /// SYN to answer.
    pub fn expire(&mut self, now_ms: u64, budget: u32, sink: &mut dyn FnMut(Expired<'_>)) -> ExpireSummary {
        let mut sum = ExpireSummary::default();
        let mut left = budget;
        let timeouts = self.settings.timeouts;
        for k in 0..SESSION_CLASSES {
            let class = TimeoutClass::ALL[(self.rotation + k) % SESSION_CLASSES];
            while left > 0 {
                sum.examined += 1;
                let s = match self.sessions.expired_head(class, now_ms, timeouts.of(class)) {
                    Some(s) => s,
                    None => break,
                };
                left -= 1;
                let e = *self.sessions.get(s);
                if class == TimeoutClass::TcpEst && tcp::on_expiry(e.tcp_state()) == OnExpiry::Probe {
                    self.sessions.set_state(s, TcpState::Trans);
                    self.sessions.touch(s, TimeoutClass::TcpTrans, now_ms);
                    sum.probes += 1;
                    sink(Expired::Probe(self.mapping(e.bib, Some(s), e.remote4, e.rport)));
                } else {
                    let m = self.mapping(e.bib, None, e.remote4, e.rport);
                    let cause = match e.tcp_state() {
                        TcpState::V4FinV6FinRcv => Cause::TcpClosed,
                        TcpState::Trans => Cause::TcpTrans,
                        _ => Cause::Expired,
                    };
                    self.remove_session(s, Why::new(cause, now_ms));
                    sum.sessions_removed += 1;
                    sink(Expired::Session(Mapping { state: e.tcp_state(), ..m }));
                }
            }
        }
        self.rotation = (self.rotation + 1) % SESSION_CLASSES;
        while left > 0 {
            sum.examined += 1;
            if !self
                .syns
                .expire_head(now_ms, timeouts.tcp_incoming_syn_ms, &mut |b| sink(Expired::StoredSyn(b)))
            {
                break;
            }
            left -= 1;
            sum.stored_syns += 1;
        }
        while left > 0 {
            sum.examined += 1;
            match self.frags.expire_head(now_ms, timeouts.fragment_ms) {
                Some(dropped) => {
                    left -= 1;
                    sum.fragment_datagrams += 1;
                    sum.held_fragments_dropped += dropped;
                }
                None => break,
            }
        }
        sum.budget_exhausted = left == 0;
        sum
    }

    /// Live entry counts.
    pub fn occupancy(&self) -> Occupancy {
        Occupancy {
            sessions: self.sessions.live(),
            bib_entries: self.bib.live(),
            hosts: self.hosts.live(),
            stored_syns: self.syns.live(),
            fragment_datagrams: self.frags.live(),
        }
    }

    /// The per-protocol gauges, in O(1): the sessions of a protocol are the sessions of
    /// its timeout classes.
    pub fn gauges(&self) -> Gauges {
        let q = |c| self.sessions.queued(c);
        let mut g = Gauges {
            sessions: [q(TimeoutClass::TcpEst) + q(TimeoutClass::TcpTrans), q(TimeoutClass::Udp), q(TimeoutClass::Icmp)],
            ..Gauges::default()
        };
        for p in Proto::ALL {
            let (used, size) = self.pool.usage(p);
            g.bib[p.index()] = self.bib.live_of(p);
            g.pool4_used[p.index()] = used;
            g.pool4_size[p.index()] = size;
        }
        g
    }

    /// The configured lifetimes.
    pub fn timeouts(&self) -> Timeouts {
        self.settings.timeouts
    }

    fn update(&mut self, s: u32, proto: Proto, side: Side, flags: TcpFlags, now_ms: u64) {
        match proto {
            Proto::Tcp => {
                let t = tcp::on_packet(self.sessions.get(s).tcp_state(), side, flags);
                self.sessions.set_state(s, t.state);
                if let Timer::Restart(class) = t.timer {
                    self.sessions.touch(s, class, now_ms);
                }
            }
            Proto::Udp => self.sessions.touch(s, TimeoutClass::Udp, now_ms),
            Proto::Icmp => self.sessions.touch(s, TimeoutClass::Icmp, now_ms),
        }
    }

    pub(super) fn mapping(&self, b: u32, s: Option<u32>, remote4: u32, rport: u16) -> Mapping {
        let e = self.bib.get(b);
        Mapping {
            proto: e.protocol().unwrap_or(Proto::Udp),
            addr6: e.addr6,
            port6: e.port6,
            addr4: u32_to_v4(e.addr4),
            port4: e.port4,
            remote4: u32_to_v4(remote4),
            remote_port: rport,
            session: s,
            state: s.map_or(TcpState::Closed, |s| self.sessions.get(s).tcp_state()),
        }
    }

    /// Whether one more session for `addr6` fits the global and per-host limits.
    pub(super) fn session_room(&self, addr6: &Addr6) -> Result<(), Refusal> {
        if self.sessions.live() >= self.settings.max_sessions {
            return Err(Refusal::SessionLimit);
        }
        if self.settings.max_per_host != 0 {
            if let Some(h) = self.hosts.find(addr6) {
                if self.hosts.get(h).sessions >= self.settings.max_per_host {
                    return Err(Refusal::HostSessionLimit);
                }
            }
        }
        Ok(())
    }

    fn new_session(&mut self, b: u32, remote4: u32, rport: u16, side: Side, flags: TcpFlags, now_ms: u64) -> Result<u32, Refusal> {
        let e = *self.bib.get(b);
        self.session_room(&e.addr6)?;
        let proto = e.protocol().unwrap_or(Proto::Udp);
        let (state, class) = match proto {
            Proto::Tcp => {
                let state = tcp::on_packet(TcpState::Closed, side, flags).state;
                (state, tcp::class_of(state))
            }
            Proto::Udp => (TcpState::Closed, TimeoutClass::Udp),
            Proto::Icmp => (TcpState::Closed, TimeoutClass::Icmp),
        };
        let cause = if side == Side::V6 { Cause::FromIpv6 } else { Cause::FromIpv4 };
        let s = self
            .insert_session(b, remote4, rport, state, class, stamp(now_ms), Why::new(cause, now_ms))
            .ok_or(Refusal::SessionLimit)?;
        if proto == Proto::Tcp && side == Side::V6 {
            // RFC 6146 §3.5.2.2: the IPv6 side opened the connection, so a SYN stored
            // for it is silently dropped.
            self.syns.cancel(e.addr4, e.port4, remote4, rport);
        }
        Ok(s)
    }

    /// Adds a session and counts it on its BIB entry and host; `None` when a table is
    /// full. The session, and a dynamic BIB entry with its first session, are created
    /// for `why`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn insert_session(&mut self, b: u32, remote4: u32, rport: u16, state: TcpState, class: TimeoutClass, last: u32, why: Why) -> Option<u32> {
        let addr6 = self.bib.get(b).addr6;
        let h = self.hosts.find_or_insert(&addr6)?;
        match self.sessions.insert(b, remote4, rport, state, class, last) {
            Some(s) => {
                self.bib.get_mut(b).add_session();
                self.bib.get_mut(b).recent = s;
                self.hosts.get_mut(h).sessions += 1;
                if self.events.enabled() {
                    self.log_created(b, s, why);
                }
                Some(s)
            }
            None => {
                self.hosts.remove_if_idle(h);
                None
            }
        }
    }

    /// Creates a dynamic BIB entry for (X', x') with a pool4 transport address chosen by
    /// the rules of [`super::pool4`], the host's paired address, and a pending
    /// simultaneous open from (Y, y).
    pub(super) fn new_dynamic_bib(&mut self, proto: Proto, addr6: &Addr6, port6: u16, remote4: u32, rport: u16) -> Result<u32, Refusal> {
        if self.pool.sets_for(proto) == 0 {
            return Err(Refusal::NoPool4);
        }
        let h = self.hosts.find_or_insert(addr6).ok_or(Refusal::SessionLimit)?;
        let host = *self.hosts.get(h);
        let paired = if host.bibs > 0 { Some(host.paired4) } else { None };
        let [hi, lo] = v6_words(addr6);
        self.allocations = self.allocations.wrapping_add(1);
        let random = self
            .port_key
            .hash(&[hi, lo, ((port6 as u64) << 48) ^ self.allocations]);
        let mut chosen = None;
        if proto == Proto::Tcp {
            if let Some((x4, x)) = self.syns.find_remote(remote4, rport) {
                if paired.map_or(true, |p| p == x4) {
                    if let Some(set) = self.pool.find(proto, x4) {
                        if self.pool.take(set, x) {
                            chosen = Some((set, x));
                        }
                    }
                }
            }
        }
        let (set, port4) = match chosen {
            Some(c) => c,
            None => {
                let set = match paired.and_then(|p| self.pool.find(proto, p)) {
                    Some(set) => Some(set),
                    None => self.pool.pick(proto, self.pair_key.hash(&[hi, lo]), port6),
                };
                let port = set.and_then(|set| self.pool.allocate(set, proto, port6, random).map(|p| (set, p)));
                match port {
                    Some(p) => p,
                    None => {
                        self.hosts.remove_if_idle(h);
                        return Err(Refusal::PoolExhausted);
                    }
                }
            }
        };
        let addr4 = self.pool.address(set);
        match self.bib.insert(BibEntry::new(proto, *addr6, port6, addr4, port4, POOLED)) {
            Some(b) => {
                let host = self.hosts.get_mut(h);
                if host.bibs == 0 {
                    host.paired4 = addr4;
                }
                host.bibs += 1;
                Ok(b)
            }
            None => {
                self.pool.release(set, port4);
                self.hosts.remove_if_idle(h);
                Err(Refusal::SessionLimit)
            }
        }
    }

    /// Removes a session and, if it was the last one of a dynamic BIB entry, the entry,
    /// for `why`.
    pub(super) fn remove_session(&mut self, s: u32, why: Why) {
        let b = self.sessions.get(s).bib;
        self.remove_session_only(s, why);
        let e = self.bib.get(b);
        if e.sessions() == 0 && !e.is_static() {
            self.log_bib(EventKind::BibRemoved, b, why);
            self.remove_bib(b);
        }
    }

    /// Removes a session for `why`, keeping its BIB entry.
    fn remove_session_only(&mut self, s: u32, why: Why) {
        self.log_session(EventKind::SessionRemoved, s, why);
        let b = self.sessions.get(s).bib;
        self.sessions.remove(s);
        let e = self.bib.get_mut(b);
        e.drop_session();
        let addr6 = e.addr6;
        if let Some(h) = self.hosts.find(&addr6) {
            self.hosts.get_mut(h).sessions -= 1;
            self.hosts.remove_if_idle(h);
        }
    }

    /// Removes a BIB entry (its sessions are gone), returning its port to pool4. The
    /// caller records the event: an entry made for a session that could not be created
    /// is taken back without one.
    pub(super) fn remove_bib(&mut self, b: u32) {
        let e = *self.bib.get(b);
        let proto = match e.protocol() {
            Some(p) => p,
            None => return,
        };
        if e.flags() & POOLED != 0 {
            if let Some(set) = self.pool.find(proto, e.addr4) {
                self.pool.release(set, e.port4);
            }
        }
        self.bib.remove(b);
        if !e.is_static() {
            if let Some(h) = self.hosts.find(&e.addr6) {
                self.hosts.get_mut(h).bibs -= 1;
                self.hosts.remove_if_idle(h);
            }
        }
    }

    /// The session and BIB events waiting for the host, and whether more are recorded.
    pub fn events(&mut self) -> &mut EventLog<'a> {
        &mut self.events
    }

    /// Records the creation of session `s` of entry `b`, and of `b` itself when it is
    /// dynamic and `s` is its first session (dynamic entries exist only with sessions).
    #[inline(never)]
    fn log_created(&mut self, b: u32, s: u32, why: Why) {
        let e = self.bib.get(b);
        if !e.is_static() && e.sessions() == 1 {
            self.log_bib(EventKind::BibCreated, b, why);
        }
        self.log_session(EventKind::SessionCreated, s, why);
    }

    /// Records an event of session `s` when events are on.
    #[inline]
    fn log_session(&mut self, kind: EventKind, s: u32, why: Why) {
        if self.events.enabled() {
            let e = *self.sessions.get(s);
            let mut r = self.bib_record(kind, e.bib, why);
            r.state = e.tcp_state() as u8;
            r.remote_port = e.rport.to_le();
            r.remote4 = u32_to_v4(e.remote4);
            self.events.push(r);
        }
    }

    /// Records an event of BIB entry `b` when events are on.
    #[inline]
    fn log_bib(&mut self, kind: EventKind, b: u32, why: Why) {
        if self.events.enabled() {
            let r = self.bib_record(kind, b, why);
            self.events.push(r);
        }
    }

    /// A record of `kind` with the fields of BIB entry `b`.
    fn bib_record(&self, kind: EventKind, b: u32, why: Why) -> EventRecord {
        let e = self.bib.get(b);
        let mut r = EventRecord::new(kind, why);
        r.proto = e.proto_number();
        r.port6 = e.port6.to_le();
        r.port4 = e.port4.to_le();
        r.flags = if e.is_static() { FLAG_STATIC.to_le() } else { 0 };
        r.addr6 = e.addr6;
        r.addr4 = u32_to_v4(e.addr4);
        r
    }
}

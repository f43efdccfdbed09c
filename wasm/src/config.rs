//! Engine configuration: the TLV records the host writes (see the ABI in `lib.rs`) and
//! the validated [`Config`] the translator reads.

use core::fmt;

use crate::eamt::{EamError, Eamt};
use crate::nat64::{Filtering, Pool4Entry, Proto, StaticBib, Timeouts};
use crate::prefix::{Prefix4, Prefix6};
use crate::rfc6052;

/// Record tags. Values are little-endian; addresses are in network byte order.
pub mod tag {
    /// `u8`: 0 = SIIT (RFC 7915), 1 = stateful NAT64 (RFC 6146).
    pub const MODE: u16 = 0x01;
    /// `[16] addr, u8 prefix_len`: the RFC 6052 translation prefix (pool6).
    pub const POOL6: u16 = 0x02;
    /// `[16] v6 addr, u8 v6 len, [4] v4 addr, u8 v4 len`: one EAMT entry (RFC 7757); repeatable.
    pub const EAMT: u16 = 0x03;
    /// `[4] addr, u8 prefix_len`: RFC 6791 pool, source of ICMPv4 errors from untranslatable IPv6 sources.
    pub const RFC6791_V4: u16 = 0x04;
    /// `[16] addr, u8 prefix_len`: RFC 6791 pool for ICMPv6 errors from untranslatable IPv4 sources.
    pub const RFC6791_V6: u16 = 0x05;
    /// `u32`: lowest-ipv6-mtu, the size DF=0 IPv4 packets are fragmented to (RFC 7915 §4; default 1280).
    pub const LOWEST_IPV6_MTU: u16 = 0x06;
    /// `u32`: next-hop MTU out of the IPv6 side.
    pub const MTU_V6: u16 = 0x07;
    /// `u32`: next-hop MTU out of the IPv4 side.
    pub const MTU_V4: u16 = 0x08;
    /// `u8`: unfragmented IPv4 UDP with checksum zero: 0 = drop, 1 = compute (RFC 7915 §4.5).
    pub const UDP_ZERO_CSUM: u16 = 0x09;
    /// `[4]`: the translator's own IPv4 address (source of the errors it generates).
    pub const OWN_IPV4: u16 = 0x0A;
    /// `[16]`: the translator's own IPv6 address (source of the errors it generates).
    pub const OWN_IPV6: u16 = 0x0B;
    /// `u8`: 1 = set IPv6 traffic class to 0 instead of copying TOS (RFC 7915 §4.1 option).
    pub const ZEROIZE_TC: u16 = 0x0C;
    /// `u8`: 1 = allow non-global IPv4 under 64:ff9b::/96 (RFC 6052 §3.1 forbids it; default 0).
    pub const WKP_ALLOW_NONGLOBAL: u16 = 0x0D;
    /// `u8`: when present, the TOS of every IPv4 packet translated from IPv6 is this value
    /// instead of a copy of the Traffic Class (RFC 7915 §5.1 option).
    pub const TOS_V4: u16 = 0x0E;
    /// `u32`: ICMP errors the translator may originate per second, both families
    /// together (RFC 4443 §2.4(f)); 0 = never send any; default 1000.
    pub const ICMP_ERRORS_PER_SECOND: u16 = 0x0F;
    /// `u8 proto (0 TCP, 1 UDP, 2 ICMP), [4] prefix, u8 prefix_len, u16 first, u16 last`:
    /// one pool4 range of stateful NAT64 (RFC 6146 §3.5.1.1); repeatable.
    pub const POOL4: u16 = 0x10;
    /// `u8 proto, [16] addr6, u16 port6, [4] addr4, u16 port4`: one static BIB entry
    /// (RFC 6146 §3.1); repeatable.
    pub const STATIC_BIB: u16 = 0x11;
    /// Six `u32` lifetimes in ms: UDP, TCP_EST, TCP_TRANS, ICMP, TCP_INCOMING_SYN,
    /// FRAGMENT (RFC 6146 §4); default the RFC's.
    pub const TIMEOUTS: u16 = 0x12;
    /// `u8`: 0 = endpoint-independent filtering (default), 1 = address-dependent
    /// (RFC 6146 §3.5.1, RFC 4787 §5).
    pub const FILTERING: u16 = 0x13;
    /// `u8`: 1 = refuse TCP connections opened from the IPv4 side (RFC 6146 §3.5.2.2).
    pub const DROP_EXTERNAL_TCP: u16 = 0x14;
    /// `u32`: most sessions overall; 0 (default) = the session capacity.
    pub const MAX_SESSIONS: u16 = 0x15;
    /// `u32`: most sessions per IPv6 host; 0 (default) = no limit.
    pub const MAX_SESSIONS_PER_HOST: u16 = 0x16;
    /// `u8`: source of the ICMPv6 errors stateful NAT64 translates from ICMPv4 errors:
    /// 0 (default) = the IPv4 node that sent the error, inside pool6, as RFC 7915 §4.2
    /// translates every address (traceroute shows each hop; Jool's
    /// `source-icmpv6-errors-better`); 1 = the destination of the packet the error
    /// quotes, inside pool6: the outgoing tuple RFC 6146 §3.6 computes from it.
    pub const ICMP_ERROR_SOURCE: u16 = 0x17;
    /// `[4] addr, u8 prefix_len`: IPv4 destinations no IPv6 packet is translated to;
    /// repeatable, at most [`super::MAX_DENY_V4`].
    pub const DENY_V4: u16 = 0x18;
    /// `[16] addr, u8 prefix_len`: IPv6 destinations no IPv4 packet is translated to
    /// (the host fills in its own addresses); repeatable, at most [`super::MAX_DENY_V6`].
    pub const DENY_V6: u16 = 0x19;
    /// `u8`: 1 = record stateful NAT64 session and BIB events for the host's log
    /// (`nat64_events_take`); default 0, when an event costs one branch.
    pub const SESSION_EVENTS: u16 = 0x1B;
    /// `u8`: 1 = the host reads and writes every packet behind a virtio-net header (a TUN
    /// with `IFF_VNET_HDR` and offloads): the engine reads the input headers and carries
    /// partial checksums and GSO super-packets through translation (see [`crate::offload`]);
    /// 0 (default) = every input is an ordinary packet.
    pub const OFFLOAD: u16 = 0x1A;
    /// `u8` bit mask: translated UDP datagrams of one flow in a batch may leave as one
    /// UDP GSO super-packet (`VIRTIO_NET_HDR_GSO_UDP_L4`) when they are IPv4 (bit 0, the
    /// TUN accepted `TUN_F_USO4`) or IPv6 (bit 1, `TUN_F_USO6`); default 0, nothing
    /// coalesced. Needs OFFLOAD 1 (see the ABI in `lib.rs`, TUN offloads).
    pub const USO: u16 = 0x1C;
}

/// Most POOL4 records.
pub const MAX_POOL4: usize = 64;
/// Most STATIC_BIB records: the static share of the BIB
/// (`crate::nat64::Capacity::static_bibs`).
pub const MAX_STATIC_BIB: usize = 256;

/// Most DENY_V4 records (each one costs a compare per IPv6 packet).
pub const MAX_DENY_V4: usize = 64;
/// Most DENY_V6 records (each one costs a compare per IPv4 packet).
pub const MAX_DENY_V6: usize = 64;

/// Name of a tag, for error messages.
pub fn tag_name(t: u16) -> &'static str {
    match t {
        tag::MODE => "MODE",
        tag::POOL6 => "POOL6",
        tag::EAMT => "EAMT",
        tag::RFC6791_V4 => "RFC6791_V4",
        tag::RFC6791_V6 => "RFC6791_V6",
        tag::LOWEST_IPV6_MTU => "LOWEST_IPV6_MTU",
        tag::MTU_V6 => "MTU_V6",
        tag::MTU_V4 => "MTU_V4",
        tag::UDP_ZERO_CSUM => "UDP_ZERO_CSUM",
        tag::OWN_IPV4 => "OWN_IPV4",
        tag::OWN_IPV6 => "OWN_IPV6",
        tag::ZEROIZE_TC => "ZEROIZE_TC",
        tag::WKP_ALLOW_NONGLOBAL => "WKP_ALLOW_NONGLOBAL",
        tag::TOS_V4 => "TOS_V4",
        tag::ICMP_ERRORS_PER_SECOND => "ICMP_ERRORS_PER_SECOND",
        tag::POOL4 => "POOL4",
        tag::STATIC_BIB => "STATIC_BIB",
        tag::TIMEOUTS => "TIMEOUTS",
        tag::FILTERING => "FILTERING",
        tag::DROP_EXTERNAL_TCP => "DROP_EXTERNAL_TCP",
        tag::MAX_SESSIONS => "MAX_SESSIONS",
        tag::MAX_SESSIONS_PER_HOST => "MAX_SESSIONS_PER_HOST",
        tag::ICMP_ERROR_SOURCE => "ICMP_ERROR_SOURCE",
        tag::DENY_V4 => "DENY_V4",
        tag::DENY_V6 => "DENY_V6",
        tag::SESSION_EVENTS => "SESSION_EVENTS",
        tag::OFFLOAD => "OFFLOAD",
        tag::USO => "USO",
        _ => "unknown",
    }
}

/// USO bit: IPv4 UDP super-packets may be written.
pub const USO_V4: u8 = 1;
/// USO bit: IPv6 UDP super-packets may be written.
pub const USO_V6: u8 = 2;

/// Default lowest-ipv6-mtu: the IPv6 minimum MTU (RFC 7915 §4).
pub const DEFAULT_LOWEST_IPV6_MTU: u32 = 1280;
/// Default next-hop MTU on either side (Ethernet).
pub const DEFAULT_MTU: u32 = 1500;
/// Default rate limit of originated ICMP errors (Linux's `icmp_msgs_per_sec`).
pub const DEFAULT_ICMP_ERRORS_PER_SECOND: u32 = 1000;

/// Translation mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Stateless IP/ICMP translation (RFC 7915).
    Siit,
    /// Stateful NAT64 (RFC 6146): the IPv6 side shares pool4 through bindings and
    /// sessions; RFC 7915 translates the headers.
    Nat64,
}

/// Source of the ICMPv6 errors stateful NAT64 translates from ICMPv4 errors (see
/// [`tag::ICMP_ERROR_SOURCE`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorSource {
    /// The IPv4 node that sent the ICMPv4 error.
    Sender,
    /// The destination of the packet the error quotes (RFC 6146 §3.6).
    QuotedDestination,
}

/// What to do with an unfragmented IPv4 UDP datagram whose checksum is zero
/// (RFC 7915 §4.5: a stateless translator MUST offer both).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UdpZeroChecksum {
    /// Drop it and send ICMPv4 Destination Unreachable, Communication Prohibited.
    Drop,
    /// Compute the checksum over the translated datagram.
    Compute,
}

/// The validated configuration.
#[derive(Clone)]
pub struct Config {
    /// Translation mode.
    pub mode: Mode,
    /// RFC 6052 prefix, if any.
    pub pool6: Option<Prefix6>,
    /// RFC 7757 table.
    pub eamt: Eamt,
    /// RFC 6791 IPv4 pool.
    pub rfc6791_v4: Option<Prefix4>,
    /// RFC 6791 IPv6 pool.
    pub rfc6791_v6: Option<Prefix6>,
    /// RFC 7915 §4 lowest-ipv6-mtu.
    pub lowest_ipv6_mtu: u32,
    /// Next-hop MTU on the IPv6 side.
    pub mtu_v6: u32,
    /// Next-hop MTU on the IPv4 side.
    pub mtu_v4: u32,
    /// RFC 7915 §4.5 zero UDP checksum policy.
    pub udp_zero_checksum: UdpZeroChecksum,
    /// Source of generated ICMPv4 errors.
    pub own_ipv4: Option<[u8; 4]>,
    /// Source of generated ICMPv6 errors.
    pub own_ipv6: Option<[u8; 16]>,
    /// RFC 7915 §4.1: Traffic Class set to zero instead of copied.
    pub zeroize_tc: bool,
    /// RFC 7915 §5.1: fixed IPv4 TOS instead of the Traffic Class.
    pub tos_v4: Option<u8>,
    /// Allow non-global IPv4 under the Well-Known Prefix (breaks RFC 6052 §3.1).
    pub wkp_allow_nonglobal: bool,
    /// Originated ICMP errors per second (RFC 4443 §2.4(f)).
    pub icmp_errors_per_second: u32,
    /// NAT64: the pool4 ranges, `pool4[..pool4_len]`.
    pub pool4: [Pool4Entry; MAX_POOL4],
    /// NAT64: how many pool4 ranges there are.
    pub pool4_len: usize,
    /// NAT64: the static BIB entries, `static_bib[..static_bib_len]`.
    pub static_bib: [StaticBib; MAX_STATIC_BIB],
    /// NAT64: how many static BIB entries there are.
    pub static_bib_len: usize,
    /// NAT64: session, stored SYN and fragment lifetimes.
    pub timeouts: Timeouts,
    /// NAT64: filtering of IPv4 packets with a binding but no session.
    pub filtering: Filtering,
    /// NAT64: refuse TCP connections opened from the IPv4 side.
    pub drop_external_tcp: bool,
    /// NAT64: most sessions; 0 = the capacity.
    pub max_sessions: u32,
    /// NAT64: most sessions per IPv6 host; 0 = no limit.
    pub max_sessions_per_host: u32,
    /// NAT64: source of translated ICMPv6 errors.
    pub icmp_error_source: ErrorSource,
    /// IPv4 destinations refused, `deny_v4[..deny_v4_len]`.
    pub deny_v4: [Prefix4; MAX_DENY_V4],
    /// How many deny prefixes there are.
    pub deny_v4_len: usize,
    /// IPv6 destinations refused, `deny_v6[..deny_v6_len]`.
    pub deny_v6: [Prefix6; MAX_DENY_V6],
    /// How many IPv6 deny prefixes there are.
    pub deny_v6_len: usize,
    /// NAT64: record session and BIB events for the host.
    pub session_events: bool,
    /// Inputs come with virtio-net headers to honour (TUN offloads).
    pub offload: bool,
    /// Families ([`USO_V4`], [`USO_V6`]) whose translated UDP datagrams may be
    /// coalesced into super-packets; 0 without `offload`.
    pub uso: u8,
}

const NO_POOL4: Pool4Entry = Pool4Entry { proto: Proto::Tcp, prefix: [0; 4], prefix_len: 0, first_port: 0, last_port: 0 };
const NO_STATIC_BIB: StaticBib = StaticBib { proto: Proto::Tcp, addr6: [0; 16], port6: 0, addr4: [0; 4], port4: 0 };
const NO_TIMEOUTS: Timeouts = Timeouts { udp_ms: 0, tcp_est_ms: 0, tcp_trans_ms: 0, icmp_ms: 0, tcp_incoming_syn_ms: 0, fragment_ms: 0 };

impl Config {
    /// Every field zero: the state of an engine that was never configured, which the
    /// translator never reads. Being all zeros, a static holding it costs no bytes in
    /// the WebAssembly module's data section.
    pub const UNSET: Config = Config {
        mode: Mode::Siit,
        pool6: None,
        eamt: Eamt::EMPTY,
        rfc6791_v4: None,
        rfc6791_v6: None,
        lowest_ipv6_mtu: 0,
        mtu_v6: 0,
        mtu_v4: 0,
        udp_zero_checksum: UdpZeroChecksum::Drop,
        own_ipv4: None,
        own_ipv6: None,
        zeroize_tc: false,
        tos_v4: None,
        wkp_allow_nonglobal: false,
        icmp_errors_per_second: 0,
        pool4: [NO_POOL4; MAX_POOL4],
        pool4_len: 0,
        static_bib: [NO_STATIC_BIB; MAX_STATIC_BIB],
        static_bib_len: 0,
        timeouts: NO_TIMEOUTS,
        filtering: Filtering::EndpointIndependent,
        drop_external_tcp: false,
        max_sessions: 0,
        max_sessions_per_host: 0,
        icmp_error_source: ErrorSource::Sender,
        deny_v4: [Prefix4 { addr: [0; 4], len: 0 }; MAX_DENY_V4],
        deny_v4_len: 0,
        deny_v6: [Prefix6 { addr: [0; 16], len: 0 }; MAX_DENY_V6],
        deny_v6_len: 0,
        session_events: false,
        offload: false,
        uso: 0,
    };

    /// A boxed configuration holding the defaults (for tests and tools; the engine
    /// keeps its configurations in place).
    #[cfg(test)]
    pub fn defaults() -> std::boxed::Box<Config> {
        let mut c = std::boxed::Box::new(Config::UNSET);
        c.set_defaults();
        c
    }

    /// Resets `self` to the defaults, then applies the TLV records in `bytes`.
    /// On error `self` holds a partial configuration the caller must not use.
    pub fn parse_into(&mut self, bytes: &[u8]) -> Result<(), ConfigError> {
        self.set_defaults();
        let mut seen: u32 = 0;
        let mut at = 0usize;
        while at < bytes.len() {
            if bytes.len() - at < 4 {
                return Err(ConfigError::Truncated { at });
            }
            let t = u16::from_le_bytes([bytes[at], bytes[at + 1]]);
            let len = u16::from_le_bytes([bytes[at + 2], bytes[at + 3]]) as usize;
            let value_at = at + 4;
            if bytes.len() - value_at < len {
                return Err(ConfigError::Truncated { at });
            }
            let v = &bytes[value_at..value_at + len];
            if !matches!(t, tag::EAMT | tag::POOL4 | tag::STATIC_BIB | tag::DENY_V4 | tag::DENY_V6) && t < 32 {
                if seen & (1 << t) != 0 {
                    return Err(ConfigError::Repeated { tag: t });
                }
                seen |= 1 << t;
            }
            self.apply(t, v, at)?;
            at = value_at + len;
        }
        if self.pool6.is_none() && self.eamt.is_empty() {
            return Err(ConfigError::NothingToTranslate);
        }
        if self.mode == Mode::Nat64 {
            if self.pool6.is_none() {
                return Err(ConfigError::Value { tag: tag::MODE, why: "stateful NAT64 (1) needs a POOL6 record" });
            }
            if !self.eamt.is_empty() {
                return Err(ConfigError::Value { tag: tag::MODE, why: "EAMT records apply to SIIT (0) only" });
            }
            // A stateful NAT64 computes the checksum an unfragmented IPv4 UDP datagram
            // lacks (RFC 6146 §3.4); fragmented ones are still answered and dropped.
            self.udp_zero_checksum = UdpZeroChecksum::Compute;
        }
        // Super-packets go out behind virtio-net headers, which only a host that reads
        // and writes them (OFFLOAD 1) sends; refused rather than silently ignored, so a
        // host that asks for both learns that one is missing.
        if self.uso != 0 && !self.offload {
            return Err(ConfigError::Value { tag: tag::USO, why: "UDP super-packets need OFFLOAD 1 (packets behind virtio-net headers)" });
        }
        Ok(())
    }

    /// The NAT64 part of the configuration, for [`crate::nat64::Nat64::configure`].
    pub fn nat64(&self) -> crate::nat64::Nat64Config<'_> {
        crate::nat64::Nat64Config {
            pool4: &self.pool4[..self.pool4_len],
            static_bib: &self.static_bib[..self.static_bib_len],
            timeouts: self.timeouts,
            filtering: self.filtering,
            drop_external_tcp: self.drop_external_tcp,
            max_sessions: self.max_sessions,
            max_sessions_per_host: self.max_sessions_per_host,
        }
    }

    /// Sets the defaults, in place (no copy of the EAMT array): SIIT, no prefixes and
    /// no EAMT entry, lowest-ipv6-mtu 1280, next-hop MTUs 1500, zero UDP checksums
    /// dropped, no own addresses, no denied destinations, Traffic Class copied, RFC 6052 §3.1 enforced, at
    /// most 1000 ICMP errors originated per second; for NAT64 no pool4 and no static
    /// entries, RFC 6146 §4 lifetimes, endpoint-independent filtering, no limit below
    /// the capacity, ICMPv6 errors sourced from the IPv4 node that sent them, no
    /// session events; no virtio-net headers (offloads off), no UDP super-packets.
    pub fn set_defaults(&mut self) {
        self.mode = Mode::Siit;
        self.pool6 = None;
        self.eamt.clear();
        self.rfc6791_v4 = None;
        self.rfc6791_v6 = None;
        self.lowest_ipv6_mtu = DEFAULT_LOWEST_IPV6_MTU;
        self.mtu_v6 = DEFAULT_MTU;
        self.mtu_v4 = DEFAULT_MTU;
        self.udp_zero_checksum = UdpZeroChecksum::Drop;
        self.own_ipv4 = None;
        self.own_ipv6 = None;
        self.zeroize_tc = false;
        self.tos_v4 = None;
        self.wkp_allow_nonglobal = false;
        self.icmp_errors_per_second = DEFAULT_ICMP_ERRORS_PER_SECOND;
        self.pool4_len = 0;
        self.static_bib_len = 0;
        self.timeouts = Timeouts::default();
        self.filtering = Filtering::EndpointIndependent;
        self.drop_external_tcp = false;
        self.max_sessions = 0;
        self.max_sessions_per_host = 0;
        self.icmp_error_source = ErrorSource::Sender;
        self.deny_v4_len = 0;
        self.deny_v6_len = 0;
        self.session_events = false;
        self.offload = false;
        self.uso = 0;
    }

    fn apply(&mut self, t: u16, v: &[u8], at: usize) -> Result<(), ConfigError> {
        match t {
            tag::MODE => self.mode = if flag(t, v)? == 1 { Mode::Nat64 } else { Mode::Siit },
            tag::POOL6 => {
                let p = prefix6(t, v)?;
                if !rfc6052::valid_length(p.len) {
                    return Err(ConfigError::Value { tag: t, why: "prefix length must be 32, 40, 48, 56, 64 or 96 (RFC 6052 §2.2)" });
                }
                if p.len == 96 && p.addr[8] != 0 {
                    return Err(ConfigError::Value { tag: t, why: "bits 64 to 71 of the prefix must be zero (RFC 6052 §2.2)" });
                }
                self.pool6 = Some(p);
            }
            tag::EAMT => {
                expect_len(t, v, 22)?;
                let mut a6 = [0u8; 16];
                a6.copy_from_slice(&v[..16]);
                let p6 = Prefix6 { addr: a6, len: v[16] };
                let p4 = Prefix4 { addr: [v[17], v[18], v[19], v[20]], len: v[21] };
                let index = self.eamt.len();
                self.eamt.add(p6, p4).map_err(|e| ConfigError::Eam { index, at, err: e })?;
            }
            tag::RFC6791_V4 => {
                expect_len(t, v, 5)?;
                let p = Prefix4 { addr: [v[0], v[1], v[2], v[3]], len: v[4] };
                if p.len > 32 || !p.host_bits_zero() {
                    return Err(ConfigError::Value { tag: t, why: "the prefix length must be at most 32 with no host bits set" });
                }
                self.rfc6791_v4 = Some(p);
            }
            tag::DENY_V4 => {
                expect_len(t, v, 5)?;
                if self.deny_v4_len == MAX_DENY_V4 {
                    return Err(ConfigError::Value { tag: t, why: "more than 64 records" });
                }
                let p = Prefix4 { addr: [v[0], v[1], v[2], v[3]], len: v[4] };
                if p.len > 32 || !p.host_bits_zero() {
                    return Err(ConfigError::Value { tag: t, why: "the prefix length must be at most 32 with no host bits set" });
                }
                self.deny_v4[self.deny_v4_len] = p;
                self.deny_v4_len += 1;
            }
            tag::DENY_V6 => {
                if self.deny_v6_len == MAX_DENY_V6 {
                    return Err(ConfigError::Value { tag: t, why: "more than 64 records" });
                }
                self.deny_v6[self.deny_v6_len] = prefix6(t, v)?;
                self.deny_v6_len += 1;
            }
            tag::RFC6791_V6 => self.rfc6791_v6 = Some(prefix6(t, v)?),
            tag::LOWEST_IPV6_MTU => self.lowest_ipv6_mtu = mtu(t, v, 1280)?,
            tag::MTU_V6 => self.mtu_v6 = mtu(t, v, 1280)?,
            tag::MTU_V4 => self.mtu_v4 = mtu(t, v, 68)?,
            tag::UDP_ZERO_CSUM => {
                self.udp_zero_checksum = if flag(t, v)? == 1 { UdpZeroChecksum::Compute } else { UdpZeroChecksum::Drop }
            }
            tag::OWN_IPV4 => {
                expect_len(t, v, 4)?;
                self.own_ipv4 = Some([v[0], v[1], v[2], v[3]]);
            }
            tag::OWN_IPV6 => {
                expect_len(t, v, 16)?;
                let mut a = [0u8; 16];
                a.copy_from_slice(v);
                self.own_ipv6 = Some(a);
            }
            tag::ZEROIZE_TC => self.zeroize_tc = flag(t, v)? == 1,
            tag::WKP_ALLOW_NONGLOBAL => self.wkp_allow_nonglobal = flag(t, v)? == 1,
            tag::TOS_V4 => {
                expect_len(t, v, 1)?;
                self.tos_v4 = Some(v[0]);
            }
            tag::ICMP_ERRORS_PER_SECOND => self.icmp_errors_per_second = word(t, v)?,
            tag::POOL4 => {
                expect_len(t, v, 10)?;
                if self.pool4_len == MAX_POOL4 {
                    return Err(ConfigError::Value { tag: t, why: "more than 64 records" });
                }
                self.pool4[self.pool4_len] = Pool4Entry {
                    proto: proto(t, v[0])?,
                    prefix: [v[1], v[2], v[3], v[4]],
                    prefix_len: v[5],
                    first_port: u16::from_le_bytes([v[6], v[7]]),
                    last_port: u16::from_le_bytes([v[8], v[9]]),
                };
                self.pool4_len += 1;
            }
            tag::STATIC_BIB => {
                expect_len(t, v, 25)?;
                if self.static_bib_len == MAX_STATIC_BIB {
                    return Err(ConfigError::Value { tag: t, why: "more than 256 records" });
                }
                let mut addr6 = [0u8; 16];
                addr6.copy_from_slice(&v[1..17]);
                self.static_bib[self.static_bib_len] = StaticBib {
                    proto: proto(t, v[0])?,
                    addr6,
                    port6: u16::from_le_bytes([v[17], v[18]]),
                    addr4: [v[19], v[20], v[21], v[22]],
                    port4: u16::from_le_bytes([v[23], v[24]]),
                };
                self.static_bib_len += 1;
            }
            tag::TIMEOUTS => {
                expect_len(t, v, 24)?;
                let ms = |i: usize| u32::from_le_bytes([v[4 * i], v[4 * i + 1], v[4 * i + 2], v[4 * i + 3]]);
                self.timeouts = Timeouts {
                    udp_ms: ms(0),
                    tcp_est_ms: ms(1),
                    tcp_trans_ms: ms(2),
                    icmp_ms: ms(3),
                    tcp_incoming_syn_ms: ms(4),
                    fragment_ms: ms(5),
                };
            }
            tag::FILTERING => {
                self.filtering = if flag(t, v)? == 1 { Filtering::AddressDependent } else { Filtering::EndpointIndependent }
            }
            tag::DROP_EXTERNAL_TCP => self.drop_external_tcp = flag(t, v)? == 1,
            tag::MAX_SESSIONS => self.max_sessions = word(t, v)?,
            tag::MAX_SESSIONS_PER_HOST => self.max_sessions_per_host = word(t, v)?,
            tag::ICMP_ERROR_SOURCE => {
                self.icmp_error_source = if flag(t, v)? == 1 { ErrorSource::QuotedDestination } else { ErrorSource::Sender }
            }
            tag::SESSION_EVENTS => self.session_events = flag(t, v)? == 1,
            tag::OFFLOAD => self.offload = flag(t, v)? == 1,
            tag::USO => {
                expect_len(t, v, 1)?;
                if v[0] & !(USO_V4 | USO_V6) != 0 {
                    return Err(ConfigError::Value { tag: t, why: "the value must be a bit mask of 1 (IPv4) and 2 (IPv6)" });
                }
                self.uso = v[0];
            }
            _ => return Err(ConfigError::UnknownTag { tag: t, at }),
        }
        Ok(())
    }
}

fn expect_len(t: u16, v: &[u8], want: usize) -> Result<(), ConfigError> {
    if v.len() == want {
        Ok(())
    } else {
        Err(ConfigError::Length { tag: t, len: v.len(), want })
    }
}

fn word(t: u16, v: &[u8]) -> Result<u32, ConfigError> {
    expect_len(t, v, 4)?;
    Ok(u32::from_le_bytes([v[0], v[1], v[2], v[3]]))
}

fn proto(t: u16, v: u8) -> Result<Proto, ConfigError> {
    Proto::from_u8(v).ok_or(ConfigError::Value { tag: t, why: "the protocol must be 0 (TCP), 1 (UDP) or 2 (ICMP)" })
}

fn flag(t: u16, v: &[u8]) -> Result<u8, ConfigError> {
    expect_len(t, v, 1)?;
    if v[0] > 1 {
        return Err(ConfigError::Value { tag: t, why: "the value must be 0 or 1" });
    }
    Ok(v[0])
}

fn prefix6(t: u16, v: &[u8]) -> Result<Prefix6, ConfigError> {
    expect_len(t, v, 17)?;
    let mut addr = [0u8; 16];
    addr.copy_from_slice(&v[..16]);
    let p = Prefix6 { addr, len: v[16] };
    if p.len > 128 || !p.host_bits_zero() {
        return Err(ConfigError::Value { tag: t, why: "the prefix length must be at most 128 with no host bits set" });
    }
    Ok(p)
}

fn mtu(t: u16, v: &[u8], min: u32) -> Result<u32, ConfigError> {
    expect_len(t, v, 4)?;
    let m = u32::from_le_bytes([v[0], v[1], v[2], v[3]]);
    if m < min || m > 65535 {
        return Err(ConfigError::Mtu { tag: t, value: m, min });
    }
    Ok(m)
}

/// Why a configuration was refused; `Display` gives the one-sentence reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// A record header or value runs past the end of the buffer.
    Truncated {
        /// Byte offset of the record.
        at: usize,
    },
    /// A tag this engine does not know.
    UnknownTag {
        /// The tag.
        tag: u16,
        /// Byte offset of the record.
        at: usize,
    },
    /// A value of the wrong size.
    Length {
        /// The tag.
        tag: u16,
        /// Its length.
        len: usize,
        /// The expected length.
        want: usize,
    },
    /// A value out of range.
    Value {
        /// The tag.
        tag: u16,
        /// What is wrong, as a sentence tail.
        why: &'static str,
    },
    /// An MTU out of range.
    Mtu {
        /// The tag.
        tag: u16,
        /// The value given.
        value: u32,
        /// The smallest value allowed.
        min: u32,
    },
    /// A non-repeatable tag given twice.
    Repeated {
        /// The tag.
        tag: u16,
    },
    /// An EAMT record the table refused.
    Eam {
        /// Zero-based index of the EAMT record.
        index: usize,
        /// Byte offset of the record.
        at: usize,
        /// Why.
        err: EamError,
    },
    /// Neither POOL6 nor any EAMT record: no address could be translated.
    NothingToTranslate,
    /// The configuration is longer than the config buffer.
    TooLong {
        /// Length the host asked for.
        len: usize,
        /// Capacity of the buffer.
        capacity: usize,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ConfigError::Truncated { at } => write!(f, "config record at byte {} runs past the end of the buffer", at),
            ConfigError::UnknownTag { tag, at } => write!(f, "config record at byte {} has unknown tag 0x{:02x}", at, tag),
            ConfigError::Length { tag, len, want } => {
                write!(f, "config tag {} (0x{:02x}) has a {}-byte value, expected {} bytes", tag_name(tag), tag, len, want)
            }
            ConfigError::Value { tag, why } => write!(f, "config tag {} (0x{:02x}): {}", tag_name(tag), tag, why),
            ConfigError::Mtu { tag, value, min } => {
                write!(f, "config tag {} (0x{:02x}) is {}, expected {} to 65535", tag_name(tag), tag, value, min)
            }
            ConfigError::Repeated { tag } => write!(f, "config tag {} (0x{:02x}) appears more than once", tag_name(tag), tag),
            ConfigError::Eam { index, at, err } => {
                let why = match err {
                    EamError::Full => "the table is full",
                    EamError::SuffixTooLong => "the IPv4 suffix is longer than the IPv6 suffix (RFC 7757 §3.2)",
                    EamError::HostBits => "a prefix has bits set past its length",
                    EamError::Duplicate => "its IPv6 or IPv4 prefix is already in the table",
                    EamError::Length => "a prefix length is out of range",
                };
                write!(f, "config EAMT record #{} at byte {}: {}", index, at, why)
            }
            ConfigError::NothingToTranslate => write!(f, "config has neither a POOL6 nor an EAMT record, so nothing can be translated"),
            ConfigError::TooLong { len, capacity } => {
                write!(f, "config length {} exceeds the config buffer capacity of {} bytes", len, capacity)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::ToString;
    use std::vec::Vec;

    fn rec(out: &mut Vec<u8>, t: u16, v: &[u8]) {
        out.extend_from_slice(&t.to_le_bytes());
        out.extend_from_slice(&(v.len() as u16).to_le_bytes());
        out.extend_from_slice(v);
    }

    fn pool6_40() -> [u8; 17] {
        let mut v = [0u8; 17];
        v[..5].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0x01]);
        v[16] = 40;
        v
    }

    fn parse(bytes: &[u8]) -> Result<std::boxed::Box<Config>, ConfigError> {
        let mut c = Config::defaults();
        c.parse_into(bytes).map(|_| c)
    }

    #[test]
    fn full_configuration() {
        let mut b = Vec::new();
        rec(&mut b, tag::MODE, &[0]);
        rec(&mut b, tag::POOL6, &pool6_40());
        let mut eam = [0u8; 22];
        eam[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        eam[5] = 3;
        eam[16] = 120;
        eam[17..21].copy_from_slice(&[1, 0, 0, 0]);
        eam[21] = 24;
        rec(&mut b, tag::EAMT, &eam);
        rec(&mut b, tag::RFC6791_V4, &[203, 0, 113, 8, 32]);
        rec(&mut b, tag::LOWEST_IPV6_MTU, &1402u32.to_le_bytes());
        rec(&mut b, tag::MTU_V4, &1400u32.to_le_bytes());
        rec(&mut b, tag::UDP_ZERO_CSUM, &[1]);
        rec(&mut b, tag::OWN_IPV4, &[198, 51, 100, 1]);
        rec(&mut b, tag::ZEROIZE_TC, &[1]);
        rec(&mut b, tag::TOS_V4, &[0x10]);
        rec(&mut b, tag::ICMP_ERRORS_PER_SECOND, &7u32.to_le_bytes());
        rec(&mut b, tag::OFFLOAD, &[1]);
        let c = parse(&b).unwrap();
        assert_eq!(c.pool6.unwrap().len, 40);
        assert_eq!(c.eamt.len(), 1);
        assert_eq!(c.eamt.to_v6(&[1, 0, 0, 7]).unwrap()[15], 7);
        assert_eq!(c.rfc6791_v4.unwrap().addr, [203, 0, 113, 8]);
        assert_eq!(c.lowest_ipv6_mtu, 1402);
        assert_eq!(c.mtu_v4, 1400);
        assert_eq!(c.mtu_v6, 1500);
        assert_eq!(c.udp_zero_checksum, UdpZeroChecksum::Compute);
        assert_eq!(c.own_ipv4, Some([198, 51, 100, 1]));
        assert!(c.zeroize_tc);
        assert_eq!(c.tos_v4, Some(0x10));
        assert_eq!(c.icmp_errors_per_second, 7);
        assert!(c.offload);
        let mut b = Vec::new();
        rec(&mut b, tag::POOL6, &pool6_40());
        let c = parse(&b).unwrap();
        assert_eq!(c.icmp_errors_per_second, DEFAULT_ICMP_ERRORS_PER_SECOND);
        assert!(!c.offload, "offloads are off unless the host asks");
        rec(&mut b, tag::OFFLOAD, &[2]);
        assert_eq!(parse(&b).err().unwrap().to_string(), "config tag OFFLOAD (0x1a): the value must be 0 or 1");
    }

    #[test]
    fn uso_is_a_family_mask_that_needs_offload() {
        let mut b = Vec::new();
        rec(&mut b, tag::POOL6, &pool6_40());
        assert_eq!(parse(&b).unwrap().uso, 0, "nothing coalesced unless the host asks");
        let mut with_offload = b.clone();
        rec(&mut with_offload, tag::OFFLOAD, &[1]);
        for mask in 0..=3u8 {
            let mut r = with_offload.clone();
            rec(&mut r, tag::USO, &[mask]);
            assert_eq!(parse(&r).unwrap().uso, mask);
        }
        let mut r = with_offload.clone();
        rec(&mut r, tag::USO, &[4]);
        assert_eq!(parse(&r).err().unwrap().to_string(), "config tag USO (0x1c): the value must be a bit mask of 1 (IPv4) and 2 (IPv6)");
        let mut r = b.clone();
        rec(&mut r, tag::USO, &[USO_V6]);
        assert_eq!(
            parse(&r).err().unwrap().to_string(),
            "config tag USO (0x1c): UDP super-packets need OFFLOAD 1 (packets behind virtio-net headers)"
        );
        rec(&mut r, tag::OFFLOAD, &[0]);
        assert!(parse(&r).is_err(), "OFFLOAD 0 said outright is refused too");
        let mut r = b.clone();
        rec(&mut r, tag::USO, &[0]);
        assert_eq!(parse(&r).unwrap().uso, 0, "a mask of 0 needs nothing");
    }

    #[test]
    fn deny_v4_repeats_and_refuses_host_bits() {
        let mut b = Vec::new();
        rec(&mut b, tag::POOL6, &pool6_40());
        rec(&mut b, tag::DENY_V4, &[198, 51, 100, 0, 28]);
        rec(&mut b, tag::DENY_V4, &[10, 0, 0, 0, 8]);
        let c = parse(&b).unwrap();
        assert_eq!(&c.deny_v4[..c.deny_v4_len], &[Prefix4 { addr: [198, 51, 100, 0], len: 28 }, Prefix4 { addr: [10, 0, 0, 0], len: 8 }]);
        rec(&mut b, tag::DENY_V4, &[10, 0, 0, 1, 8]);
        assert_eq!(
            parse(&b).err().unwrap().to_string(),
            "config tag DENY_V4 (0x18): the prefix length must be at most 32 with no host bits set"
        );
    }

    #[test]
    fn errors_name_the_tag_and_the_problem() {
        let mut b = Vec::new();
        rec(&mut b, tag::POOL6, &pool6_40()[..16]);
        assert_eq!(
            parse(&b).err().unwrap().to_string(),
            "config tag POOL6 (0x02) has a 16-byte value, expected 17 bytes"
        );

        let mut b = Vec::new();
        let mut p = pool6_40();
        p[16] = 44;
        rec(&mut b, tag::POOL6, &p);
        assert!(parse(&b).err().unwrap().to_string().contains("RFC 6052"));

        let mut b = Vec::new();
        rec(&mut b, tag::POOL6, &pool6_40());
        rec(&mut b, 0x7f, &[]);
        assert_eq!(parse(&b).err().unwrap().to_string(), "config record at byte 21 has unknown tag 0x7f");

        let mut b = Vec::new();
        rec(&mut b, tag::POOL6, &pool6_40());
        rec(&mut b, tag::MTU_V6, &1000u32.to_le_bytes());
        assert_eq!(parse(&b).err().unwrap().to_string(), "config tag MTU_V6 (0x07) is 1000, expected 1280 to 65535");

        let mut b = Vec::new();
        rec(&mut b, tag::POOL6, &pool6_40());
        rec(&mut b, tag::POOL6, &pool6_40());
        assert_eq!(parse(&b).err().unwrap(), ConfigError::Repeated { tag: tag::POOL6 });

        assert_eq!(parse(&[]).err().unwrap(), ConfigError::NothingToTranslate);
        assert_eq!(parse(&[2, 0, 17]).err().unwrap(), ConfigError::Truncated { at: 0 });

        let mut eam = [0u8; 22];
        eam[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        eam[16] = 128;
        eam[17..21].copy_from_slice(&[192, 0, 2, 1]);
        eam[21] = 32;
        let mut b = Vec::new();
        rec(&mut b, tag::MODE, &[1]);
        rec(&mut b, tag::EAMT, &eam);
        assert!(parse(&b).err().unwrap().to_string().contains("stateful NAT64 (1) needs a POOL6 record"));
        rec(&mut b, tag::POOL6, &pool6_40());
        assert!(parse(&b).err().unwrap().to_string().contains("EAMT records apply to SIIT (0) only"));
    }

    #[test]
    fn nat64_records() {
        let mut b = Vec::new();
        rec(&mut b, tag::MODE, &[1]);
        rec(&mut b, tag::POOL6, &pool6_40());
        rec(&mut b, tag::POOL4, &[1, 192, 0, 2, 0, 31, 0x00, 0x04, 0xff, 0xff]);
        rec(&mut b, tag::POOL4, &[2, 192, 0, 2, 0, 31, 0, 0, 0xff, 0xff]);
        let mut st = [0u8; 25];
        st[0] = 0;
        st[1..17].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
        st[17..19].copy_from_slice(&80u16.to_le_bytes());
        st[19..23].copy_from_slice(&[192, 0, 2, 1]);
        st[23..25].copy_from_slice(&8080u16.to_le_bytes());
        rec(&mut b, tag::STATIC_BIB, &st);
        let ms: Vec<u8> = [120_000u32, 7_440_000, 240_000, 60_000, 6_000, 2_000].iter().flat_map(|m| m.to_le_bytes()).collect();
        rec(&mut b, tag::TIMEOUTS, &ms);
        rec(&mut b, tag::FILTERING, &[1]);
        rec(&mut b, tag::DROP_EXTERNAL_TCP, &[1]);
        rec(&mut b, tag::MAX_SESSIONS, &1000u32.to_le_bytes());
        rec(&mut b, tag::MAX_SESSIONS_PER_HOST, &10u32.to_le_bytes());
        rec(&mut b, tag::ICMP_ERROR_SOURCE, &[1]);
        assert!(!parse(&b).unwrap().session_events, "off unless asked for");
        rec(&mut b, tag::SESSION_EVENTS, &[1]);
        let c = parse(&b).unwrap();
        assert!(c.session_events);
        assert_eq!(c.mode, Mode::Nat64);
        let n = c.nat64();
        assert_eq!(n.pool4.len(), 2);
        assert_eq!((n.pool4[0].proto, n.pool4[0].prefix_len, n.pool4[0].first_port, n.pool4[0].last_port), (Proto::Udp, 31, 1024, 65535));
        assert_eq!((n.static_bib[0].port6, n.static_bib[0].addr4, n.static_bib[0].port4), (80, [192, 0, 2, 1], 8080));
        assert_eq!(n.timeouts.udp_ms, 120_000);
        assert_eq!((n.filtering, n.drop_external_tcp, n.max_sessions, n.max_sessions_per_host), (Filtering::AddressDependent, true, 1000, 10));
        assert_eq!(c.icmp_error_source, ErrorSource::QuotedDestination);
        assert_eq!(c.udp_zero_checksum, UdpZeroChecksum::Compute, "RFC 6146 §3.4");

        let mut bad = b.clone();
        rec(&mut bad, tag::POOL4, &[3, 192, 0, 2, 0, 31, 0, 0, 0xff, 0xff]);
        assert!(parse(&bad).err().unwrap().to_string().contains("POOL4 (0x10): the protocol must be 0 (TCP), 1 (UDP) or 2 (ICMP)"));
        let mut bad = b.clone();
        bad.truncate(bad.len() - 5);
        rec(&mut bad, tag::SESSION_EVENTS, &[2]);
        assert_eq!(parse(&bad).err().unwrap().to_string(), "config tag SESSION_EVENTS (0x1b): the value must be 0 or 1");
        let mut bad = b.clone();
        rec(&mut bad, tag::TIMEOUTS, &ms);
        assert_eq!(parse(&bad).err().unwrap(), ConfigError::Repeated { tag: tag::TIMEOUTS });
        let mut many = Vec::new();
        rec(&mut many, tag::POOL6, &pool6_40());
        for _ in 0..=MAX_POOL4 {
            rec(&mut many, tag::POOL4, &[1, 192, 0, 2, 0, 31, 0, 0, 0xff, 0xff]);
        }
        assert!(parse(&many).err().unwrap().to_string().contains("more than 64 records"));
    }

    #[test]
    fn wkp_u_octet_must_be_zero() {
        let mut v = [0u8; 17];
        v[..4].copy_from_slice(&[0, 0x64, 0xff, 0x9b]);
        v[16] = 96;
        let mut b = Vec::new();
        rec(&mut b, tag::POOL6, &v);
        assert!(parse(&b).is_ok());
        v[8] = 1;
        let mut b = Vec::new();
        rec(&mut b, tag::POOL6, &v);
        assert!(parse(&b).err().unwrap().to_string().contains("64 to 71"));
    }

    #[test]
    fn bad_eam_reports_its_index() {
        let mut b = Vec::new();
        let mut eam = [0u8; 22];
        eam[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        eam[16] = 120;
        eam[17..21].copy_from_slice(&[1, 0, 0, 0]);
        eam[21] = 16;
        rec(&mut b, tag::EAMT, &eam);
        assert!(parse(&b).err().unwrap().to_string().starts_with("config EAMT record #0 at byte 0: the IPv4 suffix"));
    }
}

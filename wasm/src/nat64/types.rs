//! Values shared by the NAT64 tables: protocols, flows, results and refusals.

use super::tcp::{TcpFlags, TcpState};

/// The transport protocols stateful NAT64 keeps state for (RFC 6146 §3). ICMP queries
/// use their identifier as the "port" on both sides (RFC 6146 §3.5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Proto {
    /// TCP, with the RFC 6146 §3.5.2 state machine.
    Tcp = 0,
    /// UDP (RFC 6146 §3.5.1).
    Udp = 1,
    /// ICMP and ICMPv6 queries (RFC 6146 §3.5.3).
    Icmp = 2,
}

impl Proto {
    /// All protocols, in table order.
    pub const ALL: [Proto; 3] = [Proto::Tcp, Proto::Udp, Proto::Icmp];

    /// The protocol numbered `v` in this module's records (0 TCP, 1 UDP, 2 ICMP).
    pub fn from_u8(v: u8) -> Option<Proto> {
        match v {
            0 => Some(Proto::Tcp),
            1 => Some(Proto::Udp),
            2 => Some(Proto::Icmp),
            _ => None,
        }
    }

    /// Position in per-protocol arrays.
    #[inline]
    pub fn index(self) -> usize {
        self as usize
    }
}

/// An IPv4 address in network byte order.
pub type Addr4 = [u8; 4];
/// An IPv6 address in network byte order.
pub type Addr6 = [u8; 16];

/// An IPv6 packet leaving the IPv6 network (RFC 6146 "incoming IPv6 packet"), already
/// reduced to its 5-tuple: the packet path has translated the destination out of pool6
/// (RFC 6052) into `dst4`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow6 {
    /// Protocol.
    pub proto: Proto,
    /// Source address X'.
    pub src6: Addr6,
    /// Source port x' (ICMP: the query identifier).
    pub sport: u16,
    /// Destination address Y, extracted from the pool6 address Y'.
    pub dst4: Addr4,
    /// Destination port y (ignored for ICMP).
    pub dport: u16,
    /// TCP flags (ignored for UDP and ICMP).
    pub flags: TcpFlags,
}

/// An IPv4 packet entering towards the IPv6 network, reduced to its 5-tuple.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow4 {
    /// Protocol.
    pub proto: Proto,
    /// Source address Y (the remote IPv4 host).
    pub src4: Addr4,
    /// Source port y (ignored for ICMP).
    pub sport: u16,
    /// Destination address X, a pool4 address.
    pub dst4: Addr4,
    /// Destination port x (ICMP: the query identifier).
    pub dport: u16,
    /// TCP flags (ignored for UDP and ICMP).
    pub flags: TcpFlags,
}

/// What the packet path needs to rewrite a packet, from a BIB entry and (if any) its
/// session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// Protocol.
    pub proto: Proto,
    /// The IPv6 host's address X'.
    pub addr6: Addr6,
    /// The IPv6 host's port x' (ICMP: identifier).
    pub port6: u16,
    /// The pool4 address X the host is seen as.
    pub addr4: Addr4,
    /// The pool4 port x (ICMP: identifier).
    pub port4: u16,
    /// The remote IPv4 address Y.
    pub remote4: Addr4,
    /// The remote port y (0 for ICMP).
    pub remote_port: u16,
    /// The session entry, or `None` when a TCP packet without session was translated
    /// through its BIB entry alone (RFC 6146 §3.5.2.2, CLOSED state, non-SYN packet).
    pub session: Option<u32>,
    /// TCP state after this packet (`Closed` when there is no session, and for UDP and
    /// ICMP, which have no state machine).
    pub state: TcpState,
}

/// Why the tables refused a packet or an operation. Each value is distinct so the packet
/// path can count it and answer as the RFC says; a refusal never changes existing state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// IPv4 packet whose destination transport address has no BIB entry (RFC 6146
    /// §3.5.1, §3.5.2.2, §3.5.3). UDP: ICMP port unreachable; TCP SYN: may be stored
    /// with [`super::Nat64::store_syn`]; otherwise drop.
    NoBinding,
    /// Address-dependent filtering blocked an IPv4 packet: no session of the BIB entry
    /// has this remote address (RFC 6146 §3.5.1). Drop, optionally with ICMP type 3
    /// code 13.
    Filtered,
    /// An externally initiated TCP connection, refused by policy (RFC 6146 §3.5.2.2).
    ExternalTcpDenied,
    /// A TCP packet that is not a SYN and has neither session nor BIB entry (RFC 6146
    /// §3.5.2.2, CLOSED state): silently drop.
    NotSyn,
    /// The session table reached its global maximum.
    SessionLimit,
    /// The IPv6 host reached its maximum number of sessions.
    HostSessionLimit,
    /// No IPv4 transport address could be allocated: the host's paired address has no
    /// free port in the needed range (RFC 6146 §3.5.1.1: drop, ICMPv6 type 1 code 3).
    PoolExhausted,
    /// pool4 has no address for the protocol.
    NoPool4,
    /// The stored-SYN queue is full: answer as if simultaneous open were not supported
    /// (ICMP port unreachable, RFC 6146 §3.5.2.2).
    StoredSynFull,
    /// A SYN for the same connection is already stored: drop this copy.
    StoredSynDuplicate,
    /// The fragment table is full.
    FragmentTableFull,
    /// The hold buffer for out-of-order fragments is full.
    FragmentHoldFull,
    /// An out-of-order fragment is larger than a hold slot.
    FragmentTooBig,
}

impl Refusal {
    /// Every refusal, for counter tables.
    pub const ALL: [Refusal; 13] = [
        Refusal::NoBinding,
        Refusal::Filtered,
        Refusal::ExternalTcpDenied,
        Refusal::NotSyn,
        Refusal::SessionLimit,
        Refusal::HostSessionLimit,
        Refusal::PoolExhausted,
        Refusal::NoPool4,
        Refusal::StoredSynFull,
        Refusal::StoredSynDuplicate,
        Refusal::FragmentTableFull,
        Refusal::FragmentHoldFull,
        Refusal::FragmentTooBig,
    ];

    /// A stable snake_case name: the engine counts each refused packet in the counter
    /// `drop_<name>`.
    pub fn name(self) -> &'static str {
        match self {
            Refusal::NoBinding => "no_binding",
            Refusal::Filtered => "filtered",
            Refusal::ExternalTcpDenied => "external_tcp_denied",
            Refusal::NotSyn => "tcp_not_syn",
            Refusal::SessionLimit => "session_limit",
            Refusal::HostSessionLimit => "host_session_limit",
            Refusal::PoolExhausted => "pool4_exhausted",
            Refusal::NoPool4 => "no_pool4",
            Refusal::StoredSynFull => "stored_syn_full",
            Refusal::StoredSynDuplicate => "stored_syn_duplicate",
            Refusal::FragmentTableFull => "fragment_table_full",
            Refusal::FragmentHoldFull => "fragment_hold_full",
            Refusal::FragmentTooBig => "fragment_too_big",
        }
    }
}

/// An IPv4 address as a host-order integer (for prefix arithmetic and compact records).
#[inline]
pub fn v4_to_u32(a: Addr4) -> u32 {
    u32::from_be_bytes(a)
}

/// The inverse of [`v4_to_u32`].
#[inline]
pub fn u32_to_v4(a: u32) -> Addr4 {
    a.to_be_bytes()
}

/// An IPv6 address as two 64-bit words (for hashing).
#[inline]
pub fn v6_words(a: &Addr6) -> [u64; 2] {
    let mut hi = [0u8; 8];
    let mut lo = [0u8; 8];
    hi.copy_from_slice(&a[..8]);
    lo.copy_from_slice(&a[8..]);
    [u64::from_be_bytes(hi), u64::from_be_bytes(lo)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_names_are_distinct() {
        let mut names: Vec<&str> = Refusal::ALL.iter().map(|r| r.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Refusal::ALL.len());
    }

    #[test]
    fn proto_numbers_round_trip() {
        for p in Proto::ALL {
            assert_eq!(Proto::from_u8(p as u8), Some(p));
        }
        assert_eq!(Proto::from_u8(3), None);
    }
}

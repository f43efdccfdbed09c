//! The runtime configuration of the stateful tables and its validation errors.

use core::fmt;

use super::pool4::{mask, Pool4Entry, Pool4Error, Pool4Problem};
use super::timeouts::{TimeoutError, Timeouts};
use super::types::{v4_to_u32, Addr4, Addr6, Proto};

/// Filtering of IPv4 packets that have a BIB entry but no session (RFC 6146 §3.5.1,
/// RFC 4787 §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filtering {
    /// Endpoint-independent filtering: any remote may use a binding.
    EndpointIndependent,
    /// Address-dependent filtering: only remote addresses the IPv6 host has a session
    /// with (any port) may use its binding.
    AddressDependent,
}

/// A static BIB entry (RFC 6146 §3.1): (X', x') is always reachable as (X, x).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StaticBib {
    /// Protocol.
    pub proto: Proto,
    /// X'.
    pub addr6: Addr6,
    /// x' (ICMP: identifier).
    pub port6: u16,
    /// X, which must be a pool4 address for `proto`.
    pub addr4: Addr4,
    /// x (ICMP: identifier).
    pub port4: u16,
}

/// Everything the host may change at run time. A successful
/// [`super::Nat64::configure`] replaces all of it.
#[derive(Clone, Copy, Debug)]
pub struct Nat64Config<'c> {
    /// pool4.
    pub pool4: &'c [Pool4Entry],
    /// Static BIB entries.
    pub static_bib: &'c [StaticBib],
    /// Lifetimes.
    pub timeouts: Timeouts,
    /// Filtering behaviour.
    pub filtering: Filtering,
    /// Refuse every TCP connection initiated from the IPv4 side (RFC 6146 §3.5.2.2
    /// "security policy"), static BIB entries included.
    pub drop_external_tcp: bool,
    /// Global session limit; 0 means the session capacity.
    pub max_sessions: u32,
    /// Session limit per IPv6 host (/128); 0 means no per-host limit.
    pub max_sessions_per_host: u32,
}

impl<'c> Nat64Config<'c> {
    /// The configuration a new engine starts with: empty pool4, no static entries,
    /// RFC 6146 §4 lifetimes, endpoint-independent filtering, no limits beyond capacity.
    pub fn initial() -> Nat64Config<'static> {
        Nat64Config {
            pool4: &[],
            static_bib: &[],
            timeouts: Timeouts::default(),
            filtering: Filtering::EndpointIndependent,
            drop_external_tcp: false,
            max_sessions: 0,
            max_sessions_per_host: 0,
        }
    }
}

/// What is wrong with a static BIB entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaticBibProblem {
    /// X is not a pool4 address for the protocol.
    NotInPool4,
    /// Port 0 for TCP or UDP.
    PortZero,
    /// Another static entry has the same (protocol, X', x').
    DuplicateV6,
    /// Another static entry has the same (protocol, X, x).
    DuplicateV4,
    /// More static entries than the static capacity.
    TooMany,
}

/// Why a configuration was refused; the previous configuration stays in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// A lifetime is out of bounds.
    Timeout(TimeoutError),
    /// A pool4 entry is unusable.
    Pool4(Pool4Error),
    /// A static BIB entry is unusable.
    StaticBib {
        /// Position in the list.
        entry: usize,
        /// What is wrong.
        problem: StaticBibProblem,
    },
    /// `max_sessions` is above the session capacity given at init.
    MaxSessions {
        /// The capacity.
        capacity: u32,
    },
}

impl ConfigError {
    /// The configuration field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            ConfigError::Timeout(t) => t.field,
            ConfigError::Pool4(_) => "pool4",
            ConfigError::StaticBib { .. } => "static_bib",
            ConfigError::MaxSessions { .. } => "max_sessions",
        }
    }

    /// The position of the faulty entry, for list fields.
    pub fn entry(&self) -> Option<usize> {
        match self {
            ConfigError::Pool4(p) => Some(p.entry),
            ConfigError::StaticBib { entry, .. } => Some(*entry),
            _ => None,
        }
    }

    /// What is wrong, as a sentence fragment to format.
    pub fn reason(&self) -> Reason {
        Reason(*self)
    }
}

/// [`ConfigError::reason`]: written with `{}`, without allocating.
pub struct Reason(ConfigError);

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self.0 {
            ConfigError::Timeout(t) => t.reason,
            ConfigError::Pool4(p) => match p.problem {
                Pool4Problem::PrefixLength => "has a prefix length above 32",
                Pool4Problem::HostBits => "has address bits set after the prefix length",
                Pool4Problem::PortRange => "has a first port above its last port",
                // The tables are laid out once, so only a restart makes room: the host
                // reports this on a reload that grows pool4.
                Pool4Problem::TooManyAddresses { pairs, capacity } => {
                    return write!(
                        f,
                        "brings pool4 to {} (protocol, address) pairs, beyond the {} laid out at start: a larger pool4 needs a restart",
                        pairs, capacity
                    );
                }
            },
            ConfigError::StaticBib { problem, .. } => match problem {
                StaticBibProblem::NotInPool4 => "maps to an IPv4 address that is not in pool4 for its protocol",
                StaticBibProblem::PortZero => "uses port 0",
                StaticBibProblem::DuplicateV6 => "repeats the IPv6 transport address of an earlier entry",
                StaticBibProblem::DuplicateV4 => "repeats the IPv4 transport address of an earlier entry",
                StaticBibProblem::TooMany => "is beyond the static BIB capacity",
            },
            ConfigError::MaxSessions { .. } => "is above the session capacity",
        };
        f.write_str(text)
    }
}

/// Checks the static entries against each other and against the new pool4 (already
/// validated).
pub fn validate_static_bib(entries: &[StaticBib], pool4: &[Pool4Entry], capacity: u32) -> Result<(), ConfigError> {
    let fail = |entry, problem| Err(ConfigError::StaticBib { entry, problem });
    for (i, s) in entries.iter().enumerate() {
        if i >= capacity as usize {
            return fail(i, StaticBibProblem::TooMany);
        }
        if s.proto != Proto::Icmp && (s.port4 == 0 || s.port6 == 0) {
            return fail(i, StaticBibProblem::PortZero);
        }
        let a = v4_to_u32(s.addr4);
        if !pool4
            .iter()
            .any(|p| p.proto == s.proto && a & mask(p.prefix_len) == v4_to_u32(p.prefix))
        {
            return fail(i, StaticBibProblem::NotInPool4);
        }
        for o in &entries[..i] {
            if o.proto == s.proto && o.addr6 == s.addr6 && o.port6 == s.port6 {
                return fail(i, StaticBibProblem::DuplicateV6);
            }
            if o.proto == s.proto && o.addr4 == s.addr4 && o.port4 == s.port4 {
                return fail(i, StaticBibProblem::DuplicateV4);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: Addr6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5];

    fn pool() -> [Pool4Entry; 1] {
        [Pool4Entry {
            proto: Proto::Tcp,
            prefix: [203, 0, 113, 0],
            prefix_len: 30,
            first_port: 1,
            last_port: 65535,
        }]
    }

    fn st(addr6_last: u8, port6: u16, addr4: Addr4, port4: u16) -> StaticBib {
        let mut addr6 = HOST;
        addr6[15] = addr6_last;
        StaticBib {
            proto: Proto::Tcp,
            addr6,
            port6,
            addr4,
            port4,
        }
    }

    #[test]
    fn static_entries_are_checked_and_named() {
        let good = st(1, 80, [203, 0, 113, 1], 80);
        let cases = [
            (st(2, 80, [203, 0, 113, 4], 81), StaticBibProblem::NotInPool4),
            (st(2, 80, [203, 0, 113, 1], 0), StaticBibProblem::PortZero),
            (st(1, 80, [203, 0, 113, 2], 81), StaticBibProblem::DuplicateV6),
            (st(2, 80, [203, 0, 113, 1], 80), StaticBibProblem::DuplicateV4),
        ];
        for (bad, problem) in cases {
            assert_eq!(
                validate_static_bib(&[good, bad], &pool(), 8),
                Err(ConfigError::StaticBib { entry: 1, problem })
            );
        }
        assert_eq!(
            validate_static_bib(&[good, st(2, 81, [203, 0, 113, 2], 81)], &pool(), 1),
            Err(ConfigError::StaticBib { entry: 1, problem: StaticBibProblem::TooMany })
        );
        assert_eq!(validate_static_bib(&[good], &pool(), 1), Ok(()));
    }

    #[test]
    fn every_error_has_a_field_and_a_reason() {
        let errors = [
            ConfigError::Timeout(TimeoutError { field: "udp_ms", min_ms: 120_000, reason: "r" }),
            ConfigError::Pool4(Pool4Error { entry: 3, problem: Pool4Problem::HostBits }),
            ConfigError::StaticBib { entry: 2, problem: StaticBibProblem::TooMany },
            ConfigError::MaxSessions { capacity: 10 },
        ];
        for e in errors {
            assert!(!e.field().is_empty() && !e.reason().to_string().is_empty());
        }
        let grown = ConfigError::Pool4(Pool4Error { entry: 1, problem: Pool4Problem::TooManyAddresses { pairs: 1024, capacity: 768 } });
        assert_eq!(
            grown.reason().to_string(),
            "brings pool4 to 1024 (protocol, address) pairs, beyond the 768 laid out at start: a larger pool4 needs a restart"
        );
        assert_eq!(errors[0].field(), "udp_ms");
        assert_eq!(errors[1].entry(), Some(3));
        assert_eq!(errors[3].entry(), None);
    }
}

//! Timeout classes and their lifetimes (RFC 6146 §4), and how the engine compares times.
//!
//! Times are the host's monotonic milliseconds (`now_ms`). Entries store the low 32 bits
//! of the time of their last activity and compare with wrapping arithmetic, which is
//! exact while an entry's age stays below 2^31 ms (24.8 days); lifetimes are therefore
//! capped at [`MAX_TIMEOUT_MS`] and the host must run expiry at least that often (it runs
//! it every tick).

/// UDP_MIN: a UDP session lifetime MUST NOT be shorter (RFC 6146 §4).
pub const UDP_MIN_MS: u32 = 2 * 60 * 1000;
/// UDP_DEFAULT (RFC 6146 §4).
pub const UDP_DEFAULT_MS: u32 = 5 * 60 * 1000;
/// TCP_EST: established connection idle timeout, 2 h 4 min (RFC 6146 §4, RFC 5382).
pub const TCP_EST_MS: u32 = (2 * 60 + 4) * 60 * 1000;
/// TCP_TRANS: transitory connection idle timeout (RFC 6146 §4).
pub const TCP_TRANS_MS: u32 = 4 * 60 * 1000;
/// TCP_INCOMING_SYN: how long an unsolicited IPv4 SYN is held (RFC 6146 §4, §3.5.2.2).
pub const TCP_INCOMING_SYN_MS: u32 = 6 * 1000;
/// FRAGMENT_MIN: the minimum time fragments are held (RFC 6146 §4).
pub const FRAGMENT_MIN_MS: u32 = 2 * 1000;
/// ICMP_DEFAULT (RFC 6146 §4).
pub const ICMP_DEFAULT_MS: u32 = 60 * 1000;
/// The longest lifetime the wrapping 32-bit clock can measure safely.
pub const MAX_TIMEOUT_MS: u32 = (1 << 31) - 1;
/// Activity moves a session to the tail of its expiry queue at most once per this
/// many milliseconds (a change of timeout class moves it at once). A packet of a busy
/// flow then only writes its session's time stamp, and no queue neighbours of a random
/// session are touched per packet; the price is that a session may outlive its lifetime
/// by less than this (never fall short of it): the host's timer tick is as coarse.
pub const RELINK_MS: u32 = 1000;

// The lag of `last` behind the queue order is kept in 11 bits (`sessions`).
const _: () = assert!(RELINK_MS < 2048);

/// The timeout class of a session: which queue it waits in and which lifetime applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum TimeoutClass {
    /// UDP sessions.
    Udp = 0,
    /// TCP sessions in ESTABLISHED, V4 FIN RCV or V6 FIN RCV.
    TcpEst = 1,
    /// TCP sessions in V4 INIT, V6 INIT, V4 FIN + V6 FIN RCV or TRANS.
    TcpTrans = 2,
    /// ICMP query sessions.
    Icmp = 3,
}

/// Number of session timeout classes (queues).
pub const SESSION_CLASSES: usize = 4;

impl TimeoutClass {
    /// All session classes, in queue order.
    pub const ALL: [TimeoutClass; SESSION_CLASSES] = [
        TimeoutClass::Udp,
        TimeoutClass::TcpEst,
        TimeoutClass::TcpTrans,
        TimeoutClass::Icmp,
    ];

    /// The class numbered `v`.
    pub fn from_u8(v: u8) -> Option<TimeoutClass> {
        TimeoutClass::ALL.get(v as usize).copied()
    }
}

/// Every configurable lifetime, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// UDP session lifetime; at least [`UDP_MIN_MS`].
    pub udp_ms: u32,
    /// TCP established lifetime.
    pub tcp_est_ms: u32,
    /// TCP transitory lifetime.
    pub tcp_trans_ms: u32,
    /// ICMP query session lifetime.
    pub icmp_ms: u32,
    /// How long an unsolicited IPv4 SYN is stored; at least [`TCP_INCOMING_SYN_MS`]
    /// (RFC 6146 §3.5.2.2: no ICMP error for at least 6 seconds).
    pub tcp_incoming_syn_ms: u32,
    /// How long fragments wait for the rest of their datagram; at least
    /// [`FRAGMENT_MIN_MS`].
    pub fragment_ms: u32,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            udp_ms: UDP_DEFAULT_MS,
            tcp_est_ms: TCP_EST_MS,
            tcp_trans_ms: TCP_TRANS_MS,
            icmp_ms: ICMP_DEFAULT_MS,
            tcp_incoming_syn_ms: TCP_INCOMING_SYN_MS,
            fragment_ms: FRAGMENT_MIN_MS,
        }
    }
}

/// A lifetime that cannot be configured, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeoutError {
    /// The field: `udp_ms`, `tcp_est_ms`, `tcp_trans_ms`, `icmp_ms`,
    /// `tcp_incoming_syn_ms` or `fragment_ms`.
    pub field: &'static str,
    /// The smallest accepted value.
    pub min_ms: u32,
    /// The rule the bounds come from, as a sentence fragment.
    pub reason: &'static str,
}

const ANY: &str = "must be between 1 and 2147483647 ms";

impl Timeouts {
    /// Checks every lifetime against its RFC minimum and the clock's maximum.
    pub fn validate(&self) -> Result<(), TimeoutError> {
        let fields = [
            ("udp_ms", self.udp_ms, UDP_MIN_MS, "must be at least UDP_MIN, 120000 ms (RFC 6146 section 4), and at most 2147483647 ms"),
            ("tcp_est_ms", self.tcp_est_ms, 1, ANY),
            ("tcp_trans_ms", self.tcp_trans_ms, 1, ANY),
            ("icmp_ms", self.icmp_ms, 1, ANY),
            (
                "tcp_incoming_syn_ms",
                self.tcp_incoming_syn_ms,
                TCP_INCOMING_SYN_MS,
                "must be at least TCP_INCOMING_SYN, 6000 ms (RFC 6146 section 3.5.2.2), and at most 2147483647 ms",
            ),
            (
                "fragment_ms",
                self.fragment_ms,
                FRAGMENT_MIN_MS,
                "must be at least FRAGMENT_MIN, 2000 ms (RFC 6146 section 4), and at most 2147483647 ms",
            ),
        ];
        for (field, value, min_ms, reason) in fields {
            if value < min_ms || value > MAX_TIMEOUT_MS {
                return Err(TimeoutError { field, min_ms, reason });
            }
        }
        Ok(())
    }

    /// The lifetime of a session class.
    #[inline]
    pub fn of(&self, class: TimeoutClass) -> u32 {
        match class {
            TimeoutClass::Udp => self.udp_ms,
            TimeoutClass::TcpEst => self.tcp_est_ms,
            TimeoutClass::TcpTrans => self.tcp_trans_ms,
            TimeoutClass::Icmp => self.icmp_ms,
        }
    }
}

/// The stored form of a time: its low 32 bits.
#[inline]
pub fn stamp(now_ms: u64) -> u32 {
    now_ms as u32
}

/// Milliseconds from `since` (a [`stamp`]) to `now_ms`.
#[inline]
pub fn age(now_ms: u64, since: u32) -> u32 {
    stamp(now_ms).wrapping_sub(since)
}

/// Whether an entry last active at `since` has outlived `lifetime_ms`.
#[inline]
pub fn is_expired(now_ms: u64, since: u32, lifetime_ms: u32) -> bool {
    age(now_ms, since) >= lifetime_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_rfc_6146_constants() {
        let t = Timeouts::default();
        assert_eq!(t.udp_ms, 300_000);
        assert_eq!(t.tcp_est_ms, 7_440_000);
        assert_eq!(t.tcp_trans_ms, 240_000);
        assert_eq!(t.icmp_ms, 60_000);
        assert_eq!(t.tcp_incoming_syn_ms, 6_000);
        assert_eq!(t.fragment_ms, 2_000);
        assert!(t.validate().is_ok());
    }

    #[test]
    fn udp_below_udp_min_is_refused_and_named() {
        let t = Timeouts {
            udp_ms: UDP_MIN_MS - 1,
            ..Timeouts::default()
        };
        assert_eq!(t.validate().unwrap_err().field, "udp_ms");
        let t = Timeouts {
            udp_ms: UDP_MIN_MS,
            ..Timeouts::default()
        };
        assert!(t.validate().is_ok());
    }

    #[test]
    fn other_bounds_are_named() {
        let cases: [(Timeouts, &str); 4] = [
            (Timeouts { tcp_est_ms: 0, ..Timeouts::default() }, "tcp_est_ms"),
            (Timeouts { tcp_incoming_syn_ms: 5_999, ..Timeouts::default() }, "tcp_incoming_syn_ms"),
            (Timeouts { fragment_ms: 1_999, ..Timeouts::default() }, "fragment_ms"),
            (Timeouts { icmp_ms: MAX_TIMEOUT_MS + 1, ..Timeouts::default() }, "icmp_ms"),
        ];
        for (t, field) in cases {
            assert_eq!(t.validate().unwrap_err().field, field);
        }
    }

    #[test]
    fn ages_survive_the_32_bit_wrap() {
        let before_wrap = (1u64 << 32) - 1_000;
        let since = stamp(before_wrap);
        assert_eq!(age(before_wrap + 5_000, since), 5_000);
        assert!(!is_expired(before_wrap + 5_000, since, 6_000));
        assert!(is_expired(before_wrap + 6_000, since, 6_000));
    }
}

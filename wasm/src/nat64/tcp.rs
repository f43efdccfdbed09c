//! The RFC 6146 §3.5.2.2 TCP session state machine, as pure functions.
//!
//! [`on_packet`] gives the state a session moves to when a packet crosses it, and what
//! happens to its lifetime; [`on_expiry`] what happens when the lifetime runs out. The
//! table follows RFC 6146 §3.5.2.2 with these readings where the text leaves room:
//!
//! | state | packet | new state | lifetime |
//! |---|---|---|---|
//! | CLOSED | V6 SYN | V6 INIT | TCP_TRANS |
//! | CLOSED | V4 SYN | V4 INIT | TCP_TRANS |
//! | CLOSED | other | CLOSED (no session is created) | — |
//! | V4 INIT | V6 SYN | ESTABLISHED | TCP_EST |
//! | V4 INIT | other | V4 INIT | unchanged |
//! | V6 INIT | V4 SYN | ESTABLISHED | TCP_EST |
//! | V6 INIT | V6 SYN (retransmission) | V6 INIT | TCP_TRANS |
//! | V6 INIT | other | V6 INIT | unchanged |
//! | ESTABLISHED | RST | TRANS | TCP_TRANS |
//! | ESTABLISHED | V4 FIN | V4 FIN RCV | TCP_EST |
//! | ESTABLISHED | V6 FIN | V6 FIN RCV | TCP_EST |
//! | ESTABLISHED | other | ESTABLISHED | TCP_EST |
//! | V4 FIN RCV | RST | TRANS | TCP_TRANS |
//! | V4 FIN RCV | V6 FIN | V4 FIN + V6 FIN RCV | TCP_TRANS |
//! | V4 FIN RCV | other | V4 FIN RCV | TCP_EST |
//! | V6 FIN RCV | RST | TRANS | TCP_TRANS |
//! | V6 FIN RCV | V4 FIN | V4 FIN + V6 FIN RCV | TCP_TRANS |
//! | V6 FIN RCV | other | V6 FIN RCV | TCP_EST |
//! | V4 FIN + V6 FIN RCV | any | unchanged | unchanged (only the timeout ends it) |
//! | TRANS | RST | TRANS | unchanged |
//! | TRANS | other | ESTABLISHED | TCP_EST |
//!
//! RST is checked before FIN: a segment carrying both aborts the connection. RST in the
//! FIN RCV states moves to TRANS (the RFC only lists RST for ESTABLISHED; without this a
//! reset half-closed connection would hold its session for TCP_EST, Jool issue #212).
//!
//! On expiry an ESTABLISHED session is not deleted: it moves to TRANS with TCP_TRANS and
//! the packet path SHOULD send a probe (RFC 6146 §3.5.2.2); any traffic brings it back.
//! Every other state is deleted when its lifetime runs out. The unsolicited IPv4 SYN of a
//! simultaneous open (TCP_INCOMING_SYN) is kept by the stored-SYN queue, not by a session.
//!
//! The class of a live session is a function of its state: [`class_of`].

use super::timeouts::TimeoutClass;

/// A TCP session state (RFC 6146 §3.5.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TcpState {
    /// No session.
    Closed = 0,
    /// An IPv4 SYN was seen first.
    V4Init = 1,
    /// An IPv6 SYN was seen first.
    V6Init = 2,
    /// Both sides sent a SYN.
    Established = 3,
    /// The IPv4 side sent a FIN.
    V4FinRcv = 4,
    /// The IPv6 side sent a FIN.
    V6FinRcv = 5,
    /// Both sides sent a FIN.
    V4FinV6FinRcv = 6,
    /// Transitory: reset, or established and idle until probed.
    Trans = 7,
}

impl TcpState {
    /// All states.
    pub const ALL: [TcpState; 8] = [
        TcpState::Closed,
        TcpState::V4Init,
        TcpState::V6Init,
        TcpState::Established,
        TcpState::V4FinRcv,
        TcpState::V6FinRcv,
        TcpState::V4FinV6FinRcv,
        TcpState::Trans,
    ];

    /// The state numbered `v`.
    pub fn from_u8(v: u8) -> Option<TcpState> {
        TcpState::ALL.get(v as usize).copied()
    }
}

/// The side a packet arrived from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// From the IPv6 network.
    V6,
    /// From the IPv4 network.
    V4,
}

/// The TCP flags byte (offset 13 of the TCP header); only FIN, SYN and RST matter here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// FIN bit.
    pub const FIN: u8 = 0x01;
    /// SYN bit.
    pub const SYN: u8 = 0x02;
    /// RST bit.
    pub const RST: u8 = 0x04;

    /// Whether SYN is set.
    #[inline]
    pub fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }
    /// Whether FIN is set.
    #[inline]
    pub fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }
    /// Whether RST is set.
    #[inline]
    pub fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }
}

/// What a packet does to a session's lifetime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// The lifetime is left as it was (the session is not touched).
    Keep,
    /// The lifetime restarts now, in this class.
    Restart(TimeoutClass),
}

/// The outcome of a packet for a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The state after the packet.
    pub state: TcpState,
    /// The lifetime after the packet.
    pub timer: Timer,
}

/// What a lifetime running out does to a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnExpiry {
    /// Delete the session.
    Remove,
    /// Move to TRANS with TCP_TRANS; the packet path SHOULD probe the endpoints.
    Probe,
}

#[inline]
fn to(state: TcpState, class: TimeoutClass) -> Transition {
    Transition {
        state,
        timer: Timer::Restart(class),
    }
}

#[inline]
fn stay(state: TcpState) -> Transition {
    Transition {
        state,
        timer: Timer::Keep,
    }
}

/// The transition for a packet from `side` with `flags` in `state` (table in the module
/// documentation).
pub fn on_packet(state: TcpState, side: Side, flags: TcpFlags) -> Transition {
    use TcpState::*;
    use TimeoutClass::{TcpEst, TcpTrans};
    match state {
        Closed if flags.syn() => match side {
            Side::V6 => to(V6Init, TcpTrans),
            Side::V4 => to(V4Init, TcpTrans),
        },
        Closed => stay(Closed),
        V4Init if flags.syn() && side == Side::V6 => to(Established, TcpEst),
        V4Init => stay(V4Init),
        V6Init if flags.syn() => match side {
            Side::V4 => to(Established, TcpEst),
            Side::V6 => to(V6Init, TcpTrans),
        },
        V6Init => stay(V6Init),
        Established if flags.rst() => to(Trans, TcpTrans),
        Established if flags.fin() => match side {
            Side::V4 => to(V4FinRcv, TcpEst),
            Side::V6 => to(V6FinRcv, TcpEst),
        },
        Established => to(Established, TcpEst),
        V4FinRcv | V6FinRcv if flags.rst() => to(Trans, TcpTrans),
        V4FinRcv if flags.fin() && side == Side::V6 => to(V4FinV6FinRcv, TcpTrans),
        V6FinRcv if flags.fin() && side == Side::V4 => to(V4FinV6FinRcv, TcpTrans),
        V4FinRcv | V6FinRcv => to(state, TcpEst),
        V4FinV6FinRcv => stay(V4FinV6FinRcv),
        Trans if flags.rst() => stay(Trans),
        Trans => to(Established, TcpEst),
    }
}

/// What happens when a session in `state` outlives its lifetime.
pub fn on_expiry(state: TcpState) -> OnExpiry {
    if state == TcpState::Established {
        OnExpiry::Probe
    } else {
        OnExpiry::Remove
    }
}

/// The timeout class of a live session in `state`.
pub fn class_of(state: TcpState) -> TimeoutClass {
    match state {
        TcpState::Established | TcpState::V4FinRcv | TcpState::V6FinRcv => TimeoutClass::TcpEst,
        _ => TimeoutClass::TcpTrans,
    }
}

#[cfg(test)]
mod tests {
    use super::TcpState::*;
    use super::*;
    use TimeoutClass::{TcpEst, TcpTrans};

    const SYN: TcpFlags = TcpFlags(TcpFlags::SYN);
    const SYN_ACK: TcpFlags = TcpFlags(TcpFlags::SYN | 0x10);
    const FIN: TcpFlags = TcpFlags(TcpFlags::FIN | 0x10);
    const RST: TcpFlags = TcpFlags(TcpFlags::RST);
    const RST_FIN: TcpFlags = TcpFlags(TcpFlags::RST | TcpFlags::FIN);
    const ACK: TcpFlags = TcpFlags(0x10);

    fn check(state: TcpState, side: Side, flags: TcpFlags, want: TcpState, timer: Timer) {
        assert_eq!(
            on_packet(state, side, flags),
            Transition { state: want, timer },
            "{:?} + {:?} {:?}",
            state,
            side,
            flags
        );
    }

    #[test]
    fn closed() {
        check(Closed, Side::V6, SYN, V6Init, Timer::Restart(TcpTrans));
        check(Closed, Side::V4, SYN, V4Init, Timer::Restart(TcpTrans));
        check(Closed, Side::V6, ACK, Closed, Timer::Keep);
        check(Closed, Side::V4, FIN, Closed, Timer::Keep);
        check(Closed, Side::V4, RST, Closed, Timer::Keep);
    }

    #[test]
    fn v4_init() {
        check(V4Init, Side::V6, SYN, Established, Timer::Restart(TcpEst));
        check(V4Init, Side::V6, SYN_ACK, Established, Timer::Restart(TcpEst));
        check(V4Init, Side::V4, SYN, V4Init, Timer::Keep);
        check(V4Init, Side::V6, ACK, V4Init, Timer::Keep);
        check(V4Init, Side::V4, RST, V4Init, Timer::Keep);
    }

    #[test]
    fn v6_init() {
        check(V6Init, Side::V4, SYN_ACK, Established, Timer::Restart(TcpEst));
        check(V6Init, Side::V4, SYN, Established, Timer::Restart(TcpEst));
        check(V6Init, Side::V6, SYN, V6Init, Timer::Restart(TcpTrans));
        check(V6Init, Side::V4, ACK, V6Init, Timer::Keep);
        check(V6Init, Side::V4, RST, V6Init, Timer::Keep);
    }

    #[test]
    fn established() {
        check(Established, Side::V4, FIN, V4FinRcv, Timer::Restart(TcpEst));
        check(Established, Side::V6, FIN, V6FinRcv, Timer::Restart(TcpEst));
        check(Established, Side::V4, RST, Trans, Timer::Restart(TcpTrans));
        check(Established, Side::V6, RST, Trans, Timer::Restart(TcpTrans));
        check(Established, Side::V6, RST_FIN, Trans, Timer::Restart(TcpTrans));
        check(Established, Side::V6, ACK, Established, Timer::Restart(TcpEst));
        check(Established, Side::V4, ACK, Established, Timer::Restart(TcpEst));
    }

    #[test]
    fn fin_received() {
        check(V4FinRcv, Side::V6, FIN, V4FinV6FinRcv, Timer::Restart(TcpTrans));
        check(V4FinRcv, Side::V4, FIN, V4FinRcv, Timer::Restart(TcpEst));
        check(V4FinRcv, Side::V6, ACK, V4FinRcv, Timer::Restart(TcpEst));
        check(V4FinRcv, Side::V4, RST, Trans, Timer::Restart(TcpTrans));
        check(V6FinRcv, Side::V4, FIN, V4FinV6FinRcv, Timer::Restart(TcpTrans));
        check(V6FinRcv, Side::V6, FIN, V6FinRcv, Timer::Restart(TcpEst));
        check(V6FinRcv, Side::V4, ACK, V6FinRcv, Timer::Restart(TcpEst));
        check(V6FinRcv, Side::V6, RST, Trans, Timer::Restart(TcpTrans));
    }

    #[test]
    fn both_fins_only_time_out() {
        for side in [Side::V4, Side::V6] {
            for flags in [SYN, ACK, FIN, RST] {
                check(V4FinV6FinRcv, side, flags, V4FinV6FinRcv, Timer::Keep);
            }
        }
    }

    #[test]
    fn trans() {
        check(Trans, Side::V4, ACK, Established, Timer::Restart(TcpEst));
        check(Trans, Side::V6, ACK, Established, Timer::Restart(TcpEst));
        check(Trans, Side::V6, RST, Trans, Timer::Keep);
        check(Trans, Side::V4, RST, Trans, Timer::Keep);
    }

    #[test]
    fn expiry_probes_only_established() {
        for s in TcpState::ALL {
            let want = if s == Established { OnExpiry::Probe } else { OnExpiry::Remove };
            assert_eq!(on_expiry(s), want, "{:?}", s);
        }
    }

    #[test]
    fn every_transition_lands_in_the_class_of_its_state() {
        for s in TcpState::ALL {
            for side in [Side::V4, Side::V6] {
                for f in 0u8..8 {
                    let t = on_packet(s, side, TcpFlags(f));
                    if let Timer::Restart(class) = t.timer {
                        assert_eq!(class, class_of(t.state), "{:?} {:?} {}", s, side, f);
                    } else if s != Closed {
                        assert_eq!(class_of(t.state), class_of(s));
                    }
                }
            }
        }
    }
}

//! Session and BIB events for the operator's log: one fixed record per creation or
//! removal, written only while the host asks for them, into a bounded buffer the host
//! drains (`nat64_events_take`, see the ABI in `lib.rs`).
//!
//! This is what a CGN keeps for abuse tracing in the spirit of RFC 6888 REQ-12: which
//! IPv6 transport address held which IPv4 transport address, from when to when. The
//! records carry the destination too; whether it is logged is the host's choice (REQ-12
//! advises against it). When the buffer is full, further events are counted in
//! [`EventLog::lost`] and not written: the packet path never waits for the log, and
//! with logging off an event costs one branch.
//!
//! # Record format (64 bytes, integers little-endian, addresses in network order)
//! | offset | field |
//! |---|---|
//! | 0 | `u64` the host's `now_ms` of the call that caused the event |
//! | 8 | `u8` kind: [`EventKind`] |
//! | 9 | `u8` cause: [`Cause`] |
//! | 10 | `u8` protocol: 0 TCP, 1 UDP, 2 ICMP |
//! | 11 | `u8` TCP state ([`TcpState`] number; 0 for UDP, ICMP and BIB events) |
//! | 12 | `u16` x', the IPv6 host's port (ICMP: query identifier) |
//! | 14 | `u16` y, the remote port (0 for ICMP and BIB events) |
//! | 16 | `u16` x, the pool4 port (ICMP: identifier on the IPv4 side) |
//! | 18 | `u16` flags: bit 0 set when the BIB entry is static |
//! | 20 | `[4]` X, the pool4 address |
//! | 24 | `[4]` Y, the remote IPv4 address (0 for BIB events) |
//! | 28 | `u32` 0 |
//! | 32 | `[16]` X', the IPv6 host |
//! | 48 | `[16]` Y', the remote as the IPv6 host sees it (Y inside pool6, RFC 6052); the engine fills it in when the host takes the records (these tables do not know pool6), 0 for BIB events |

use super::carve::{Carver, InitError, Plain};
use super::tcp::TcpState;

/// Bytes of one record.
pub const EVENT_RECORD: usize = 64;

/// Records the buffer holds: between two drains (the host drains every 100 ms) that is
/// 40,000 events a second before any is lost, above any rate worth logging line by line.
pub const EVENT_CAPACITY: u32 = 4096;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum EventKind {
    /// A session was created (RFC 6146 §3.5.1, §3.5.2.2, §3.5.3).
    SessionCreated = 1,
    /// A session was removed.
    SessionRemoved = 2,
    /// A BIB entry was created: dynamic ones with their first session, static ones when
    /// configured.
    BibCreated = 3,
    /// A BIB entry was removed: dynamic ones with their last session, static ones when
    /// the configuration drops them.
    BibRemoved = 4,
}

/// Why it happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Cause {
    /// Created by a packet from the IPv6 side.
    FromIpv6 = 1,
    /// Created by a packet from the IPv4 side (a binding that filtering let through,
    /// RFC 6146 §3.5.1, or the IPv4 half of a simultaneous open).
    FromIpv4 = 2,
    /// Created from a snapshot at start-up.
    Restored = 3,
    /// A static BIB entry the configuration added.
    Configured = 4,
    /// Removed when its lifetime ran out: UDP, ICMP, or TCP that was not closed (an
    /// unanswered SYN, a half-closed connection idle for TCP_EST).
    Expired = 5,
    /// TCP: both sides sent a FIN and TCP_TRANS ran out (RFC 6146 §3.5.2.2).
    TcpClosed = 6,
    /// TCP in the TRANS state, after a reset or an idle period whose probe went
    /// unanswered, and TCP_TRANS ran out (RFC 6146 §3.5.2.2).
    TcpTrans = 7,
    /// Removed because a new configuration took its pool4 address or static entry away.
    Reconfigured = 8,
    /// Removed because a restore failed part-way and was undone.
    RestoreUndone = 9,
}

/// The cause of an event and the host time of the call that caused it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Why {
    /// The cause.
    pub cause: Cause,
    /// The host's `now_ms`.
    pub now_ms: u64,
}

impl Why {
    /// `cause` at `now_ms`.
    pub fn new(cause: Cause, now_ms: u64) -> Why {
        Why { cause, now_ms }
    }
}

/// One event as it lies in memory (format in the module documentation). Multi-byte
/// integers are stored little-endian whatever the platform.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventRecord {
    /// `now_ms`.
    pub now_ms: u64,
    /// [`EventKind`].
    pub kind: u8,
    /// [`Cause`].
    pub cause: u8,
    /// Protocol number.
    pub proto: u8,
    /// TCP state number.
    pub state: u8,
    /// x'.
    pub port6: u16,
    /// y.
    pub remote_port: u16,
    /// x.
    pub port4: u16,
    /// Bit 0: static BIB entry.
    pub flags: u16,
    /// X.
    pub addr4: [u8; 4],
    /// Y.
    pub remote4: [u8; 4],
    /// Zero.
    pub reserved: u32,
    /// X'.
    pub addr6: [u8; 16],
    /// Y'.
    pub remote6: [u8; 16],
}

// SAFETY: integers and arrays of integers only.
unsafe impl Plain for EventRecord {}

/// Flag bit of a static BIB entry.
pub const FLAG_STATIC: u16 = 1;

/// The event buffer: records `0..len` wait for the host.
pub struct EventLog<'a> {
    records: &'a mut [EventRecord],
    len: u32,
    /// Records `0..completed` have their Y' filled in.
    completed: u32,
    enabled: bool,
    lost: u64,
}

impl<'a> EventLog<'a> {
    /// Carves an empty, disabled buffer of `capacity` records.
    pub fn carve(c: &mut Carver<'a>, capacity: u32) -> Result<Self, InitError> {
        Ok(EventLog { records: c.take::<EventRecord>(capacity as usize)?, len: 0, completed: 0, enabled: false, lost: 0 })
    }

    /// Whether events are recorded.
    #[inline(always)]
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Starts or stops recording; records already written stay for the host.
    pub fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
    }

    /// Writes `r`, or counts it as lost when the buffer is full.
    pub fn push(&mut self, r: EventRecord) {
        match self.records.get_mut(self.len as usize) {
            Some(slot) => {
                *slot = r;
                self.len += 1;
            }
            None => self.lost += 1,
        }
    }

    /// The records written since the last take whose Y' is not filled in yet; they
    /// count as filled in afterwards.
    pub fn incomplete(&mut self) -> &mut [EventRecord] {
        let from = self.completed as usize;
        self.completed = self.len;
        &mut self.records[from..self.len as usize]
    }

    /// Hands the records written so far to the host: returns how many there are
    /// (records `0..n` of [`EventLog::records`]) and empties the buffer, so the next
    /// event is written at record 0.
    pub fn take(&mut self) -> u32 {
        let n = self.len;
        self.len = 0;
        self.completed = 0;
        n
    }

    /// The whole buffer, for the host's address and for tests.
    pub fn records(&self) -> &[EventRecord] {
        self.records
    }

    /// Events not written because the buffer was full, since start.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Records waiting for the host.
    pub fn pending(&self) -> u32 {
        self.len
    }
}

impl EventRecord {
    /// A record of `kind` for `why`, its fields to be filled by the caller.
    pub fn new(kind: EventKind, why: Why) -> EventRecord {
        EventRecord {
            now_ms: why.now_ms.to_le(),
            kind: kind as u8,
            cause: why.cause as u8,
            proto: 0,
            state: TcpState::Closed as u8,
            port6: 0,
            remote_port: 0,
            port4: 0,
            flags: 0,
            addr4: [0; 4],
            remote4: [0; 4],
            reserved: 0,
            addr6: [0; 16],
            remote6: [0; 16],
        }
    }

    /// The record as the host reads it.
    #[cfg(test)]
    pub fn bytes(&self) -> [u8; EVENT_RECORD] {
        // SAFETY: `EventRecord` is 64 bytes of plain integers with no padding (checked
        // by the size test below).
        unsafe { core::mem::transmute::<EventRecord, [u8; EVENT_RECORD]>(*self) }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_region::Region;
    use super::*;

    #[test]
    fn a_record_is_64_bytes_in_the_documented_layout() {
        assert_eq!(core::mem::size_of::<EventRecord>(), EVENT_RECORD);
        let mut r = EventRecord::new(EventKind::SessionRemoved, Why::new(Cause::TcpClosed, 0x0102_0304_0506));
        r.proto = 0;
        r.state = TcpState::V4FinV6FinRcv as u8;
        r.port6 = 40000u16.to_le();
        r.remote_port = 80u16.to_le();
        r.port4 = 61000u16.to_le();
        r.flags = FLAG_STATIC.to_le();
        r.addr4 = [192, 0, 2, 1];
        r.remote4 = [198, 51, 100, 2];
        r.addr6 = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
        r.remote6[15] = 9;
        let b = r.bytes();
        assert_eq!(&b[0..8], &[6, 5, 4, 3, 2, 1, 0, 0]);
        assert_eq!(&b[8..12], &[2, 6, 0, 6]);
        assert_eq!(&b[12..20], &[0x40, 0x9c, 80, 0, 0x48, 0xee, 1, 0]);
        assert_eq!(&b[20..28], &[192, 0, 2, 1, 198, 51, 100, 2]);
        assert_eq!(&b[28..32], &[0; 4]);
        assert_eq!(b[32..48], r.addr6);
        assert_eq!(b[63], 9);
    }

    #[test]
    fn a_full_buffer_counts_what_it_cannot_hold_and_take_empties_it() {
        let mut region = Region::for_layout(|c| EventLog::carve(c, 2).map(|_| ()));
        let mut c = region.carver();
        let mut log = EventLog::carve(&mut c, 2).unwrap();
        assert!(!log.enabled());
        for ms in 1..=3 {
            log.push(EventRecord::new(EventKind::SessionCreated, Why::new(Cause::FromIpv6, ms)));
        }
        assert_eq!((log.pending(), log.lost()), (2, 1));
        assert_eq!(log.incomplete().len(), 2);
        assert_eq!(log.incomplete().len(), 0, "filled in once");
        assert_eq!(log.take(), 2);
        assert_eq!(u64::from_le(log.records()[1].now_ms), 2);
        log.push(EventRecord::new(EventKind::SessionRemoved, Why::new(Cause::Expired, 9)));
        assert_eq!((log.pending(), log.lost()), (1, 1));
        assert_eq!(u64::from_le(log.records()[0].now_ms), 9, "written from record 0 again");
        assert_eq!(log.incomplete().len(), 1);
    }
}

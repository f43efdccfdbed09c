//! Saving and restoring the dynamic state as a flat byte string (save on SIGTERM,
//! restore at start, periodic checkpoints).
//!
//! Format, version 1, all integers little-endian:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `NAT64TBL` |
//! | 8 | 4 | version, 1 |
//! | 12 | 4 | record size, 40 |
//! | 16 | 4 | record count `n` |
//! | 20 | 4 | reserved, 0 |
//! | 24 | 8 | FNV-1a 64 of the `n` records |
//! | 32 | 40 × n | session records ([`super::records`]) |
//!
//! Each record is one session with its BIB entry, so BIB entries need no records of
//! their own: a dynamic entry exists exactly while it has sessions, and static entries
//! come from the configuration (a record of a static entry attaches to the configured
//! entry). Lifetimes are stored as time *remaining*, so a restore under another clock
//! keeps them. Records are written per timeout class in queue order, and import checks
//! that the remaining lifetimes do not decrease (it is what rebuilds the expiry queues
//! without sorting); a session whose activity had not moved it in its queue (within
//! `RELINK_MS`, see `timeouts`) is written with the remaining lifetime of the one
//! before it if that is longer, so it may come back living up to `RELINK_MS` longer.
//!
//! Import runs on an engine without sessions, after `configure`. Every record is
//! validated before anything changes; a record that contradicts another (same BIB key
//! with two IPv4 sides, one IPv4 side claimed twice, a duplicate session) makes the
//! whole import fail and leaves the engine as it was. Records the current configuration
//! no longer allows (address left pool4, static entry gone or changed, limits lower) are
//! skipped and counted. Stored SYNs and fragments are transient and not saved.
//!
//! Snapshots of a million sessions are tens of megabytes, more than the host's exchange
//! buffer, so both directions go in pieces: [`Exporter`] writes the header and then the
//! records chunk by chunk; [`Importer`] reads the header, checks every record chunk by
//! chunk (nothing changes), then applies them chunk by chunk.

use super::bib::{BibEntry, POOLED};
use super::chain::NIL;
use super::events::{Cause, Why};
use super::records::{SessionRecord, FLAG_STATIC, SESSION_RECORD};
use super::state::Nat64;
use super::tcp::{class_of, TcpState};
use super::timeouts::{age, stamp, TimeoutClass};
use super::types::{v4_to_u32, Proto};

/// The magic bytes at the start of a snapshot.
pub const MAGIC: [u8; 8] = *b"NAT64TBL";
/// The format version this module writes and reads.
pub const VERSION: u32 = 1;
/// Bytes before the first record.
pub const HEADER: usize = 32;

/// Why a snapshot could not be written or read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotError {
    /// The output buffer is smaller than `needed` bytes.
    BufferTooSmall {
        /// Bytes the snapshot takes.
        needed: usize,
    },
    /// Shorter than the header.
    Truncated,
    /// Not a snapshot: the magic bytes differ.
    BadMagic,
    /// A version this engine does not read.
    UnsupportedVersion(u32),
    /// The header's record size is not 40 or its reserved field is not 0.
    BadHeader,
    /// The length does not match the record count.
    LengthMismatch,
    /// The records do not match the checksum: the file is corrupt.
    Checksum,
    /// The engine already has sessions; import needs an empty one.
    NotEmpty,
    /// Record `record` has an impossible value in `field`.
    Corrupt {
        /// Record number, from 0.
        record: u32,
        /// The field: `protocol`, `state`, `class`, `flags`, `reserved`, `port`,
        /// `order`.
        field: &'static str,
    },
    /// Record `record` contradicts an earlier record.
    Inconsistent {
        /// Record number, from 0.
        record: u32,
    },
}

impl core::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            SnapshotError::BufferTooSmall { needed } => write!(f, "the snapshot needs {} bytes", needed),
            SnapshotError::Truncated => write!(f, "the snapshot is shorter than its {}-byte header", HEADER),
            SnapshotError::BadMagic => write!(f, "not a NAT64 session snapshot (bad magic)"),
            SnapshotError::UnsupportedVersion(v) => write!(f, "snapshot format version {}, this engine reads version {}", v, VERSION),
            SnapshotError::BadHeader => write!(f, "the snapshot header has an unknown record size or reserved field"),
            SnapshotError::LengthMismatch => write!(f, "the snapshot's length does not match its record count"),
            SnapshotError::Checksum => write!(f, "the snapshot's records do not match its checksum: it is damaged"),
            SnapshotError::NotEmpty => write!(f, "the session table is not empty"),
            SnapshotError::Corrupt { record, field } => write!(f, "snapshot record {} has an impossible {}", record, field),
            SnapshotError::Inconsistent { record } => write!(f, "snapshot record {} contradicts an earlier one", record),
        }
    }
}

/// What an import restored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ImportSummary {
    /// Sessions restored.
    pub sessions: u32,
    /// Records the current configuration does not allow.
    pub skipped: u32,
}

/// FNV-1a 64 over `bytes`, continuing from `h` (start with [`FNV_START`]).
fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The FNV-1a 64 offset basis.
const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// The sessions in snapshot order: per timeout class, oldest first, each with its
/// remaining lifetime at `now_ms`. Niche-free (the cursor's end is [`NIL`]), so that an
/// engine without a snapshot in progress is all zero bytes and its static costs nothing
/// in the module's data section.
struct Walk {
    now_ms: u64,
    class: usize,
    cursor: u32,
    newest: u32,
}

impl Walk {
    fn new(nat: &Nat64, now_ms: u64) -> Self {
        Walk {
            now_ms,
            class: 0,
            cursor: nat.sessions.oldest(TimeoutClass::ALL[0]).unwrap_or(NIL),
            newest: 0,
        }
    }

    fn next(&mut self, nat: &Nat64) -> Option<SessionRecord> {
        loop {
            let s = self.cursor;
            if s == NIL {
                if self.class + 1 >= TimeoutClass::ALL.len() {
                    return None;
                }
                self.class += 1;
                self.cursor = nat.sessions.oldest(TimeoutClass::ALL[self.class]).unwrap_or(NIL);
                self.newest = 0;
                continue;
            }
            let e = nat.sessions.get(s);
            let lifetime = nat.settings.timeouts.of(TimeoutClass::ALL[self.class]);
            // The queue order is authoritative; should the host's clock ever have gone
            // backwards, a later session is written as living at least as long as the
            // one before it, so the file stays in the order import checks.
            let remaining = lifetime.saturating_sub(age(self.now_ms, e.last)).max(self.newest);
            self.newest = remaining;
            self.cursor = nat.sessions.newer(s).unwrap_or(NIL);
            return Some(SessionRecord::of(nat.bib.get(e.bib), e, remaining));
        }
    }
}

/// Writes a snapshot in pieces, for a host buffer smaller than the tables: the header
/// ([`Exporter::header`], 32 bytes) and then the records ([`Exporter::records`]) until
/// it writes nothing. The tables must not change in between: the header's checksum
/// covers the records as they are when the exporter is made.
pub struct Exporter {
    walk: Walk,
    count: u32,
    sum: u64,
}

impl Exporter {
    /// Starts a snapshot of `nat` at `now_ms`; walks the sessions once for the checksum.
    pub fn new(nat: &Nat64, now_ms: u64) -> Self {
        let mut walk = Walk::new(nat, now_ms);
        let (mut count, mut sum) = (0u32, FNV_START);
        let mut rec = [0u8; SESSION_RECORD];
        while let Some(r) = walk.next(nat) {
            r.write(&mut rec);
            sum = fnv1a(sum, &rec);
            count += 1;
        }
        Exporter { walk: Walk::new(nat, now_ms), count, sum }
    }

    /// Bytes of the whole snapshot.
    pub fn len(&self) -> usize {
        HEADER + self.count as usize * SESSION_RECORD
    }

    /// Writes the header into `out[..HEADER]`.
    pub fn header(&self, out: &mut [u8]) {
        out[0..8].copy_from_slice(&MAGIC);
        out[8..12].copy_from_slice(&VERSION.to_le_bytes());
        out[12..16].copy_from_slice(&(SESSION_RECORD as u32).to_le_bytes());
        out[16..20].copy_from_slice(&self.count.to_le_bytes());
        out[20..24].fill(0);
        out[24..32].copy_from_slice(&self.sum.to_le_bytes());
    }

    /// Writes the next records, as many as fit in `out`; returns the bytes written, 0
    /// once every record is out.
    pub fn records(&mut self, nat: &Nat64, out: &mut [u8]) -> usize {
        let mut at = 0;
        while at + SESSION_RECORD <= out.len() {
            match self.walk.next(nat) {
                Some(r) => r.write(&mut out[at..at + SESSION_RECORD]),
                None => break,
            }
            at += SESSION_RECORD;
        }
        at
    }
}

/// Reads a snapshot in pieces: [`Importer::begin`] with the header, [`Importer::check`]
/// with every record (nothing changes yet), then [`Importer::apply`] with the same
/// records again, then [`Importer::finish`]. Every record is validated before anything
/// changes, and the checksum before the records' fields: a damaged file is reported as
/// such rather than as the first impossible value the damage made.
///
/// Niche-free like [`Walk`] (the first impossible value is kept as record number and
/// field name), for the same reason.
pub struct Importer {
    count: u32,
    expected_sum: u64,
    sum: u64,
    checked: u32,
    applied: u32,
    applied_sum: u64,
    newest: [u32; 4],
    first_problem: Option<(u32, &'static str)>,
    summary: ImportSummary,
    /// The host time of the latest apply, for the events of undoing the import.
    now_ms: u64,
}

impl Importer {
    /// Reads the header (`header` holds at least its 32 bytes) of a snapshot of
    /// `total_len` bytes.
    pub fn begin(header: &[u8], total_len: usize) -> Result<Self, SnapshotError> {
        let (count, expected_sum) = check_header(header, total_len)?;
        Ok(Importer {
            count,
            expected_sum,
            sum: FNV_START,
            checked: 0,
            applied: 0,
            applied_sum: FNV_START,
            newest: [0; 4],
            first_problem: None,
            summary: ImportSummary::default(),
            now_ms: 0,
        })
    }

    /// Validates the next records (whole records only).
    pub fn check(&mut self, records: &[u8]) -> Result<(), SnapshotError> {
        if records.len() % SESSION_RECORD != 0 || self.checked as usize + records.len() / SESSION_RECORD > self.count as usize {
            return Err(SnapshotError::LengthMismatch);
        }
        self.sum = fnv1a(self.sum, records);
        for chunk in records.chunks_exact(SESSION_RECORD) {
            let i = self.checked;
            self.checked += 1;
            if self.first_problem.is_some() {
                continue;
            }
            let r = SessionRecord::read(chunk);
            let problem = match check_record(&r) {
                Err(field) => Some(field),
                Ok((_, _, class)) if r.remaining_ms < self.newest[class as usize] => Some("order"),
                Ok((_, _, class)) => {
                    self.newest[class as usize] = r.remaining_ms;
                    None
                }
            };
            self.first_problem = problem.map(|field| (i, field));
        }
        Ok(())
    }

    /// Restores the next records into `nat` (empty at the first call), after the check
    /// pass saw them all. On error every session restored so far is removed again.
    pub fn apply(&mut self, nat: &mut Nat64, records: &[u8], now_ms: u64) -> Result<(), SnapshotError> {
        self.now_ms = now_ms;
        if self.applied == 0 {
            if self.checked != self.count {
                return Err(SnapshotError::LengthMismatch);
            }
            if self.sum != self.expected_sum {
                return Err(SnapshotError::Checksum);
            }
            if let Some((record, field)) = self.first_problem {
                return Err(SnapshotError::Corrupt { record, field });
            }
            if nat.sessions.live() != 0 {
                return Err(SnapshotError::NotEmpty);
            }
        }
        let result = self.restore_records(nat, records, now_ms);
        if result.is_err() {
            nat.drop_all_sessions(Why::new(Cause::RestoreUndone, now_ms));
        }
        result
    }

    fn restore_records(&mut self, nat: &mut Nat64, records: &[u8], now_ms: u64) -> Result<(), SnapshotError> {
        if records.len() % SESSION_RECORD != 0 || self.applied as usize + records.len() / SESSION_RECORD > self.count as usize {
            return Err(SnapshotError::LengthMismatch);
        }
        self.applied_sum = fnv1a(self.applied_sum, records);
        for chunk in records.chunks_exact(SESSION_RECORD) {
            let i = self.applied;
            self.applied += 1;
            let r = SessionRecord::read(chunk);
            let kind = check_record(&r).map_err(|field| SnapshotError::Corrupt { record: i, field })?;
            match nat.restore(&r, kind, now_ms) {
                Ok(true) => self.summary.sessions += 1,
                Ok(false) => self.summary.skipped += 1,
                Err(Contradiction) => return Err(SnapshotError::Inconsistent { record: i }),
            }
        }
        Ok(())
    }

    /// What the import restored, once every record was applied. Records applied that
    /// differ from the ones checked undo the import.
    pub fn finish(&self, nat: &mut Nat64) -> Result<ImportSummary, SnapshotError> {
        let undone = Why::new(Cause::RestoreUndone, self.now_ms);
        if self.applied != self.count {
            nat.drop_all_sessions(undone);
            return Err(SnapshotError::LengthMismatch);
        }
        if self.applied_sum != self.expected_sum {
            nat.drop_all_sessions(undone);
            return Err(SnapshotError::Checksum);
        }
        Ok(self.summary)
    }
}

impl<'a> Nat64<'a> {
    /// Writes every session into `out` in one piece; returns the bytes written.
    #[cfg(test)]
    pub fn export(&self, now_ms: u64, out: &mut [u8]) -> Result<usize, SnapshotError> {
        let mut ex = Exporter::new(self, now_ms);
        let needed = ex.len();
        if out.len() < needed {
            return Err(SnapshotError::BufferTooSmall { needed });
        }
        ex.header(&mut out[..HEADER]);
        let written = ex.records(self, &mut out[HEADER..needed]);
        Ok(HEADER + written)
    }

    /// Restores the sessions of a snapshot held in one piece (rules in the module
    /// documentation).
    #[cfg(test)]
    pub fn import(&mut self, data: &[u8], now_ms: u64) -> Result<ImportSummary, SnapshotError> {
        let mut im = Importer::begin(data, data.len())?;
        im.check(&data[HEADER..])?;
        im.apply(self, &data[HEADER..], now_ms)?;
        im.finish(self)
    }

    /// Restores one validated record: `Ok(false)` when the configuration does not allow
    /// it, `Err` when it contradicts what earlier records restored.
    fn restore(&mut self, r: &SessionRecord, kind: (Proto, TcpState, TimeoutClass), now_ms: u64) -> Result<bool, Contradiction> {
        let (proto, state, class) = kind;
        let addr4 = v4_to_u32(r.addr4);
        let is_static = r.flags & FLAG_STATIC != 0;
        let mut created = None;
        let b = match self.bib.find6(proto, &r.addr6, r.port6) {
            Some(b) => {
                let e = self.bib.get(b);
                if e.addr4 != addr4 || e.port4 != r.port4 {
                    return if e.is_static() { Ok(false) } else { Err(Contradiction) };
                }
                b
            }
            None if is_static => return Ok(false),
            None => {
                if let Some(other) = self.bib.find4(proto, addr4, r.port4) {
                    return if self.bib.get(other).is_static() { Ok(false) } else { Err(Contradiction) };
                }
                let set = match self.pool.find(proto, addr4) {
                    Some(set) => set,
                    None => return Ok(false),
                };
                if self.session_room(&r.addr6).is_err() {
                    return Ok(false);
                }
                let h = match self.hosts.find_or_insert(&r.addr6) {
                    Some(h) => h,
                    None => return Ok(false),
                };
                let flags = if self.pool.take(set, r.port4) { POOLED } else { 0 };
                let b = match self.bib.insert(BibEntry::new(proto, r.addr6, r.port6, addr4, r.port4, flags)) {
                    Some(b) => b,
                    None => {
                        if flags == POOLED {
                            self.pool.release(set, r.port4);
                        }
                        self.hosts.remove_if_idle(h);
                        return Ok(false);
                    }
                };
                let host = self.hosts.get_mut(h);
                if host.bibs == 0 {
                    host.paired4 = addr4;
                }
                host.bibs += 1;
                created = Some(b);
                b
            }
        };
        let remote4 = v4_to_u32(r.remote4);
        if self.sessions.find(b, remote4, r.rport).is_some() {
            return Err(Contradiction);
        }
        let lifetime = self.settings.timeouts.of(class);
        let elapsed = lifetime - r.remaining_ms.min(lifetime);
        let restored = if self.session_room(&r.addr6).is_ok() {
            self.insert_session(b, remote4, r.rport, state, class, stamp(now_ms).wrapping_sub(elapsed), Why::new(Cause::Restored, now_ms))
        } else {
            None
        };
        if restored.is_none() {
            if let Some(b) = created {
                self.remove_bib(b);
            }
        }
        Ok(restored.is_some())
    }

    /// Removes every session (and with them every dynamic BIB entry and host) for `why`.
    pub(super) fn drop_all_sessions(&mut self, why: Why) {
        for s in 0..self.sessions.capacity() {
            if self.sessions.get(s).is_live() {
                self.remove_session(s, why);
            }
        }
    }
}

/// The record count and checksum of a snapshot of `total_len` bytes whose header
/// (the first bytes of `data`) is right.
fn check_header(data: &[u8], total_len: usize) -> Result<(u32, u64), SnapshotError> {
    if data.len() < HEADER || total_len < HEADER {
        return Err(SnapshotError::Truncated);
    }
    if data[0..8] != MAGIC {
        return Err(SnapshotError::BadMagic);
    }
    let word = |at: usize| u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
    if word(8) != VERSION {
        return Err(SnapshotError::UnsupportedVersion(word(8)));
    }
    if word(12) != SESSION_RECORD as u32 || word(20) != 0 {
        return Err(SnapshotError::BadHeader);
    }
    let count = word(16);
    if (total_len - HEADER) as u64 != count as u64 * SESSION_RECORD as u64 {
        return Err(SnapshotError::LengthMismatch);
    }
    let mut sum = [0u8; 8];
    sum.copy_from_slice(&data[24..32]);
    Ok((count, u64::from_le_bytes(sum)))
}

/// A record that contradicts an earlier one.
struct Contradiction;

/// The protocol, state and class of `r`, or the first field no live session can have.
fn check_record(r: &SessionRecord) -> Result<(Proto, TcpState, TimeoutClass), &'static str> {
    let proto = Proto::from_u8(r.proto).ok_or("protocol")?;
    let state = TcpState::from_u8(r.state).ok_or("state")?;
    let class = TimeoutClass::from_u8(r.class).ok_or("class")?;
    let state_ok = match proto {
        Proto::Tcp => state != TcpState::Closed,
        _ => state == TcpState::Closed,
    };
    if !state_ok {
        return Err("state");
    }
    let expected = match proto {
        Proto::Tcp => class_of(state),
        Proto::Udp => TimeoutClass::Udp,
        Proto::Icmp => TimeoutClass::Icmp,
    };
    if class != expected {
        return Err("class");
    }
    if r.flags & !FLAG_STATIC != 0 {
        return Err("flags");
    }
    if r.reserved != 0 {
        return Err("reserved");
    }
    if proto == Proto::Icmp && r.rport != 0 {
        return Err("port");
    }
    Ok((proto, state, class))
}

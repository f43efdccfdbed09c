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
//! keeps them. Records are written per timeout class, oldest first, and import checks
//! that order (it is what rebuilds the expiry queues without sorting).
//!
//! Import runs on an engine without sessions, after `configure`. Every record is
//! validated before anything changes; a record that contradicts another (same BIB key
//! with two IPv4 sides, one IPv4 side claimed twice, a duplicate session) makes the
//! whole import fail and leaves the engine as it was. Records the current configuration
//! no longer allows (address left pool4, static entry gone or changed, limits lower) are
//! skipped and counted. Stored SYNs and fragments are transient and not saved.

use super::bib::{BibEntry, POOLED};
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

/// What an import restored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ImportSummary {
    /// Sessions restored.
    pub sessions: u32,
    /// Records the current configuration does not allow.
    pub skipped: u32,
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl<'a> Nat64<'a> {
    /// Bytes [`Nat64::export`] writes now.
    pub fn export_len(&self) -> usize {
        HEADER + self.sessions.live() as usize * SESSION_RECORD
    }

    /// Writes every session into `out`; returns the bytes written.
    pub fn export(&self, now_ms: u64, out: &mut [u8]) -> Result<usize, SnapshotError> {
        let needed = self.export_len();
        if out.len() < needed {
            return Err(SnapshotError::BufferTooSmall { needed });
        }
        let mut at = HEADER;
        for class in TimeoutClass::ALL {
            let lifetime = self.settings.timeouts.of(class);
            let mut newest = 0;
            let mut cur = self.sessions.oldest(class);
            while let Some(s) = cur {
                let e = self.sessions.get(s);
                // The queue order is authoritative; should the host's clock ever have
                // gone backwards, a later session is written as living at least as long
                // as the one before it, so the file stays in the order import checks.
                let remaining = lifetime.saturating_sub(age(now_ms, e.last)).max(newest);
                newest = remaining;
                SessionRecord::of(self.bib.get(e.bib), e, remaining).write(&mut out[at..at + SESSION_RECORD]);
                at += SESSION_RECORD;
                cur = self.sessions.newer(s);
            }
        }
        let count = (at - HEADER) / SESSION_RECORD;
        out[0..8].copy_from_slice(&MAGIC);
        out[8..12].copy_from_slice(&VERSION.to_le_bytes());
        out[12..16].copy_from_slice(&(SESSION_RECORD as u32).to_le_bytes());
        out[16..20].copy_from_slice(&(count as u32).to_le_bytes());
        out[20..24].fill(0);
        let sum = fnv1a(&out[HEADER..at]);
        out[24..32].copy_from_slice(&sum.to_le_bytes());
        Ok(at)
    }

    /// Restores the sessions of a snapshot (rules in the module documentation).
    pub fn import(&mut self, data: &[u8], now_ms: u64) -> Result<ImportSummary, SnapshotError> {
        let records = check_header(data)?;
        if self.sessions.live() != 0 {
            return Err(SnapshotError::NotEmpty);
        }
        let mut newest = [0u32; 4];
        for (i, chunk) in records.chunks_exact(SESSION_RECORD).enumerate() {
            let r = SessionRecord::read(chunk);
            let (_, _, class) = check_record(&r).map_err(|field| SnapshotError::Corrupt { record: i as u32, field })?;
            if r.remaining_ms < newest[class as usize] {
                return Err(SnapshotError::Corrupt {
                    record: i as u32,
                    field: "order",
                });
            }
            newest[class as usize] = r.remaining_ms;
        }
        let mut summary = ImportSummary::default();
        for (i, chunk) in records.chunks_exact(SESSION_RECORD).enumerate() {
            let r = SessionRecord::read(chunk);
            let kind = check_record(&r).map_err(|field| SnapshotError::Corrupt { record: i as u32, field })?;
            match self.restore(&r, kind, now_ms) {
                Ok(true) => summary.sessions += 1,
                Ok(false) => summary.skipped += 1,
                Err(Contradiction) => {
                    self.drop_all_sessions();
                    return Err(SnapshotError::Inconsistent { record: i as u32 });
                }
            }
        }
        Ok(summary)
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
            self.insert_session(b, remote4, r.rport, state, class, stamp(now_ms).wrapping_sub(elapsed))
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

    /// Removes every session (and with them every dynamic BIB entry and host).
    fn drop_all_sessions(&mut self) {
        for s in 0..self.sessions.capacity() {
            if self.sessions.get(s).is_live() {
                self.remove_session(s);
            }
        }
    }
}

/// The records of a snapshot whose header, length and checksum are right.
fn check_header(data: &[u8]) -> Result<&[u8], SnapshotError> {
    if data.len() < HEADER {
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
    let count = word(16) as u64;
    if (data.len() - HEADER) as u64 != count * SESSION_RECORD as u64 {
        return Err(SnapshotError::LengthMismatch);
    }
    let mut sum = [0u8; 8];
    sum.copy_from_slice(&data[24..32]);
    let records = &data[HEADER..];
    if fnv1a(records) != u64::from_le_bytes(sum) {
        return Err(SnapshotError::Checksum);
    }
    Ok(records)
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

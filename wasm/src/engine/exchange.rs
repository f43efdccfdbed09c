//! The host's side door to the stateful NAT64 tables, through the state buffer:
//! snapshots in pieces (save on stop and at checkpoints, restore at start), listing
//! pages for `nat64 sessions` and `nat64 bib`, and the benchmark fill. Each call
//! returns a negative number on failure with the reason at `nat64_error`.

use super::{publish, tables, Engine};
use crate::counters::Counters;
use crate::nat64::{
    records::{BIB_RECORD, SESSION_RECORD},
    snapshot::HEADER,
    Exporter, Importer, ListFilter, Page, Proto, SnapshotError,
};

/// Bytes of a listing page header in the state buffer: records, next cursor, total.
pub const PAGE_HEADER: usize = 16;
/// The cursor of a listing that is complete.
pub const NO_MORE: u32 = u32::MAX;

impl Engine {
    /// Records a snapshot error and returns -1.
    fn snapshot_failed(&mut self, e: SnapshotError) -> i32 {
        self.set_error(format_args!("{}", e));
        -1
    }

    fn no_tables(&mut self) -> i32 {
        self.set_error(format_args!("no stateful NAT64 tables: nat64_init was given a session capacity of 0"));
        -1
    }

    /// Starts a snapshot at `now_ms`: writes its header into the state buffer and
    /// returns the snapshot's length (under 2^31 bytes: 40 per session); -1 without
    /// tables.
    pub fn export_begin(&mut self, now_ms: f64) -> i32 {
        let (a, nat) = match (self.arena, tables(self.nat64)) {
            (Some(a), Some(n)) => (a, n),
            _ => return self.no_tables(),
        };
        let ex = Exporter::new(nat, now_ms as u64);
        ex.header(&mut a.state_buffer()[..HEADER]);
        let len = ex.len();
        self.exporter = Some(ex);
        len as i32
    }

    /// Writes the next records of the snapshot into the state buffer; returns their
    /// bytes, 0 once all are written, -1 when no snapshot is in progress (none was
    /// begun, or a call that changes the tables came in between).
    pub fn export_next(&mut self) -> i32 {
        match (self.arena, tables(self.nat64), self.exporter.as_mut()) {
            (Some(a), Some(nat), Some(ex)) => ex.records(nat, a.state_buffer()) as i32,
            _ => {
                self.set_error(format_args!("no snapshot in progress: nat64_export_begin first, and nothing that changes the tables in between"));
                -1
            }
        }
    }

    /// Starts restoring a snapshot of `len` bytes whose header the host put at the
    /// start of the state buffer.
    pub fn import_begin(&mut self, len: u32) -> i32 {
        let a = match (self.arena, self.nat64.is_some()) {
            (Some(a), true) => a,
            _ => return self.no_tables(),
        };
        match Importer::begin(&a.state_buffer()[..HEADER], len as usize) {
            Ok(im) => {
                self.importer = Some(im);
                0
            }
            Err(e) => self.snapshot_failed(e),
        }
    }

    /// Checks the next `len` bytes of records (whole records) the host put in the
    /// state buffer; nothing changes.
    pub fn import_check(&mut self, len: u32) -> i32 {
        let (a, im) = match (self.arena, self.importer.as_mut()) {
            (Some(a), Some(im)) => (a, im),
            _ => return self.no_import(),
        };
        match im.check(&a.state_buffer()[..(len as usize).min(crate::arena::STATE_CAPACITY)]) {
            Ok(()) => 0,
            Err(e) => {
                self.importer = None;
                self.snapshot_failed(e)
            }
        }
    }

    /// Restores the next `len` bytes of records, once every record was checked, at
    /// `now_ms` on the host's clock. On failure nothing of the snapshot stays.
    pub fn import_apply(&mut self, len: u32, now_ms: f64) -> i32 {
        let (a, im, nat) = match (self.arena, self.importer.as_mut(), tables(self.nat64)) {
            (Some(a), Some(im), Some(nat)) => (a, im, nat),
            _ => return self.no_import(),
        };
        self.exporter = None;
        self.now_ms = now_ms;
        let result = im.apply(nat, &a.state_buffer()[..(len as usize).min(crate::arena::STATE_CAPACITY)], now_ms as u64);
        self.publish_gauges();
        match result {
            Ok(()) => 0,
            Err(e) => {
                self.importer = None;
                self.snapshot_failed(e)
            }
        }
    }

    /// Ends a restore: writes `u32 sessions restored, u32 records skipped` (records the
    /// configuration no longer allows) at the start of the state buffer.
    pub fn import_end(&mut self) -> i32 {
        let (a, im, nat) = match (self.arena, self.importer.take(), tables(self.nat64)) {
            (Some(a), Some(im), Some(nat)) => (a, im, nat),
            _ => return self.no_import(),
        };
        let result = im.finish(nat);
        self.publish_gauges();
        match result {
            Ok(s) => {
                let buf = a.state_buffer();
                buf[0..4].copy_from_slice(&s.sessions.to_le_bytes());
                buf[4..8].copy_from_slice(&s.skipped.to_le_bytes());
                0
            }
            Err(e) => self.snapshot_failed(e),
        }
    }

    fn no_import(&mut self) -> i32 {
        self.set_error(format_args!("no snapshot restore in progress: nat64_import_begin first"));
        -1
    }

    /// Reads the listing filter at the start of the state buffer: `u8 proto` (0 TCP,
    /// 1 UDP, 2 ICMP, 255 any), `u8 address family` (0 none, 4, 6), `u16 most records`
    /// (0: as many as fit), `[16] address` (IPv4 in the first 4 bytes).
    fn filter(&mut self, buf: &[u8]) -> Result<(ListFilter, usize), i32> {
        let proto = match buf[0] {
            255 => None,
            p => match Proto::from_u8(p) {
                Some(p) => Some(p),
                None => {
                    self.set_error(format_args!("listing filter: protocol {} is not 0, 1, 2 or 255", p));
                    return Err(-1);
                }
            },
        };
        let mut f = ListFilter { proto, ..ListFilter::default() };
        match buf[1] {
            0 => {}
            4 => f.addr4 = Some([buf[4], buf[5], buf[6], buf[7]]),
            6 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(&buf[4..20]);
                f.addr6 = Some(a);
            }
            k => {
                self.set_error(format_args!("listing filter: address family {} is not 0, 4 or 6", k));
                return Err(-1);
            }
        }
        Ok((f, u16::from_le_bytes([buf[2], buf[3]]) as usize))
    }

    /// One page of sessions matching the filter in the state buffer, from `cursor` (0
    /// at first), with their remaining lifetime at `now_ms`: the buffer then holds
    /// `u32 records, u32 next cursor (NO_MORE at the end), u32 total matching, u32 0`
    /// and the 40-byte session records. Returns the records, or -1.
    pub fn list_sessions(&mut self, cursor: u32, now_ms: f64) -> i32 {
        self.list(cursor, SESSION_RECORD, |nat, f, c, out| (nat.list_sessions(f, c, out, now_ms as u64), nat.count_sessions(f)))
    }

    /// One page of BIB entries, as [`Engine::list_sessions`] with 32-byte records.
    pub fn list_bib(&mut self, cursor: u32) -> i32 {
        self.list(cursor, BIB_RECORD, |nat, f, c, out| (nat.list_bib(f, c, out), nat.count_bib(f)))
    }

    fn list(&mut self, cursor: u32, record: usize, page: impl Fn(&crate::nat64::Nat64, &ListFilter, u32, &mut [u8]) -> (Page, u32)) -> i32 {
        let a = match (self.arena, self.nat64.is_some()) {
            (Some(a), true) => a,
            _ => return self.no_tables(),
        };
        let buf = a.state_buffer();
        let (filter, most) = match self.filter(buf) {
            Ok(f) => f,
            Err(e) => return e,
        };
        let fit = (buf.len() - PAGE_HEADER) / record;
        let n = if most == 0 { fit } else { most.min(fit) };
        let nat = match tables(self.nat64) {
            Some(n) => n,
            None => return -1,
        };
        let (p, total) = page(nat, &filter, cursor, &mut buf[PAGE_HEADER..PAGE_HEADER + n * record]);
        buf[0..4].copy_from_slice(&p.records.to_le_bytes());
        buf[4..8].copy_from_slice(&p.next.unwrap_or(NO_MORE).to_le_bytes());
        buf[8..12].copy_from_slice(&total.to_le_bytes());
        buf[12..16].fill(0);
        p.records as i32
    }

    /// Creates `count` synthetic UDP sessions over `hosts` IPv6 hosts at `now_ms`, for
    /// the benchmark (see `crate::nat64::synthetic_flow`); returns how many it made.
    pub fn fill(&mut self, count: u32, hosts: u32, now_ms: f64) -> u32 {
        let (a, nat) = match (self.arena, tables(self.nat64)) {
            (Some(a), Some(n)) => (a, n),
            _ => return 0,
        };
        self.exporter = None;
        self.now_ms = now_ms;
        let created = nat.fill_udp(count, hosts, now_ms as u64).created;
        publish(&mut Counters::new(a.regions().counters), nat);
        created
    }
}

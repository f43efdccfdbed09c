//! Listing sessions and BIB entries page by page into a caller buffer of fixed records
//! ([`super::records`]), for the `sessions` and `bib` commands.
//!
//! The cursor is a slot number: a listing starts at cursor 0 and continues from the
//! [`Page::next`] it got back, until `next` is `None`. Entries created or removed
//! between pages may be missed or shown once more; nothing is ever shown twice within a
//! page.

use super::records::{write_bib, SessionRecord, BIB_RECORD, SESSION_RECORD};
use super::state::Nat64;
use super::timeouts::age;
use super::types::{v4_to_u32, Addr4, Addr6, Proto};

/// Which entries to list; `None` fields match everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ListFilter {
    /// Only this protocol.
    pub proto: Option<Proto>,
    /// Only this IPv6 host (X').
    pub addr6: Option<Addr6>,
    /// Only entries with this IPv4 address, as pool4 address (X) or, for sessions, as
    /// remote address (Y).
    pub addr4: Option<Addr4>,
}

/// One page of a listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    /// Records written at the start of the buffer.
    pub records: u32,
    /// The cursor of the next page, `None` when the listing is complete.
    pub next: Option<u32>,
}

impl ListFilter {
    fn matches(&self, proto: u8, addr6: &Addr6, addr4: u32, remote4: Option<u32>) -> bool {
        self.proto.map_or(true, |p| p as u8 == proto)
            && self.addr6.map_or(true, |a| a == *addr6)
            && self.addr4.map_or(true, |a| {
                let a = v4_to_u32(a);
                a == addr4 || remote4 == Some(a)
            })
    }
}

impl<'a> Nat64<'a> {
    /// Sessions matching `filter`: O(1) without an address, a scan of the table with one.
    pub fn count_sessions(&self, filter: &ListFilter) -> u32 {
        if filter.addr6.is_none() && filter.addr4.is_none() {
            let g = self.gauges();
            return filter.proto.map_or(g.sessions.iter().sum(), |p| g.sessions[p.index()]);
        }
        (0..self.sessions.capacity())
            .filter(|&s| {
                let e = self.sessions.get(s);
                e.is_live() && {
                    let b = self.bib.get(e.bib);
                    filter.matches(b.proto_number(), &b.addr6, b.addr4, Some(e.remote4))
                }
            })
            .count() as u32
    }

    /// BIB entries matching `filter`: O(1) without an address, a scan with one.
    pub fn count_bib(&self, filter: &ListFilter) -> u32 {
        if filter.addr6.is_none() && filter.addr4.is_none() {
            let g = self.gauges();
            return filter.proto.map_or(g.bib.iter().sum(), |p| g.bib[p.index()]);
        }
        (0..self.bib.capacity())
            .filter(|&i| {
                let b = self.bib.get(i);
                b.protocol().is_some() && filter.matches(b.proto_number(), &b.addr6, b.addr4, None)
            })
            .count() as u32
    }

    /// Writes the sessions matching `filter` from slot `cursor` on, as many as fit in
    /// `out`, with their remaining lifetime at `now_ms`.
    pub fn list_sessions(&self, filter: &ListFilter, cursor: u32, out: &mut [u8], now_ms: u64) -> Page {
        let room = out.len() / SESSION_RECORD;
        let mut written = 0usize;
        for s in cursor..self.sessions.capacity() {
            let e = self.sessions.get(s);
            if !e.is_live() {
                continue;
            }
            let b = self.bib.get(e.bib);
            if !filter.matches(b.proto_number(), &b.addr6, b.addr4, Some(e.remote4)) {
                continue;
            }
            if written == room {
                return Page {
                    records: written as u32,
                    next: Some(s),
                };
            }
            let lifetime = self.settings.timeouts.of(e.timeout_class());
            let remaining = lifetime.saturating_sub(age(now_ms, e.last));
            SessionRecord::of(b, e, remaining).write(&mut out[written * SESSION_RECORD..(written + 1) * SESSION_RECORD]);
            written += 1;
        }
        Page {
            records: written as u32,
            next: None,
        }
    }

    /// Writes the BIB entries matching `filter` from slot `cursor` on, as many as fit in
    /// `out`.
    pub fn list_bib(&self, filter: &ListFilter, cursor: u32, out: &mut [u8]) -> Page {
        let room = out.len() / BIB_RECORD;
        let mut written = 0usize;
        for i in cursor..self.bib.capacity() {
            let b = self.bib.get(i);
            if b.protocol().is_none() || !filter.matches(b.proto_number(), &b.addr6, b.addr4, None) {
                continue;
            }
            if written == room {
                return Page {
                    records: written as u32,
                    next: Some(i),
                };
            }
            write_bib(b, &mut out[written * BIB_RECORD..(written + 1) * BIB_RECORD]);
            written += 1;
        }
        Page {
            records: written as u32,
            next: None,
        }
    }
}

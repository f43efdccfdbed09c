//! The session tables of RFC 6146 §3.2, for all protocols in one array.
//!
//! A session belongs to a BIB entry (which gives X', x', X, x and the protocol) and adds
//! the remote IPv4 transport address (Y, y); the remote IPv6 address Y' is Y inside
//! pool6 and is not stored. ICMP sessions have y = 0. Indexes:
//! - `exact`: (BIB, Y, y) → session; both translation directions find the BIB entry
//!   first and then the session, so this one index serves both;
//! - `by_addr`: (BIB, Y), for address-dependent filtering ("is there any session of this
//!   BIB entry with this remote address?"). A negative answer only walks colliding
//!   entries, so it stays O(1) however many sessions share (BIB, Y).
//!
//! Every session is in the expiry queue of its [`TimeoutClass`], ordered by the time
//! it was last moved there (`queued`); activity moves it at most once per
//! [`RELINK_MS`], so its last activity (`last`) is less than that after `queued`.

use super::carve::{Carver, InitError, Plain};
use super::chain::{ChainIndex, FreeList, NIL};
use super::queue::Queues;
use super::siphash::{domain, SipKey};
use super::tcp::TcpState;
use super::timeouts::{age, is_expired, stamp, TimeoutClass, RELINK_MS, SESSION_CLASSES};

/// `bits` of a session: the lag of `last` behind `queued` (11 bits, under
/// [`RELINK_MS`] ≤ 2047 ms), the TCP state (3 bits) and the timeout class (2 bits).
const LAG_BITS: u16 = 0x7ff;
const STATE_SHIFT: u16 = 11;
const CLASS_SHIFT: u16 = 14;

/// One session. 16 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionEntry {
    /// Its BIB entry, or NIL for a free slot.
    pub bib: u32,
    /// Y, host order.
    pub remote4: u32,
    /// Last activity, a [`stamp`]: what the lifetime runs from.
    pub last: u32,
    /// y (0 for ICMP).
    pub rport: u16,
    bits: u16,
}

// SAFETY: integers only.
unsafe impl Plain for SessionEntry {}

impl SessionEntry {
    fn new(bib: u32, remote4: u32, rport: u16, state: TcpState, class: TimeoutClass, last: u32) -> Self {
        SessionEntry { bib, remote4, last, rport, bits: (state as u16) << STATE_SHIFT | (class as u16) << CLASS_SHIFT }
    }

    /// The TCP state (`Closed` for UDP and ICMP sessions).
    #[inline]
    pub fn tcp_state(&self) -> TcpState {
        TcpState::from_u8((self.bits >> STATE_SHIFT & 0x7) as u8).unwrap_or(TcpState::Closed)
    }

    /// The timeout class.
    #[inline]
    pub fn timeout_class(&self) -> TimeoutClass {
        TimeoutClass::from_u8((self.bits >> CLASS_SHIFT) as u8).unwrap_or(TimeoutClass::Udp)
    }

    /// When the session was last moved to its queue's tail, a [`stamp`]: the queue's
    /// order. `last` is less than [`RELINK_MS`] later.
    #[inline]
    pub fn queued(&self) -> u32 {
        self.last.wrapping_sub((self.bits & LAG_BITS) as u32)
    }

    /// Whether the slot holds a session.
    #[inline]
    pub fn is_live(&self) -> bool {
        self.bib != NIL
    }
}

/// All sessions.
pub struct SessionTable<'a> {
    entries: &'a mut [SessionEntry],
    exact: ChainIndex<'a>,
    by_addr: ChainIndex<'a>,
    queues: Queues<'a, SESSION_CLASSES>,
    free: FreeList,
    live: u32,
    key: SipKey,
    key_addr: SipKey,
}

impl<'a> SessionTable<'a> {
    /// Carves an empty table of `capacity` sessions.
    pub fn carve(c: &mut Carver<'a>, capacity: usize, key: &SipKey) -> Result<Self, InitError> {
        let mut t = SessionTable {
            entries: c.take::<SessionEntry>(capacity)?,
            exact: ChainIndex::carve(c, capacity)?,
            by_addr: ChainIndex::carve(c, capacity)?,
            queues: Queues::carve(c, capacity)?,
            free: FreeList::EMPTY,
            live: 0,
            key: key.derive(domain::SESSION),
            key_addr: key.derive(domain::SESSION_ADDR),
        };
        t.clear();
        Ok(t)
    }

    /// Removes every session.
    pub fn clear(&mut self) {
        for e in self.entries.iter_mut() {
            e.bib = NIL;
        }
        self.exact.clear();
        self.by_addr.clear();
        self.queues.clear();
        let n = self.entries.len();
        self.free = FreeList::full(self.exact.links(), n);
        self.live = 0;
    }

    #[inline]
    fn hash(&self, bib: u32, remote4: u32, rport: u16) -> u64 {
        self.key.hash(&[((bib as u64) << 32) | remote4 as u64, rport as u64])
    }

    #[inline]
    fn hash_addr(&self, bib: u32, remote4: u32) -> u64 {
        self.key_addr.hash(&[((bib as u64) << 32) | remote4 as u64])
    }

    /// The session of BIB entry `bib` with (Y, y).
    #[inline]
    pub fn find(&self, bib: u32, remote4: u32, rport: u16) -> Option<u32> {
        let entries = &self.entries;
        self.exact.find(self.hash(bib, remote4, rport), |i| {
            let e = &entries[i as usize];
            e.bib == bib && e.remote4 == remote4 && e.rport == rport
        })
    }

    /// Whether BIB entry `bib` has a session with remote address Y.
    #[inline]
    pub fn any_with_addr(&self, bib: u32, remote4: u32) -> bool {
        let entries = &self.entries;
        self.by_addr
            .find(self.hash_addr(bib, remote4), |i| {
                let e = &entries[i as usize];
                e.bib == bib && e.remote4 == remote4
            })
            .is_some()
    }

    /// Adds a session last active at `last` (a [`stamp`]) at the tail of its class's
    /// queue; `None` when the table is full. The caller keeps queues ordered by giving
    /// `last` values that do not decrease within a class.
    pub fn insert(&mut self, bib: u32, remote4: u32, rport: u16, state: TcpState, class: TimeoutClass, last: u32) -> Option<u32> {
        let i = self.free.pop(self.exact.links())?;
        self.entries[i as usize] = SessionEntry::new(bib, remote4, rport, state, class, last);
        let h = self.hash(bib, remote4, rport);
        let ha = self.hash_addr(bib, remote4);
        self.exact.insert(h, i);
        self.by_addr.insert(ha, i);
        self.queues.push_tail(class as usize, i);
        self.live += 1;
        Some(i)
    }

    /// Removes session `i`.
    pub fn remove(&mut self, i: u32) {
        let e = self.entries[i as usize];
        if !e.is_live() {
            return;
        }
        let h = self.hash(e.bib, e.remote4, e.rport);
        let ha = self.hash_addr(e.bib, e.remote4);
        self.exact.remove(h, i);
        self.by_addr.remove(ha, i);
        self.queues.remove(e.timeout_class() as usize, i);
        self.entries[i as usize].bib = NIL;
        self.free.push(self.exact.links(), i);
        self.live -= 1;
    }

    /// Records activity now: the session restarts its lifetime in `class`. It moves to
    /// the tail of its queue when the class changes or its last move is [`RELINK_MS`]
    /// old; otherwise only its time stamp changes.
    #[inline]
    pub fn touch(&mut self, i: u32, class: TimeoutClass, now_ms: u64) {
        let e = &mut self.entries[i as usize];
        let from = e.timeout_class() as usize;
        let lag = age(now_ms, e.queued());
        let relink = from != class as usize || lag >= RELINK_MS;
        let lag = if relink { 0 } else { lag as u16 };
        e.last = stamp(now_ms);
        e.bits = e.bits & !(LAG_BITS | 0x3 << CLASS_SHIFT) | lag | (class as u16) << CLASS_SHIFT;
        if relink {
            self.queues.move_to_tail(from, class as usize, i);
        }
    }

    /// Sets the TCP state of session `i`.
    #[inline]
    pub fn set_state(&mut self, i: u32, state: TcpState) {
        let e = &mut self.entries[i as usize];
        e.bits = e.bits & !(0x7 << STATE_SHIFT) | (state as u16) << STATE_SHIFT;
    }

    /// The head of `class`'s queue if it has outlived `lifetime_ms`. A head that has
    /// not ends the search: every session behind it was moved there later, so it can
    /// have outlived its lifetime by less than [`RELINK_MS`] only.
    #[inline]
    pub fn expired_head(&self, class: TimeoutClass, now_ms: u64, lifetime_ms: u32) -> Option<u32> {
        let i = self.queues.head(class as usize)?;
        if is_expired(now_ms, self.entries[i as usize].last, lifetime_ms) {
            Some(i)
        } else {
            None
        }
    }

    /// The oldest session of `class`.
    pub fn oldest(&self, class: TimeoutClass) -> Option<u32> {
        self.queues.head(class as usize)
    }

    /// The session after `i` in its queue (next older-to-newer).
    pub fn newer(&self, i: u32) -> Option<u32> {
        self.queues.after(i)
    }

    /// Session `i`.
    #[inline]
    pub fn get(&self, i: u32) -> &SessionEntry {
        &self.entries[i as usize]
    }

    /// Live sessions.
    pub fn live(&self) -> u32 {
        self.live
    }

    /// Sessions in `class`'s queue.
    pub fn queued(&self, class: TimeoutClass) -> u32 {
        self.queues.len(class as usize)
    }

    /// Slots, live or free: valid session numbers are `0..capacity()`.
    pub fn capacity(&self) -> u32 {
        self.entries.len() as u32
    }

    /// Chain statistics of both indexes (see [`ChainIndex::chain_stats`]).
    #[cfg(test)]
    pub fn chain_stats(&self) -> [(usize, usize); 2] {
        [self.exact.chain_stats(), self.by_addr.chain_stats()]
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_region::Region;
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn churn_agrees_with_a_hashmap_and_queues_stay_ordered() {
        let cap = 1 << 15;
        let key = SipKey::from_seed(&[4; 16]);
        let mut region = Region::for_layout(|c| SessionTable::carve(c, cap, &key).map(|_| ()));
        let mut c = region.carver();
        let mut t = SessionTable::carve(&mut c, cap, &key).unwrap();
        let mut model: HashMap<(u32, u32, u16), u32> = HashMap::new();
        let mut x = 77u64;
        for now in 0..1_000_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let bib = (x >> 60) as u32;
            let remote4 = 0xc633_6400 | ((x >> 50) as u32 & 0xff);
            let rport = (x >> 35) as u16 & 0x3ff;
            let class = TimeoutClass::ALL[(x >> 20) as usize % SESSION_CLASSES];
            match model.get(&(bib, remote4, rport)).copied() {
                Some(i) if (x >> 10) % 2 == 0 => {
                    t.remove(i);
                    model.remove(&(bib, remote4, rport));
                }
                Some(i) => t.touch(i, class, now),
                None => {
                    if let Some(i) = t.insert(bib, remote4, rport, TcpState::Closed, class, stamp(now)) {
                        model.insert((bib, remote4, rport), i);
                    }
                }
            }
            assert_eq!(t.find(bib, remote4, rport), model.get(&(bib, remote4, rport)).copied());
            if now % 4096 == 0 {
                let any = model.keys().any(|&(b, r, _)| b == bib && r == remote4);
                assert_eq!(t.any_with_addr(bib, remote4), any);
            }
        }
        assert_eq!(t.live() as usize, model.len());
        let mut queued = 0;
        for class in TimeoutClass::ALL {
            let mut last = 0u32;
            let mut cur = t.oldest(class);
            while let Some(i) = cur {
                let e = t.get(i);
                assert_eq!(e.timeout_class(), class);
                assert!(e.queued() >= last, "queue {:?} out of order", class);
                assert!(e.last >= e.queued() && e.last - e.queued() < RELINK_MS);
                last = e.queued();
                queued += 1;
                cur = t.newer(i);
            }
            assert_eq!(t.queued(class), {
                let mut n = 0;
                let mut cur = t.oldest(class);
                while let Some(i) = cur {
                    n += 1;
                    cur = t.newer(i);
                }
                n
            });
        }
        assert_eq!(queued, model.len());
    }

    #[test]
    fn expired_head_only_reports_outlived_heads() {
        let key = SipKey::from_seed(&[5; 16]);
        let mut region = Region::for_layout(|c| SessionTable::carve(c, 8, &key).map(|_| ()));
        let mut c = region.carver();
        let mut t = SessionTable::carve(&mut c, 8, &key).unwrap();
        let a = t.insert(0, 1, 1, TcpState::Closed, TimeoutClass::Udp, stamp(1_000)).unwrap();
        let b = t.insert(0, 1, 2, TcpState::Closed, TimeoutClass::Udp, stamp(2_000)).unwrap();
        assert_eq!(t.expired_head(TimeoutClass::Udp, 1_999, 1_000), None);
        assert_eq!(t.expired_head(TimeoutClass::Udp, 2_000, 1_000), Some(a));
        t.touch(a, TimeoutClass::Udp, 2_500);
        assert_eq!(t.expired_head(TimeoutClass::Udp, 3_000, 1_000), Some(b));
        assert_eq!(t.expired_head(TimeoutClass::Icmp, 1 << 40, 1), None);
    }

    #[test]
    fn activity_within_relink_ms_only_stamps_the_session() {
        let key = SipKey::from_seed(&[5; 16]);
        let mut region = Region::for_layout(|c| SessionTable::carve(c, 8, &key).map(|_| ()));
        let mut c = region.carver();
        let mut t = SessionTable::carve(&mut c, 8, &key).unwrap();
        let a = t.insert(0, 1, 1, TcpState::Closed, TimeoutClass::Udp, stamp(1_000)).unwrap();
        let b = t.insert(0, 1, 2, TcpState::Closed, TimeoutClass::Udp, stamp(1_100)).unwrap();
        t.touch(a, TimeoutClass::Udp, 1_900);
        assert_eq!((t.oldest(TimeoutClass::Udp), t.get(a).last), (Some(a), stamp(1_900)), "not moved, stamped");
        // b outlived a 1 s lifetime at 2 100 but waits behind a, which has not: less than
        // RELINK_MS late, never early.
        assert_eq!(t.expired_head(TimeoutClass::Udp, 2_100, 1_000), None);
        assert_eq!(t.expired_head(TimeoutClass::Udp, 2_900, 1_000), Some(a));
        t.remove(a);
        assert_eq!(t.expired_head(TimeoutClass::Udp, 2_900, 1_000), Some(b));
        t.touch(b, TimeoutClass::Icmp, 2_950);
        assert_eq!((t.queued(TimeoutClass::Udp), t.queued(TimeoutClass::Icmp)), (0, 1), "a class change moves at once");
        t.touch(b, TimeoutClass::Icmp, 3_950);
        assert_eq!(t.get(b).queued(), stamp(3_950), "a second on, activity moves it again");
    }
}

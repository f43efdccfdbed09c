//! The Binding Information Bases of RFC 6146 §3.1, one logical BIB per protocol in one
//! array: an entry binds the IPv6 transport address (X', x') to the IPv4 transport
//! address (X, x). Two chained hash indexes give O(1) lookup from either side; the
//! protocol is part of both keys.

use super::carve::{Carver, InitError, Plain};
use super::chain::{ChainIndex, FreeList, NIL};
use super::siphash::{domain, SipKey};
use super::types::{v6_words, Addr6, Proto};

/// Flag: a static entry from the configuration (never expires).
pub const STATIC: u8 = 1;
/// Flag: the IPv4 port was taken from the pool4 bitmap and goes back to it on removal.
pub const POOLED: u8 = 2;
/// Flag: scheduled for removal during reconfiguration.
pub const DOOMED: u8 = 4;
/// Flag: a static entry the new configuration keeps.
pub const KEPT: u8 = 8;

/// `meta` bits: the protocol (2 bits, [`FREE`] for a free slot), the flags (5 bits),
/// the live sessions (25 bits: the session capacity is at most 2^24).
const PROTO_BITS: u32 = 0b11;
const FREE: u32 = 0b11;
const FLAGS_SHIFT: u32 = 2;
const FLAGS_MASK: u32 = 0x1f << FLAGS_SHIFT;
const SESSIONS_SHIFT: u32 = 7;

/// One binding. 32 bytes: the protocol, flags and session count share one word, so
/// that the session hint fits.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BibEntry {
    /// X'.
    pub addr6: Addr6,
    /// x'.
    pub port6: u16,
    /// x.
    pub port4: u16,
    /// X, host order.
    pub addr4: u32,
    meta: u32,
    /// The session last found through this entry (a hint: it may have gone or been
    /// reused since, so users check it). Most bindings carry one flow, so the packet
    /// path finds its session here without a second index lookup.
    pub recent: u32,
}

// SAFETY: integers and integer arrays only.
unsafe impl Plain for BibEntry {}

impl BibEntry {
    /// A new entry with no sessions.
    pub fn new(proto: Proto, addr6: Addr6, port6: u16, addr4: u32, port4: u16, flags: u8) -> Self {
        BibEntry {
            addr6,
            port6,
            port4,
            addr4,
            meta: proto as u32 | ((flags as u32) << FLAGS_SHIFT & FLAGS_MASK),
            recent: NIL,
        }
    }

    /// The entry's protocol, `None` for a free slot.
    #[inline]
    pub fn protocol(&self) -> Option<Proto> {
        Proto::from_u8((self.meta & PROTO_BITS) as u8)
    }

    /// The protocol number of a live entry (0 TCP, 1 UDP, 2 ICMP).
    #[inline]
    pub fn proto_number(&self) -> u8 {
        (self.meta & PROTO_BITS) as u8
    }

    /// [`STATIC`], [`POOLED`], [`DOOMED`], [`KEPT`].
    #[inline]
    pub fn flags(&self) -> u8 {
        ((self.meta & FLAGS_MASK) >> FLAGS_SHIFT) as u8
    }

    /// Sets the flags in `f`.
    #[inline]
    pub fn set_flags(&mut self, f: u8) {
        self.meta |= (f as u32) << FLAGS_SHIFT & FLAGS_MASK;
    }

    /// Clears the flags in `f`.
    #[inline]
    pub fn clear_flags(&mut self, f: u8) {
        self.meta &= !((f as u32) << FLAGS_SHIFT & FLAGS_MASK);
    }

    /// Live sessions using this entry.
    #[inline]
    pub fn sessions(&self) -> u32 {
        self.meta >> SESSIONS_SHIFT
    }

    /// One more session uses this entry.
    #[inline]
    pub fn add_session(&mut self) {
        self.meta += 1 << SESSIONS_SHIFT;
    }

    /// One session less uses this entry.
    #[inline]
    pub fn drop_session(&mut self) {
        self.meta -= 1 << SESSIONS_SHIFT;
    }

    /// Whether the entry came from the configuration.
    #[inline]
    pub fn is_static(&self) -> bool {
        self.flags() & STATIC != 0
    }
}

/// All BIB entries, by IPv6 and by IPv4 transport address.
pub struct BibTable<'a> {
    entries: &'a mut [BibEntry],
    by6: ChainIndex<'a>,
    by4: ChainIndex<'a>,
    free: FreeList,
    live: u32,
    live_by_proto: [u32; 3],
    key6: SipKey,
    key4: SipKey,
}

impl<'a> BibTable<'a> {
    /// Carves an empty table of `capacity` entries.
    pub fn carve(c: &mut Carver<'a>, capacity: usize, key: &SipKey) -> Result<Self, InitError> {
        let mut t = BibTable {
            entries: c.take::<BibEntry>(capacity)?,
            by6: ChainIndex::carve(c, capacity)?,
            by4: ChainIndex::carve(c, capacity)?,
            free: FreeList::EMPTY,
            live: 0,
            live_by_proto: [0; 3],
            key6: key.derive(domain::BIB6),
            key4: key.derive(domain::BIB4),
        };
        t.clear();
        Ok(t)
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        for e in self.entries.iter_mut() {
            e.meta = FREE;
        }
        self.by6.clear();
        self.by4.clear();
        let n = self.entries.len();
        self.free = FreeList::full(self.by6.links(), n);
        self.live = 0;
        self.live_by_proto = [0; 3];
    }

    #[inline]
    fn hash6(&self, proto: Proto, addr6: &Addr6, port6: u16) -> u64 {
        let [hi, lo] = v6_words(addr6);
        self.key6.hash(&[hi, lo, ((proto as u64) << 16) | port6 as u64])
    }

    #[inline]
    fn hash4(&self, proto: Proto, addr4: u32, port4: u16) -> u64 {
        self.key4
            .hash(&[((addr4 as u64) << 32) | ((proto as u64) << 16) | port4 as u64])
    }

    /// The entry for (X', x').
    #[inline]
    pub fn find6(&self, proto: Proto, addr6: &Addr6, port6: u16) -> Option<u32> {
        let entries = &self.entries;
        self.by6.find(self.hash6(proto, addr6, port6), |i| {
            let e = &entries[i as usize];
            e.port6 == port6 && e.meta & PROTO_BITS == proto as u32 && e.addr6 == *addr6
        })
    }

    /// The entry for (X, x), X in host order.
    #[inline]
    pub fn find4(&self, proto: Proto, addr4: u32, port4: u16) -> Option<u32> {
        let entries = &self.entries;
        self.by4.find(self.hash4(proto, addr4, port4), |i| {
            let e = &entries[i as usize];
            e.port4 == port4 && e.addr4 == addr4 && e.meta & PROTO_BITS == proto as u32
        })
    }

    /// Adds `entry`, whose keys are not in use on either side (the caller checked).
    /// `None` when the table is full.
    pub fn insert(&mut self, entry: BibEntry) -> Option<u32> {
        let proto = entry.protocol()?;
        let i = self.free.pop(self.by6.links())?;
        self.entries[i as usize] = entry;
        let h6 = self.hash6(proto, &entry.addr6, entry.port6);
        let h4 = self.hash4(proto, entry.addr4, entry.port4);
        self.by6.insert(h6, i);
        self.by4.insert(h4, i);
        self.live += 1;
        self.live_by_proto[proto.index()] += 1;
        Some(i)
    }

    /// Removes entry `i`.
    pub fn remove(&mut self, i: u32) {
        let e = self.entries[i as usize];
        if let Some(proto) = e.protocol() {
            let h6 = self.hash6(proto, &e.addr6, e.port6);
            let h4 = self.hash4(proto, e.addr4, e.port4);
            self.by6.remove(h6, i);
            self.by4.remove(h4, i);
            self.entries[i as usize].meta = FREE;
            self.free.push(self.by6.links(), i);
            self.live -= 1;
            self.live_by_proto[proto.index()] -= 1;
        }
    }

    /// Entry `i`.
    #[inline]
    pub fn get(&self, i: u32) -> &BibEntry {
        &self.entries[i as usize]
    }

    /// Entry `i`, to update its session count or flags (never its keys).
    #[inline]
    pub fn get_mut(&mut self, i: u32) -> &mut BibEntry {
        &mut self.entries[i as usize]
    }

    /// Live entries.
    pub fn live(&self) -> u32 {
        self.live
    }

    /// Live entries of `proto`.
    pub fn live_of(&self, proto: Proto) -> u32 {
        self.live_by_proto[proto.index()]
    }

    /// Slots, live or free: valid entry numbers are `0..capacity()`.
    pub fn capacity(&self) -> u32 {
        self.entries.len() as u32
    }

    /// Chain statistics of both indexes (see [`ChainIndex::chain_stats`]).
    #[cfg(test)]
    pub fn chain_stats(&self) -> [(usize, usize); 2] {
        [self.by6.chain_stats(), self.by4.chain_stats()]
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_region::Region;
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn one_million_random_inserts_and_deletes_agree_with_a_hashmap() {
        let cap = 1 << 16;
        let key = SipKey::from_seed(&[3; 16]);
        let mut region = Region::for_layout(|c| BibTable::carve(c, cap, &key).map(|_| ()));
        let mut c = region.carver();
        let mut t = BibTable::carve(&mut c, cap, &key).unwrap();
        let mut by6: HashMap<(u8, Addr6, u16), u32> = HashMap::new();
        let mut by4: HashMap<(u8, u32, u16), u32> = HashMap::new();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        for step in 0..1_000_000u32 {
            let r = next();
            let proto = Proto::ALL[(r % 3) as usize];
            let mut addr6 = [0u8; 16];
            addr6[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
            addr6[15] = (r >> 8) as u8 & 0x3f;
            let port6 = (r >> 16) as u16 & 0x7ff;
            let k6 = (proto as u8, addr6, port6);
            if let Some(&i) = by6.get(&k6) {
                let e = *t.get(i);
                t.remove(i);
                by6.remove(&k6);
                by4.remove(&(e.proto_number(), e.addr4, e.port4));
            } else {
                let addr4 = 0xc000_0200 | ((r >> 32) as u32 & 0x3);
                let port4 = (r >> 40) as u16;
                if by4.contains_key(&(proto as u8, addr4, port4)) {
                    continue;
                }
                if let Some(i) = t.insert(BibEntry::new(proto, addr6, port6, addr4, port4, 0)) {
                    by6.insert(k6, i);
                    by4.insert((proto as u8, addr4, port4), i);
                }
            }
            if step % 1000 == 0 {
                assert_eq!(t.live() as usize, by6.len());
                for (&(p, a6, p6), &i) in by6.iter().take(50) {
                    let proto = Proto::from_u8(p).unwrap();
                    assert_eq!(t.find6(proto, &a6, p6), Some(i));
                    let e = t.get(i);
                    assert_eq!(t.find4(proto, e.addr4, e.port4), Some(i));
                }
            }
            let probe = next();
            let proto = Proto::ALL[(probe % 3) as usize];
            let mut a6 = [0u8; 16];
            a6[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
            a6[15] = (probe >> 8) as u8 & 0x3f;
            let p6 = (probe >> 16) as u16 & 0x7ff;
            assert_eq!(t.find6(proto, &a6, p6), by6.get(&(proto as u8, a6, p6)).copied());
            let a4 = 0xc000_0200 | ((probe >> 32) as u32 & 0x3);
            let p4 = (probe >> 40) as u16;
            assert_eq!(t.find4(proto, a4, p4), by4.get(&(proto as u8, a4, p4)).copied());
        }
        let live: Vec<u32> = by6.values().copied().collect();
        for i in live {
            t.remove(i);
        }
        assert_eq!(t.live(), 0);
        assert_eq!(t.chain_stats(), [(0, 0), (0, 0)]);
    }
}

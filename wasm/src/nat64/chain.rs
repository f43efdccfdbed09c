//! Index-chained hash index over fixed arrays, and the free lists of the tables.
//!
//! A [`ChainIndex`] maps a 64-bit keyed hash to entry numbers: `heads[bucket]` is the
//! first entry of the bucket's chain, `next[entry]` the following one. Entries live in
//! the owning table; the index stores only `u32` links, so one table can have several
//! indexes over the same entries. Deletion unlinks the entry from its chain: there are
//! no tombstones, so lookups never slow down with churn.
//!
//! The bucket count is a power of two: the smallest one not below the capacity when
//! that is at most 10% more buckets than entries, else the largest one below it. A full
//! table has a load factor between 0.9 and 1.8 and the expected chain length stays
//! constant whatever the number of live entries (the cost of a lookup is flat from
//! 10^3 to 10^6); a capacity just under a power of two, like 10^6, gets the lower load
//! rather than nearly 2, for at most 4.4 bytes of buckets per entry.

use super::carve::{Carver, InitError};

/// "No entry": the end of a chain, list or queue.
pub const NIL: u32 = u32::MAX;

/// A chained hash index over entries `0..capacity`.
pub struct ChainIndex<'a> {
    heads: &'a mut [u32],
    next: &'a mut [u32],
}

impl<'a> ChainIndex<'a> {
    /// The number of buckets for `capacity` entries.
    pub fn buckets_for(capacity: usize) -> usize {
        let c = capacity.max(1);
        let up = c.next_power_of_two();
        if up <= c + c / 10 {
            up
        } else {
            up / 2
        }
    }

    /// Carves an index for `capacity` entries and empties it.
    pub fn carve(c: &mut Carver<'a>, capacity: usize) -> Result<Self, InitError> {
        let heads = c.take::<u32>(Self::buckets_for(capacity))?;
        let next = c.take::<u32>(capacity)?;
        let mut index = ChainIndex { heads, next };
        index.clear();
        Ok(index)
    }

    /// Forgets every entry.
    pub fn clear(&mut self) {
        self.heads.fill(NIL);
    }

    #[inline]
    fn bucket(&self, hash: u64) -> usize {
        (hash as usize) & (self.heads.len() - 1)
    }

    /// Links entry `entry` under `hash`.
    #[inline]
    pub fn insert(&mut self, hash: u64, entry: u32) {
        let b = self.bucket(hash);
        self.next[entry as usize] = self.heads[b];
        self.heads[b] = entry;
    }

    /// Unlinks entry `entry`, which was inserted under `hash`. Returns whether it was
    /// found.
    pub fn remove(&mut self, hash: u64, entry: u32) -> bool {
        let b = self.bucket(hash);
        let mut cur = self.heads[b];
        if cur == entry {
            self.heads[b] = self.next[entry as usize];
            return true;
        }
        while cur != NIL {
            let after = self.next[cur as usize];
            if after == entry {
                self.next[cur as usize] = self.next[entry as usize];
                return true;
            }
            cur = after;
        }
        false
    }

    /// The first entry under `hash` for which `matches` holds.
    #[inline]
    pub fn find(&self, hash: u64, mut matches: impl FnMut(u32) -> bool) -> Option<u32> {
        let mut cur = self.heads[self.bucket(hash)];
        while cur != NIL {
            if matches(cur) {
                return Some(cur);
            }
            cur = self.next[cur as usize];
        }
        None
    }

    /// The link array, for a free list over entries that are not in this index.
    pub fn links(&mut self) -> &mut [u32] {
        self.next
    }

    /// Chain length statistics: (longest chain, sum over entries of their position in
    /// their chain, counting from 1) — the latter divided by the entry count is the
    /// average number of entries a successful lookup visits.
    #[cfg(test)]
    pub fn chain_stats(&self) -> (usize, usize) {
        let mut longest = 0;
        let mut visits = 0;
        for &head in self.heads.iter() {
            let mut len = 0;
            let mut cur = head;
            while cur != NIL {
                len += 1;
                visits += len;
                cur = self.next[cur as usize];
            }
            longest = longest.max(len);
        }
        (longest, visits)
    }
}

/// A LIFO list of unused entries, threaded through a link array the entries do not use
/// while they are free (an index's `next` or a queue's `next`).
#[derive(Clone, Copy, Debug)]
pub struct FreeList {
    head: u32,
}

impl FreeList {
    /// A list with no entries.
    pub const EMPTY: FreeList = FreeList { head: NIL };

    /// A list holding entries `0..count`, lowest first.
    pub fn full(links: &mut [u32], count: usize) -> Self {
        for (i, link) in links.iter_mut().enumerate().take(count) {
            *link = if i + 1 < count { (i + 1) as u32 } else { NIL };
        }
        FreeList {
            head: if count == 0 { NIL } else { 0 },
        }
    }

    /// Takes an unused entry.
    #[inline]
    pub fn pop(&mut self, links: &[u32]) -> Option<u32> {
        if self.head == NIL {
            return None;
        }
        let e = self.head;
        self.head = links[e as usize];
        Some(e)
    }

    /// Returns `entry` to the list.
    #[inline]
    pub fn push(&mut self, links: &mut [u32], entry: u32) {
        links[entry as usize] = self.head;
        self.head = entry;
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_region::Region;
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn bucket_count_keeps_load_between_nine_tenths_and_two() {
        for cap in [1usize, 2, 3, 5, 1000, 1024, 1025, 953_300, 953_000, 1_000_000] {
            let b = ChainIndex::buckets_for(cap);
            assert!(b.is_power_of_two());
            let load = cap as f64 / b as f64;
            assert!((0.9..2.0).contains(&load), "cap {} buckets {}", cap, b);
        }
        assert_eq!(ChainIndex::buckets_for(1_000_000), 1 << 20, "10^6 rounds up");
        assert_eq!(ChainIndex::buckets_for(953_000), 1 << 19, "more than 10% over rounds down");
    }

    #[test]
    fn insert_find_remove_under_churn_matches_a_hashmap() {
        let cap = 4096usize;
        let mut region = Region::for_layout(|c| ChainIndex::carve(c, cap).map(|_| ()));
        let mut c = region.carver();
        let mut index = ChainIndex::carve(&mut c, cap).unwrap();
        let mut free = FreeList::full(index.links(), cap);
        let mut keys = vec![0u64; cap];
        let mut model: HashMap<u64, u32> = HashMap::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let key = x % 8192;
            if let Some(&e) = model.get(&key) {
                assert!(index.remove(key.wrapping_mul(0x9e37_79b9), e));
                model.remove(&key);
                free.push(index.links(), e);
            } else if let Some(e) = free.pop(index.links()) {
                keys[e as usize] = key;
                index.insert(key.wrapping_mul(0x9e37_79b9), e);
                model.insert(key, e);
            }
            let probe = (x >> 20) % 8192;
            let found = index.find(probe.wrapping_mul(0x9e37_79b9), |e| keys[e as usize] == probe);
            assert_eq!(found, model.get(&probe).copied());
        }
    }
}

//! Per-IPv6-host state: the paired pool4 address and the counts behind the limits.
//!
//! "Paired" IP address pooling (RFC 4787 REQ-2, required by RFC 6146 §3.5.1.1): while a
//! host has dynamic BIB entries, all of them use one IPv4 address, `paired4`. A host
//! entry exists while the host has dynamic BIB entries or sessions; `paired4` is
//! meaningful only while `bibs > 0`.

use super::carve::{Carver, InitError, Plain};
use super::chain::{ChainIndex, FreeList};
use super::siphash::{domain, SipKey};
use super::types::{v6_words, Addr6};

/// One IPv6 host. 28 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostEntry {
    /// The host's address.
    pub addr6: Addr6,
    /// Its pool4 address (host order) while `bibs > 0`.
    pub paired4: u32,
    /// Dynamic BIB entries of the host.
    pub bibs: u32,
    /// Sessions of the host (of dynamic and static BIB entries).
    pub sessions: u32,
}

// SAFETY: integers and integer arrays only.
unsafe impl Plain for HostEntry {}

/// All hosts with state.
pub struct HostTable<'a> {
    entries: &'a mut [HostEntry],
    index: ChainIndex<'a>,
    free: FreeList,
    live: u32,
    key: SipKey,
}

impl<'a> HostTable<'a> {
    /// Carves an empty table of `capacity` hosts.
    pub fn carve(c: &mut Carver<'a>, capacity: usize, key: &SipKey) -> Result<Self, InitError> {
        let mut t = HostTable {
            entries: c.take::<HostEntry>(capacity)?,
            index: ChainIndex::carve(c, capacity)?,
            free: FreeList::EMPTY,
            live: 0,
            key: key.derive(domain::HOST),
        };
        t.clear();
        Ok(t)
    }

    /// Removes every host.
    pub fn clear(&mut self) {
        self.index.clear();
        let n = self.entries.len();
        self.free = FreeList::full(self.index.links(), n);
        self.live = 0;
    }

    #[inline]
    fn hash(&self, addr6: &Addr6) -> u64 {
        self.key.hash(&v6_words(addr6))
    }

    /// The entry of `addr6`.
    #[inline]
    pub fn find(&self, addr6: &Addr6) -> Option<u32> {
        let entries = &self.entries;
        self.index
            .find(self.hash(addr6), |i| entries[i as usize].addr6 == *addr6)
    }

    /// The entry of `addr6`, created empty if missing; `None` when the table is full.
    pub fn find_or_insert(&mut self, addr6: &Addr6) -> Option<u32> {
        if let Some(i) = self.find(addr6) {
            return Some(i);
        }
        let i = self.free.pop(self.index.links())?;
        self.entries[i as usize] = HostEntry {
            addr6: *addr6,
            paired4: 0,
            bibs: 0,
            sessions: 0,
        };
        let h = self.hash(addr6);
        self.index.insert(h, i);
        self.live += 1;
        Some(i)
    }

    /// Removes host `i` if it has neither dynamic BIB entries nor sessions left.
    pub fn remove_if_idle(&mut self, i: u32) {
        let e = self.entries[i as usize];
        if e.bibs == 0 && e.sessions == 0 {
            let h = self.hash(&e.addr6);
            self.index.remove(h, i);
            self.free.push(self.index.links(), i);
            self.live -= 1;
        }
    }

    /// Host `i`.
    #[inline]
    pub fn get(&self, i: u32) -> &HostEntry {
        &self.entries[i as usize]
    }

    /// Host `i`, to update its counts or paired address.
    #[inline]
    pub fn get_mut(&mut self, i: u32) -> &mut HostEntry {
        &mut self.entries[i as usize]
    }

    /// Hosts with state.
    pub fn live(&self) -> u32 {
        self.live
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_region::Region;
    use super::*;

    #[test]
    fn idle_hosts_go_away_and_slots_are_reused() {
        let key = SipKey::from_seed(&[9; 16]);
        let mut region = Region::for_layout(|c| HostTable::carve(c, 2, &key).map(|_| ()));
        let mut c = region.carver();
        let mut t = HostTable::carve(&mut c, 2, &key).unwrap();
        let a = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let mut b = a;
        b[15] = 2;
        let mut d = a;
        d[15] = 3;
        let ia = t.find_or_insert(&a).unwrap();
        assert_eq!(t.find_or_insert(&a), Some(ia));
        let ib = t.find_or_insert(&b).unwrap();
        assert_eq!(t.find_or_insert(&d), None);
        t.get_mut(ib).sessions = 1;
        t.remove_if_idle(ib);
        assert_eq!(t.find(&b), Some(ib));
        t.remove_if_idle(ia);
        assert_eq!(t.find(&a), None);
        assert_eq!(t.live(), 1);
        assert!(t.find_or_insert(&d).is_some());
    }
}

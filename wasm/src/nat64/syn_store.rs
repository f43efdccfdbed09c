//! Stored unsolicited IPv4 SYNs, for TCP simultaneous open (RFC 6146 §3.5.2.2).
//!
//! An IPv4 SYN for which there is no BIB entry (or that address-dependent filtering
//! blocks) is kept for TCP_INCOMING_SYN: if the IPv6 side opens the same connection in
//! that time the stored SYN is silently dropped, otherwise the packet path answers it
//! with ICMP port unreachable (type 3 code 3). The store is a bounded FIFO of slot-sized
//! copies; a copy is truncated to the slot size, which only shortens the quoted packet in
//! the ICMP error (RFC 792 needs the IP header and 8 bytes).

use super::carve::{Carver, InitError, Plain};
use super::chain::{ChainIndex, FreeList};
use super::queue::Queues;
use super::siphash::{domain, SipKey};
use super::timeouts::{is_expired, stamp};
use super::types::Refusal;

#[repr(C)]
#[derive(Clone, Copy)]
struct StoredSyn {
    local4: u32,
    remote4: u32,
    stored: u32,
    lport: u16,
    rport: u16,
    len: u16,
    _pad: u16,
}

// SAFETY: integers only.
unsafe impl Plain for StoredSyn {}

/// The stored SYNs.
pub struct SynStore<'a> {
    entries: &'a mut [StoredSyn],
    index: ChainIndex<'a>,
    queue: Queues<'a, 1>,
    free: FreeList,
    bytes: &'a mut [u8],
    slot: usize,
    live: u32,
    key: SipKey,
}

impl<'a> SynStore<'a> {
    /// Carves an empty store of `capacity` SYNs of up to `slot` bytes each.
    pub fn carve(c: &mut Carver<'a>, capacity: usize, slot: usize, key: &SipKey) -> Result<Self, InitError> {
        let mut s = SynStore {
            entries: c.take::<StoredSyn>(capacity)?,
            index: ChainIndex::carve(c, capacity)?,
            queue: Queues::carve(c, capacity)?,
            free: FreeList::EMPTY,
            bytes: c.take::<u8>(capacity.checked_mul(slot).ok_or(InitError::BadCapacity)?)?,
            slot,
            live: 0,
            key: key.derive(domain::SYN),
        };
        s.clear();
        Ok(s)
    }

    /// Forgets every stored SYN.
    pub fn clear(&mut self) {
        self.index.clear();
        self.queue.clear();
        let n = self.entries.len();
        self.free = FreeList::full(self.index.links(), n);
        self.live = 0;
    }

    #[inline]
    fn hash(&self, remote4: u32, rport: u16) -> u64 {
        self.key.hash(&[((remote4 as u64) << 16) | rport as u64])
    }

    fn find(&self, local4: u32, lport: u16, remote4: u32, rport: u16) -> Option<u32> {
        let entries = &self.entries;
        self.index.find(self.hash(remote4, rport), |i| {
            let e = &entries[i as usize];
            e.remote4 == remote4 && e.rport == rport && e.local4 == local4 && e.lport == lport
        })
    }

    /// Stores a copy of `packet`, the SYN from (Y, y) = (`remote4`, `rport`) to
    /// (X, x) = (`local4`, `lport`).
    pub fn store(&mut self, local4: u32, lport: u16, remote4: u32, rport: u16, packet: &[u8], now_ms: u64) -> Result<(), Refusal> {
        if self.find(local4, lport, remote4, rport).is_some() {
            return Err(Refusal::StoredSynDuplicate);
        }
        let i = self.free.pop(self.index.links()).ok_or(Refusal::StoredSynFull)?;
        let len = packet.len().min(self.slot).min(u16::MAX as usize);
        let at = i as usize * self.slot;
        self.bytes[at..at + len].copy_from_slice(&packet[..len]);
        self.entries[i as usize] = StoredSyn {
            local4,
            remote4,
            stored: stamp(now_ms),
            lport,
            rport,
            len: len as u16,
            _pad: 0,
        };
        let h = self.hash(remote4, rport);
        self.index.insert(h, i);
        self.queue.push_tail(0, i);
        self.live += 1;
        Ok(())
    }

    /// The (X, x) of a SYN stored from (Y, y), if any: an IPv6 host opening a connection
    /// to (Y, y) gets that IPv4 transport address if it can, so the simultaneous open
    /// meets.
    pub fn find_remote(&self, remote4: u32, rport: u16) -> Option<(u32, u16)> {
        let entries = &self.entries;
        self.index
            .find(self.hash(remote4, rport), |i| {
                let e = &entries[i as usize];
                e.remote4 == remote4 && e.rport == rport
            })
            .map(|i| (entries[i as usize].local4, entries[i as usize].lport))
    }

    /// Drops the SYN of the connection (X, x)–(Y, y) because the IPv6 side opened it
    /// (RFC 6146 §3.5.2.2: "silently drop the original SYN"). Returns whether one was
    /// stored.
    pub fn cancel(&mut self, local4: u32, lport: u16, remote4: u32, rport: u16) -> bool {
        match self.find(local4, lport, remote4, rport) {
            Some(i) => {
                self.release(i);
                true
            }
            None => false,
        }
    }

    fn release(&mut self, i: u32) {
        let e = self.entries[i as usize];
        let h = self.hash(e.remote4, e.rport);
        self.index.remove(h, i);
        self.queue.remove(0, i);
        self.free.push(self.index.links(), i);
        self.live -= 1;
    }

    /// If the oldest stored SYN has waited `lifetime_ms`, hands its bytes to `sink` and
    /// forgets it. Returns whether one expired.
    pub fn expire_head(&mut self, now_ms: u64, lifetime_ms: u32, sink: &mut dyn FnMut(&[u8])) -> bool {
        let i = match self.queue.head(0) {
            Some(i) if is_expired(now_ms, self.entries[i as usize].stored, lifetime_ms) => i,
            _ => return false,
        };
        let at = i as usize * self.slot;
        sink(&self.bytes[at..at + self.entries[i as usize].len as usize]);
        self.release(i);
        true
    }

    /// SYNs stored.
    pub fn live(&self) -> u32 {
        self.live
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_region::Region;
    use super::*;

    #[test]
    fn store_cancel_expire() {
        let key = SipKey::from_seed(&[6; 16]);
        let mut region = Region::for_layout(|c| SynStore::carve(c, 2, 8, &key).map(|_| ()));
        let mut c = region.carver();
        let mut s = SynStore::carve(&mut c, 2, 8, &key).unwrap();
        s.store(1, 80, 9, 5000, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0).unwrap();
        assert_eq!(s.store(1, 80, 9, 5000, &[1], 1), Err(Refusal::StoredSynDuplicate));
        s.store(1, 81, 9, 5001, &[7], 1_000).unwrap();
        assert_eq!(s.store(2, 80, 9, 5002, &[7], 1_000), Err(Refusal::StoredSynFull));
        assert_eq!(s.find_remote(9, 5000), Some((1, 80)));
        assert_eq!(s.find_remote(9, 5003), None);

        let mut got: Vec<Vec<u8>> = Vec::new();
        assert!(!s.expire_head(5_999, 6_000, &mut |b| got.push(b.to_vec())));
        assert!(s.expire_head(6_000, 6_000, &mut |b| got.push(b.to_vec())));
        assert_eq!(got, vec![vec![1, 2, 3, 4, 5, 6, 7, 8]]);
        assert!(!s.expire_head(6_000, 6_000, &mut |b| got.push(b.to_vec())));

        assert!(s.cancel(1, 81, 9, 5001));
        assert!(!s.cancel(1, 81, 9, 5001));
        assert_eq!(s.live(), 0);
        assert!(!s.expire_head(1 << 40, 6_000, &mut |b| got.push(b.to_vec())));
    }
}

//! Fragments in stateful mode, with bounded memory (RFC 6146 §3.4, §3.5: fragments must
//! find the session of their datagram, also out of order).
//!
//! Only the first fragment of a datagram carries the transport ports. The table remembers
//! them per datagram, keyed by (source, destination, protocol, identification) — the
//! fields that identify a datagram's fragments (RFC 791 §3.2, RFC 8200 §4.5) — so later
//! fragments are translated with the same session. A fragment that arrives before the
//! first one is copied into a bounded hold buffer; when the first fragment arrives the
//! packet path takes the held ones back with [`FragmentTable::take_held`] and translates
//! them. Entries live for FRAGMENT_MIN from their creation, not from their last fragment,
//! so a slow drip of fragments cannot pin memory; held fragments still waiting then are
//! dropped.

use super::carve::{Carver, InitError, Plain};
use super::chain::{ChainIndex, FreeList, NIL};
use super::queue::Queues;
use super::siphash::{domain, SipKey};
use super::timeouts::{is_expired, stamp};
use super::types::{v6_words, Addr4, Addr6, Refusal};

/// The datagram a fragment belongs to. IPv4 addresses are stored IPv4-mapped
/// (`::ffff:a.b.c.d`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragmentKey {
    /// Source address.
    pub src: Addr6,
    /// Destination address.
    pub dst: Addr6,
    /// Identification (IPv4: 16 bits; IPv6 Fragment Header: 32 bits).
    pub id: u32,
    /// Transport protocol number (IPv4 protocol, IPv6 next header of the fragment).
    pub proto: u8,
    /// Whether the datagram is IPv6.
    pub v6: bool,
}

impl FragmentKey {
    /// The key of an IPv4 fragment.
    pub fn v4(src: Addr4, dst: Addr4, proto: u8, id: u16) -> Self {
        FragmentKey {
            src: mapped(src),
            dst: mapped(dst),
            id: id as u32,
            proto,
            v6: false,
        }
    }

    /// The key of an IPv6 fragment.
    pub fn v6(src: Addr6, dst: Addr6, proto: u8, id: u32) -> Self {
        FragmentKey {
            src,
            dst,
            id,
            proto,
            v6: true,
        }
    }
}

fn mapped(a: Addr4) -> Addr6 {
    let mut m = [0u8; 16];
    m[10] = 0xff;
    m[11] = 0xff;
    m[12..].copy_from_slice(&a);
    m
}

/// What to do with a fragment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FragmentVerdict {
    /// Translate it with these ports (source, destination) of its datagram; `held`
    /// earlier fragments of the datagram wait in the hold buffer, to be taken with
    /// `Nat64::take_held_fragment`.
    Translate {
        /// Source port (ICMP: identifier).
        sport: u16,
        /// Destination port.
        dport: u16,
        /// Held fragments of the datagram ready to be taken.
        held: u16,
    },
    /// The ports are not known yet: the fragment was copied into the hold buffer.
    Held,
}

const V6: u8 = 1;
const KNOWN: u8 = 2;

#[repr(C)]
#[derive(Clone, Copy)]
struct FragEntry {
    src: Addr6,
    dst: Addr6,
    id: u32,
    created: u32,
    held_head: u32,
    held_tail: u32,
    sport: u16,
    dport: u16,
    held: u16,
    proto: u8,
    flags: u8,
}

// SAFETY: integers and integer arrays only.
unsafe impl Plain for FragEntry {}

impl FragEntry {
    fn matches(&self, k: &FragmentKey) -> bool {
        self.id == k.id
            && self.proto == k.proto
            && (self.flags & V6 != 0) == k.v6
            && self.src == k.src
            && self.dst == k.dst
    }
}

/// Datagrams with fragments in flight, and the held fragments.
pub struct FragmentTable<'a> {
    entries: &'a mut [FragEntry],
    index: ChainIndex<'a>,
    queue: Queues<'a, 1>,
    free: FreeList,
    held_next: &'a mut [u32],
    held_len: &'a mut [u16],
    held_bytes: &'a mut [u8],
    held_free: FreeList,
    slot: usize,
    live: u32,
    key: SipKey,
}

impl<'a> FragmentTable<'a> {
    /// Carves an empty table of `capacity` datagrams and `held` hold slots of `slot`
    /// bytes.
    pub fn carve(c: &mut Carver<'a>, capacity: usize, held: usize, slot: usize, key: &SipKey) -> Result<Self, InitError> {
        let mut t = FragmentTable {
            entries: c.take::<FragEntry>(capacity)?,
            index: ChainIndex::carve(c, capacity)?,
            queue: Queues::carve(c, capacity)?,
            free: FreeList::EMPTY,
            held_next: c.take::<u32>(held)?,
            held_len: c.take::<u16>(held)?,
            held_bytes: c.take::<u8>(held.checked_mul(slot).ok_or(InitError::BadCapacity)?)?,
            held_free: FreeList::EMPTY,
            slot,
            live: 0,
            key: key.derive(domain::FRAGMENT),
        };
        t.clear();
        Ok(t)
    }

    /// Forgets every datagram and held fragment.
    pub fn clear(&mut self) {
        self.index.clear();
        self.queue.clear();
        let n = self.entries.len();
        self.free = FreeList::full(self.index.links(), n);
        let h = self.held_next.len();
        self.held_free = FreeList::full(self.held_next, h);
        self.live = 0;
    }

    fn hash(&self, k: &FragmentKey) -> u64 {
        let [s0, s1] = v6_words(&k.src);
        let [d0, d1] = v6_words(&k.dst);
        self.key
            .hash(&[s0, s1, d0, d1, ((k.id as u64) << 16) | ((k.proto as u64) << 8) | k.v6 as u64])
    }

    fn find(&self, k: &FragmentKey) -> Option<u32> {
        let entries = &self.entries;
        self.index.find(self.hash(k), |i| entries[i as usize].matches(k))
    }

    fn create(&mut self, k: &FragmentKey, now_ms: u64) -> Result<u32, Refusal> {
        let i = self.free.pop(self.index.links()).ok_or(Refusal::FragmentTableFull)?;
        self.entries[i as usize] = FragEntry {
            src: k.src,
            dst: k.dst,
            id: k.id,
            created: stamp(now_ms),
            held_head: NIL,
            held_tail: NIL,
            sport: 0,
            dport: 0,
            held: 0,
            proto: k.proto,
            flags: if k.v6 { V6 } else { 0 },
        };
        let h = self.hash(k);
        self.index.insert(h, i);
        self.queue.push_tail(0, i);
        self.live += 1;
        Ok(i)
    }

    /// Handles one fragment of datagram `k`: `ports` are the (source, destination) ports
    /// when this is the first fragment (offset 0), `None` otherwise; `packet` is copied
    /// into the hold buffer when the ports are not known yet.
    pub fn on_fragment(&mut self, k: &FragmentKey, ports: Option<(u16, u16)>, packet: &[u8], now_ms: u64) -> Result<FragmentVerdict, Refusal> {
        let found = self.find(k);
        if ports.is_none() && found.map_or(true, |i| self.entries[i as usize].flags & KNOWN == 0) {
            if packet.len() > self.slot {
                return Err(Refusal::FragmentTooBig);
            }
            let slot = self.held_free.pop(self.held_next).ok_or(Refusal::FragmentHoldFull)?;
            let i = match found {
                Some(i) => i,
                None => match self.create(k, now_ms) {
                    Ok(i) => i,
                    Err(r) => {
                        self.held_free.push(self.held_next, slot);
                        return Err(r);
                    }
                },
            };
            self.hold(i, slot, packet);
            return Ok(FragmentVerdict::Held);
        }
        let i = match found {
            Some(i) => i,
            None => self.create(k, now_ms)?,
        };
        let e = &mut self.entries[i as usize];
        if let Some((sport, dport)) = ports {
            if e.flags & KNOWN == 0 {
                e.sport = sport;
                e.dport = dport;
                e.flags |= KNOWN;
            }
        }
        Ok(FragmentVerdict::Translate {
            sport: e.sport,
            dport: e.dport,
            held: e.held,
        })
    }

    fn hold(&mut self, i: u32, slot: u32, packet: &[u8]) {
        let at = slot as usize * self.slot;
        self.held_bytes[at..at + packet.len()].copy_from_slice(packet);
        self.held_len[slot as usize] = packet.len() as u16;
        self.held_next[slot as usize] = NIL;
        let e = &mut self.entries[i as usize];
        if e.held_tail == NIL {
            e.held_head = slot;
        } else {
            self.held_next[e.held_tail as usize] = slot;
        }
        e.held_tail = slot;
        e.held += 1;
    }

    /// The oldest held fragment of datagram `k`, removed from the hold buffer; its bytes
    /// stay valid until the next call that holds a fragment.
    pub fn take_held(&mut self, k: &FragmentKey) -> Option<&[u8]> {
        let i = self.find(k)?;
        let e = &mut self.entries[i as usize];
        let slot = e.held_head;
        if slot == NIL {
            return None;
        }
        e.held_head = self.held_next[slot as usize];
        if e.held_head == NIL {
            e.held_tail = NIL;
        }
        e.held -= 1;
        self.held_free.push(self.held_next, slot);
        let at = slot as usize * self.slot;
        Some(&self.held_bytes[at..at + self.held_len[slot as usize] as usize])
    }

    /// If the oldest datagram is `lifetime_ms` old, forgets it and returns how many held
    /// fragments were dropped with it.
    pub fn expire_head(&mut self, now_ms: u64, lifetime_ms: u32) -> Option<u32> {
        let i = self.queue.head(0)?;
        let e = self.entries[i as usize];
        if !is_expired(now_ms, e.created, lifetime_ms) {
            return None;
        }
        let mut slot = e.held_head;
        while slot != NIL {
            let next = self.held_next[slot as usize];
            self.held_free.push(self.held_next, slot);
            slot = next;
        }
        let k = FragmentKey {
            src: e.src,
            dst: e.dst,
            id: e.id,
            proto: e.proto,
            v6: e.flags & V6 != 0,
        };
        let h = self.hash(&k);
        self.index.remove(h, i);
        self.queue.remove(0, i);
        self.free.push(self.index.links(), i);
        self.live -= 1;
        Some(e.held as u32)
    }

    /// Datagrams tracked.
    pub fn live(&self) -> u32 {
        self.live
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_region::Region;
    use super::*;

    fn key(id: u16) -> FragmentKey {
        FragmentKey::v4([198, 51, 100, 1], [203, 0, 113, 5], 17, id)
    }

    #[test]
    fn in_order_fragments_find_the_first_ones_ports() {
        let k = SipKey::from_seed(&[8; 16]);
        let mut region = Region::for_layout(|c| FragmentTable::carve(c, 4, 2, 16, &k).map(|_| ()));
        let mut c = region.carver();
        let mut t = FragmentTable::carve(&mut c, 4, 2, 16, &k).unwrap();
        let first = t.on_fragment(&key(1), Some((5353, 53)), &[0; 40], 0).unwrap();
        assert_eq!(first, FragmentVerdict::Translate { sport: 5353, dport: 53, held: 0 });
        let later = t.on_fragment(&key(1), None, &[0; 1000], 10).unwrap();
        assert_eq!(later, FragmentVerdict::Translate { sport: 5353, dport: 53, held: 0 });
        // Same id, other protocol or family: another datagram.
        let mut other = key(1);
        other.proto = 6;
        assert_eq!(t.on_fragment(&other, None, &[1; 8], 10), Ok(FragmentVerdict::Held));
        let v6 = FragmentKey::v6(key(1).src, key(1).dst, 17, 1);
        assert_eq!(t.on_fragment(&v6, None, &[2; 8], 10), Ok(FragmentVerdict::Held));
        assert_eq!(t.live(), 3);
    }

    #[test]
    fn out_of_order_fragments_are_held_bounded_and_released() {
        let k = SipKey::from_seed(&[8; 16]);
        let mut region = Region::for_layout(|c| FragmentTable::carve(c, 2, 3, 16, &k).map(|_| ()));
        let mut c = region.carver();
        let mut t = FragmentTable::carve(&mut c, 2, 3, 16, &k).unwrap();
        assert_eq!(t.on_fragment(&key(7), None, &[1; 16], 0), Ok(FragmentVerdict::Held));
        assert_eq!(t.on_fragment(&key(7), None, &[2; 3], 5), Ok(FragmentVerdict::Held));
        assert_eq!(t.on_fragment(&key(7), None, &[3; 17], 5), Err(Refusal::FragmentTooBig));
        assert_eq!(t.on_fragment(&key(8), None, &[4; 4], 5), Ok(FragmentVerdict::Held));
        assert_eq!(t.on_fragment(&key(8), None, &[5; 4], 5), Err(Refusal::FragmentHoldFull));
        assert_eq!(t.on_fragment(&key(9), Some((1, 2)), &[], 5), Err(Refusal::FragmentTableFull));
        let v = t.on_fragment(&key(7), Some((4000, 53)), &[9; 8], 6).unwrap();
        assert_eq!(v, FragmentVerdict::Translate { sport: 4000, dport: 53, held: 2 });
        assert_eq!(t.take_held(&key(7)), Some(&[1u8; 16][..]));
        assert_eq!(t.take_held(&key(7)), Some(&[2u8; 3][..]));
        assert_eq!(t.take_held(&key(7)), None);
        // The freed slots are usable again.
        assert_eq!(t.on_fragment(&key(8), None, &[5; 4], 7), Ok(FragmentVerdict::Held));
        // FRAGMENT_MIN after creation the datagrams go, with what they still hold.
        assert_eq!(t.expire_head(1_999, 2_000), None);
        assert_eq!(t.expire_head(2_000, 2_000), Some(0));
        assert_eq!(t.expire_head(2_004, 2_000), None);
        assert_eq!(t.expire_head(2_005, 2_000), Some(2));
        assert_eq!(t.live(), 0);
        for n in 0..3u8 {
            assert_eq!(t.on_fragment(&key(10 + n as u16), None, &[n; 4], 9).map(|_| ()), if n < 2 { Ok(()) } else { Err(Refusal::FragmentTableFull) });
        }
    }
}

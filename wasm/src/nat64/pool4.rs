//! pool4: the IPv4 transport addresses stateful NAT64 hands out (RFC 6146 §3.5.1.1).
//!
//! The pool is a list of [`Pool4Entry`] (protocol, IPv4 prefix, port range). Each
//! (protocol, address) pair becomes a *port set*: a two-level bitmap of its free ports.
//! The host says at init how many port sets to lay out (the pairs of its pool4); a
//! configuration with more pairs is refused, one with fewer leaves sets unused.
//! Bit order puts even and odd ports in separate halves (`bit = (port & 1) << 15 |
//! port >> 1`), so each of the four *segments* — well-known (0–1023) even, well-known
//! odd, high (1024–65535) even, high odd — is one contiguous, word-aligned bit range. A
//! summary word per 64 bitmap words marks the words that still have a free port, so
//! finding the next free port of a segment reads at most one bitmap word, 16 summary
//! words and one more bitmap word: O(1) however full the pool is.
//!
//! Allocation for source port `s` (RFC 6146 §3.5.1.1, RFC 4787 §4.2.1–4.2.2):
//! - keeps the port range: a port in 0–1023 gets a port in 0–1023, one in 1024–65535 a
//!   port in 1024–65535;
//! - tries the parity of `s` first, then the other parity;
//! - when the well-known range is exhausted, a well-known `s` MAY get a high port (RFC
//!   6146 §3.5.1.1); a high `s` never gets a well-known port;
//! - starts at a keyed-random point of the segment (RFC 6056 style), so ports are not
//!   predictable;
//! - for ICMP identifiers, range and parity do not apply: any free identifier.
//!
//! Port 0 is never handed out for TCP or UDP. Which address a host gets (paired pooling)
//! is decided by the caller with [`Pool4::pick`] and kept in the host table; `pick`
//! skips exhausted addresses from a keyed-random start, so it is O(1) while the pool has
//! room and O(addresses) at worst, once per new host.

use super::carve::{Carver, InitError, Plain};
use super::chain::ChainIndex;
use super::siphash::SipKey;
use super::types::{v4_to_u32, Addr4, Proto};

/// One pool4 configuration entry: every address of `prefix/prefix_len` offers the ports
/// `first_port..=last_port` for `proto`. Entries may overlap; the union is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool4Entry {
    /// Protocol the ports are for.
    pub proto: Proto,
    /// Network address of the prefix.
    pub prefix: Addr4,
    /// Prefix length, 0–32.
    pub prefix_len: u8,
    /// First port (ICMP: identifier) of the range.
    pub first_port: u16,
    /// Last port of the range, inclusive.
    pub last_port: u16,
}

/// What is wrong with a pool4 entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pool4Problem {
    /// `prefix_len` is above 32.
    PrefixLength,
    /// The address has bits set after `prefix_len`.
    HostBits,
    /// `first_port` is above `last_port`.
    PortRange,
    /// The pool holds more (protocol, address) pairs than the port sets laid out at init.
    TooManyAddresses {
        /// (protocol, address) pairs of the whole pool.
        pairs: u64,
        /// Port sets laid out.
        capacity: u32,
    },
}

/// A pool4 entry that cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool4Error {
    /// Position of the entry in the list.
    pub entry: usize,
    /// What is wrong with it.
    pub problem: Pool4Problem,
}

const WORDS: usize = 1024;
const SUMMARY: usize = WORDS / 64;
const SEGMENTS: usize = 4;

/// Bit range of each segment: well-known even, well-known odd, high even, high odd.
const SEGMENT_BITS: [(usize, usize); SEGMENTS] = [(0, 512), (32768, 33280), (512, 32768), (33280, 65536)];

#[inline]
fn bit_of(port: u16) -> usize {
    (((port & 1) as usize) << 15) | (port >> 1) as usize
}

#[inline]
fn port_of(bit: usize) -> u16 {
    (((bit & 0x7fff) << 1) | (bit >> 15)) as u16
}

#[inline]
fn segment_of(port: u16) -> usize {
    (if port < 1024 { 0 } else { 2 }) + (port & 1) as usize
}

/// The segments to try, in order, for a source port.
fn segment_order(proto: Proto, src_port: u16) -> ([usize; SEGMENTS], usize) {
    if proto == Proto::Icmp {
        return ([2, 3, 0, 1], 4);
    }
    let p = (src_port & 1) as usize;
    if src_port < 1024 {
        ([p, 1 - p, 2 + p, 3 - p], 4)
    } else {
        ([2 + p, 3 - p, 0, 0], 2)
    }
}

#[repr(C)]
#[derive(Clone, Copy)]
struct PortSet {
    addr: u32,
    free: [u32; SEGMENTS],
    proto: u8,
    _pad: [u8; 3],
}

// SAFETY: integers and integer arrays only.
unsafe impl Plain for PortSet {}

/// The port sets of every (protocol, pool4 address).
pub struct Pool4<'a> {
    sets: &'a mut [PortSet],
    words: &'a mut [u64],
    summary: &'a mut [u64],
    index: ChainIndex<'a>,
    /// Every pool4 address, any protocol, sorted and distinct: `addresses[..distinct]`.
    addresses: &'a mut [u32],
    distinct: usize,
    count: usize,
    first: [u32; 3],
    len: [u32; 3],
    ports: [u32; 3],
    free: [u32; 3],
    key: SipKey,
}

impl<'a> Pool4<'a> {
    /// Carves room for `capacity` port sets (8.2 KiB each); the pool starts empty.
    pub fn carve(c: &mut Carver<'a>, capacity: usize, key: SipKey) -> Result<Self, InitError> {
        Ok(Pool4 {
            sets: c.take::<PortSet>(capacity)?,
            words: c.take::<u64>(capacity.checked_mul(WORDS).ok_or(InitError::BadCapacity)?)?,
            summary: c.take::<u64>(capacity.checked_mul(SUMMARY).ok_or(InitError::BadCapacity)?)?,
            index: ChainIndex::carve(c, capacity)?,
            addresses: c.take::<u32>(capacity)?,
            distinct: 0,
            count: 0,
            first: [0; 3],
            len: [0; 3],
            ports: [0; 3],
            free: [0; 3],
            key,
        })
    }

    /// Checks `entries` without changing the pool: the error names the first bad entry.
    pub fn validate(&self, entries: &[Pool4Entry]) -> Result<(), Pool4Error> {
        for (i, e) in entries.iter().enumerate() {
            let problem = if e.prefix_len > 32 {
                Some(Pool4Problem::PrefixLength)
            } else if v4_to_u32(e.prefix) & !mask(e.prefix_len) != 0 {
                Some(Pool4Problem::HostBits)
            } else if e.first_port > e.last_port {
                Some(Pool4Problem::PortRange)
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(Pool4Error { entry: i, problem });
            }
        }
        // Prefixes either nest or are disjoint, so the distinct addresses of a protocol
        // are the sizes of its outermost prefixes added up. The error names the entry
        // that went past the capacity and the size of the whole pool.
        let capacity = self.sets.len() as u32;
        let mut total: u64 = 0;
        let mut beyond = None;
        for (i, e) in entries.iter().enumerate() {
            let nested = entries.iter().enumerate().any(|(j, o)| {
                j != i
                    && o.proto == e.proto
                    && o.prefix_len <= e.prefix_len
                    && v4_to_u32(e.prefix) & mask(o.prefix_len) == v4_to_u32(o.prefix)
                    && (o.prefix_len < e.prefix_len || j < i)
            });
            if !nested {
                total += 1u64 << (32 - e.prefix_len as u32);
                if total > capacity as u64 && beyond.is_none() {
                    beyond = Some(i);
                }
            }
        }
        match beyond {
            Some(entry) => Err(Pool4Error {
                entry,
                problem: Pool4Problem::TooManyAddresses { pairs: total, capacity },
            }),
            None => Ok(()),
        }
    }

    /// Replaces the pool with `entries` (already validated): every port of the ranges is
    /// free afterwards.
    pub fn apply(&mut self, entries: &[Pool4Entry]) {
        self.index.clear();
        self.count = 0;
        for proto in Proto::ALL {
            self.first[proto.index()] = self.count as u32;
            for e in entries.iter().filter(|e| e.proto == proto) {
                let base = v4_to_u32(e.prefix);
                let size = 1u64 << (32 - e.prefix_len as u32);
                let first = if proto == Proto::Icmp { e.first_port } else { e.first_port.max(1) };
                // Every address the entry brings gets the same bitmap: it is built once,
                // in the entry's first new set, and copied into the others, so that a
                // /20 is laid out at memory speed.
                let mut template = None;
                for k in 0..size {
                    let addr = base.wrapping_add(k as u32);
                    let (set, fresh) = match self.find(proto, addr) {
                        Some(set) => (set as usize, false),
                        None => (self.add(proto, addr), true),
                    };
                    match template {
                        Some(t) if fresh => self.copy_set(t, set),
                        _ => {
                            // The entry's first new set is built and becomes the template;
                            // a set an earlier entry made adds this range to its own.
                            if fresh {
                                self.words[set * WORDS..(set + 1) * WORDS].fill(0);
                                template = Some(set);
                            }
                            if first <= e.last_port {
                                free_ports(&mut self.words[set * WORDS..(set + 1) * WORDS], first, e.last_port);
                            }
                            self.recount(set);
                        }
                    }
                }
            }
            self.len[proto.index()] = self.count as u32 - self.first[proto.index()];
        }
        self.ports = [0; 3];
        for set in 0..self.count {
            let p = self.sets[set].proto as usize;
            self.ports[p] += self.sets[set].free.iter().sum::<u32>();
            self.addresses[set] = self.sets[set].addr;
        }
        self.free = self.ports;
        let all = &mut self.addresses[..self.count];
        all.sort_unstable();
        self.distinct = 0;
        for i in 0..all.len() {
            if i == 0 || all[i] != all[i - 1] {
                all[self.distinct] = all[i];
                self.distinct += 1;
            }
        }
    }

    /// Whether `addr` (host order) is a pool4 address for any protocol: IPv4 packets to
    /// other addresses are not for the NAT64, IPv6 packets to it hairpin (RFC 6146 §3.5,
    /// §3.8). A binary search over the distinct addresses, no hashing: this runs for
    /// every packet.
    #[inline]
    pub fn has_address(&self, addr: u32) -> bool {
        self.addresses[..self.distinct].binary_search(&addr).is_ok()
    }

    fn hash(&self, proto: Proto, addr: u32) -> u64 {
        self.key.hash(&[((addr as u64) << 8) | proto as u64])
    }

    /// A new port set for (`proto`, `addr`), its bitmap and counts left to the caller.
    fn add(&mut self, proto: Proto, addr: u32) -> usize {
        let s = self.count;
        self.count += 1;
        self.sets[s] = PortSet {
            addr,
            free: [0; SEGMENTS],
            proto: proto as u8,
            _pad: [0; 3],
        };
        let h = self.hash(proto, addr);
        self.index.insert(h, s as u32);
        s
    }

    /// Gives set `to` the free ports of set `from`.
    fn copy_set(&mut self, from: usize, to: usize) {
        self.words.copy_within(from * WORDS..(from + 1) * WORDS, to * WORDS);
        self.summary.copy_within(from * SUMMARY..(from + 1) * SUMMARY, to * SUMMARY);
        self.sets[to].free = self.sets[from].free;
    }

    fn recount(&mut self, set: usize) {
        let words = &self.words[set * WORDS..(set + 1) * WORDS];
        let summary = &mut self.summary[set * SUMMARY..(set + 1) * SUMMARY];
        summary.fill(0);
        for (w, &word) in words.iter().enumerate() {
            if word != 0 {
                summary[w / 64] |= 1 << (w % 64);
            }
        }
        for (seg, &(lo, hi)) in SEGMENT_BITS.iter().enumerate() {
            self.sets[set].free[seg] = words[lo / 64..hi / 64].iter().map(|w| w.count_ones()).sum();
        }
    }

    /// The port set of `addr` (host order) for `proto`.
    #[inline]
    pub fn find(&self, proto: Proto, addr: u32) -> Option<u32> {
        let sets = &self.sets;
        self.index
            .find(self.hash(proto, addr), |s| {
                let p = &sets[s as usize];
                p.addr == addr && p.proto == proto as u8
            })
    }

    /// The address (host order) of a port set.
    #[inline]
    pub fn address(&self, set: u32) -> u32 {
        self.sets[set as usize].addr
    }

    /// Free ports left in a port set.
    #[cfg(test)]
    pub fn free_ports(&self, set: u32) -> u32 {
        self.sets[set as usize].free.iter().sum()
    }

    /// Ports (ICMP: identifiers) of `proto` in use and in the pool, over every address:
    /// the `pool4_used_*` and `pool4_size_*` gauges.
    pub fn usage(&self, proto: Proto) -> (u32, u32) {
        let i = proto.index();
        (self.ports[i] - self.free[i], self.ports[i])
    }

    /// Port sets configured for `proto`.
    pub fn sets_for(&self, proto: Proto) -> u32 {
        self.len[proto.index()]
    }

    /// Whether the set can serve source port `src_port`.
    pub fn can_serve(&self, set: u32, proto: Proto, src_port: u16) -> bool {
        let (order, n) = segment_order(proto, src_port);
        order[..n].iter().any(|&seg| self.sets[set as usize].free[seg] > 0)
    }

    /// A port set for a host that has no paired address yet: the first set, from a
    /// keyed-random start, that can serve `src_port`.
    pub fn pick(&self, proto: Proto, random: u64, src_port: u16) -> Option<u32> {
        let n = self.len[proto.index()];
        if n == 0 {
            return None;
        }
        let first = self.first[proto.index()];
        let start = (random % n as u64) as u32;
        (0..n)
            .map(|k| first + (start + k) % n)
            .find(|&s| self.can_serve(s, proto, src_port))
    }

    /// Allocates a port of `set` for source port `src_port` (rules in the module
    /// documentation); `random` chooses the starting point.
    pub fn allocate(&mut self, set: u32, proto: Proto, src_port: u16, random: u64) -> Option<u16> {
        let s = set as usize;
        let (order, n) = segment_order(proto, src_port);
        for &seg in &order[..n] {
            if self.sets[s].free[seg] == 0 {
                continue;
            }
            let (lo, hi) = SEGMENT_BITS[seg];
            let start = lo + (random % (hi - lo) as u64) as usize;
            let found = self.search(s, start, hi).or_else(|| self.search(s, lo, start));
            if let Some(bit) = found {
                self.take_bit(s, bit);
                return Some(port_of(bit));
            }
        }
        None
    }

    /// Takes exactly `port` of `set` if it is in the pool and free.
    pub fn take(&mut self, set: u32, port: u16) -> bool {
        let (s, b) = (set as usize, bit_of(port));
        if self.words[s * WORDS + b / 64] & (1 << (b % 64)) == 0 {
            return false;
        }
        self.take_bit(s, b);
        true
    }

    /// Returns `port`, which was taken from `set`, to the pool.
    pub fn release(&mut self, set: u32, port: u16) {
        let (s, b) = (set as usize, bit_of(port));
        let w = s * WORDS + b / 64;
        if self.words[w] & (1 << (b % 64)) != 0 {
            return;
        }
        self.words[w] |= 1 << (b % 64);
        self.summary[s * SUMMARY + b / 4096] |= 1 << ((b / 64) % 64);
        self.sets[s].free[segment_of(port)] += 1;
        self.free[self.sets[s].proto as usize] += 1;
    }

    fn take_bit(&mut self, s: usize, b: usize) {
        let w = s * WORDS + b / 64;
        self.words[w] &= !(1 << (b % 64));
        if self.words[w] == 0 {
            self.summary[s * SUMMARY + b / 4096] &= !(1 << ((b / 64) % 64));
        }
        self.sets[s].free[segment_of(port_of(b))] -= 1;
        self.free[self.sets[s].proto as usize] -= 1;
    }

    /// The first free bit of set `s` in `a..b`.
    fn search(&self, s: usize, a: usize, b: usize) -> Option<usize> {
        if a >= b {
            return None;
        }
        let words = &self.words[s * WORDS..(s + 1) * WORDS];
        let summary = &self.summary[s * SUMMARY..(s + 1) * SUMMARY];
        let last = (b - 1) / 64;
        let end_mask = |w: usize| {
            if w == last && b % 64 != 0 {
                (1u64 << (b % 64)) - 1
            } else {
                u64::MAX
            }
        };
        let w = a / 64;
        let m = words[w] & (u64::MAX << (a % 64)) & end_mask(w);
        if m != 0 {
            return Some(w * 64 + m.trailing_zeros() as usize);
        }
        let mut w = w + 1;
        while w <= last {
            let sm = summary[w / 64] & (u64::MAX << (w % 64));
            if sm == 0 {
                w = (w / 64 + 1) * 64;
                continue;
            }
            let nw = (w / 64) * 64 + sm.trailing_zeros() as usize;
            if nw > last {
                return None;
            }
            let m = words[nw] & end_mask(nw);
            return if m != 0 { Some(nw * 64 + m.trailing_zeros() as usize) } else { None };
        }
        None
    }
}

/// Marks ports `first..=last` free in one port set's bitmap, a word at a time: the even
/// ports of the range are one run of bits, the odd ports another (see the bit order in
/// the module documentation), so a /20 pool4 is laid out in milliseconds.
fn free_ports(words: &mut [u64], first: u16, last: u16) {
    let (first, last) = (first as usize, last as usize);
    for parity in 0..2 {
        let lo = first + ((first ^ parity) & 1);
        if lo > last {
            continue;
        }
        let hi = last - ((last ^ parity) & 1);
        set_bits(words, parity << 15 | lo >> 1, (parity << 15 | hi >> 1) + 1);
    }
}

/// Sets bits `a..b` of a bitmap.
fn set_bits(words: &mut [u64], a: usize, b: usize) {
    let mut bit = a;
    while bit < b {
        let (w, from) = (bit / 64, bit % 64);
        let to = (b - w * 64).min(64);
        let run = if to - from == 64 { u64::MAX } else { ((1u64 << (to - from)) - 1) << from };
        words[w] |= run;
        bit = w * 64 + to;
    }
}

/// The netmask of a prefix length (host order).
#[inline]
pub fn mask(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - len as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_region::Region;
    use super::*;

    fn entry(proto: Proto, prefix: [u8; 4], len: u8, first: u16, last: u16) -> Pool4Entry {
        Pool4Entry {
            proto,
            prefix,
            prefix_len: len,
            first_port: first,
            last_port: last,
        }
    }

    fn with_pool<R>(capacity: usize, entries: &[Pool4Entry], f: impl FnOnce(&mut Pool4) -> R) -> R {
        let key = SipKey::from_seed(&[7; 16]);
        let mut region = Region::for_layout(|c| Pool4::carve(c, capacity, key).map(|_| ()));
        let mut c = region.carver();
        let mut pool = Pool4::carve(&mut c, capacity, key).unwrap();
        pool.validate(entries).unwrap();
        pool.apply(entries);
        f(&mut pool)
    }

    #[test]
    fn bit_layout_round_trips_and_segments_are_contiguous() {
        for port in 0..=u16::MAX {
            let b = bit_of(port);
            assert_eq!(port_of(b), port);
            let (lo, hi) = SEGMENT_BITS[segment_of(port)];
            assert!(lo <= b && b < hi, "port {}", port);
        }
    }

    #[test]
    fn validation_names_the_bad_entry() {
        let key = SipKey::from_seed(&[1; 16]);
        let mut region = Region::for_layout(|c| Pool4::carve(c, 4, key).map(|_| ()));
        let mut c = region.carver();
        let pool = Pool4::carve(&mut c, 4, key).unwrap();
        let good = entry(Proto::Udp, [192, 0, 2, 0], 31, 1024, 65535);
        let cases = [
            (entry(Proto::Udp, [192, 0, 2, 0], 33, 1, 2), Pool4Problem::PrefixLength),
            (entry(Proto::Udp, [192, 0, 2, 1], 24, 1, 2), Pool4Problem::HostBits),
            (entry(Proto::Udp, [192, 0, 2, 8], 32, 9, 2), Pool4Problem::PortRange),
            (entry(Proto::Tcp, [192, 0, 2, 0], 29, 1, 2), Pool4Problem::TooManyAddresses { pairs: 10, capacity: 4 }),
        ];
        for (bad, problem) in cases {
            assert_eq!(pool.validate(&[good, bad]), Err(Pool4Error { entry: 1, problem }));
        }
        // Nested and repeated prefixes count their addresses once.
        let nested = [
            entry(Proto::Udp, [192, 0, 2, 0], 30, 1, 2),
            entry(Proto::Udp, [192, 0, 2, 0], 31, 3, 4),
            entry(Proto::Udp, [192, 0, 2, 0], 30, 5, 6),
        ];
        assert_eq!(pool.validate(&nested), Ok(()));
    }

    #[test]
    fn port_ranges_free_exactly_their_ports() {
        let ranges = [(0, 0), (1, 1), (0, 1), (1, 2), (63, 64), (127, 130), (1000, 1099), (1023, 1024), (2, 65534), (65535, 65535), (0, 65535)];
        for &(first, last) in &ranges {
            let mut words = [0u64; WORDS];
            free_ports(&mut words, first, last);
            for port in 0..=u16::MAX {
                let b = bit_of(port);
                let free = words[b / 64] & (1 << (b % 64)) != 0;
                assert_eq!(free, (first..=last).contains(&port), "port {} of {}-{}", port, first, last);
            }
        }
    }

    #[test]
    fn overlapping_entries_add_their_ranges_and_copied_sets_allocate_like_built_ones() {
        let entries = [
            entry(Proto::Udp, [192, 0, 2, 2], 32, 3000, 3001),
            entry(Proto::Udp, [192, 0, 2, 0], 30, 1024, 2047),
            entry(Proto::Udp, [192, 0, 2, 0], 31, 5000, 5000),
        ];
        with_pool(4, &entries, |pool| {
            let set = |last: u8| pool.find(Proto::Udp, v4_to_u32([192, 0, 2, last])).unwrap();
            let free: Vec<u32> = (0..4).map(|a| pool.free_ports(set(a))).collect();
            assert_eq!(free, [1025, 1025, 1026, 1024]);
            assert_eq!(pool.usage(Proto::Udp), (0, 4100));
            let (two, three) = (set(2), set(3));
            assert!(pool.take(two, 3001) && pool.take(two, 2047) && !pool.take(two, 5000));
            assert!(!pool.take(three, 3000) && pool.take(three, 1024));
            let mut got = std::collections::HashSet::new();
            while let Some(p) = pool.allocate(three, Proto::Udp, 40000, got.len() as u64 * 7919) {
                assert!((1025..2048).contains(&p), "{}", p);
                got.insert(p);
            }
            assert_eq!(got.len(), 1023);
        });
    }

    #[test]
    fn too_many_addresses_names_the_entry_and_the_whole_pool() {
        let key = SipKey::from_seed(&[1; 16]);
        let mut region = Region::for_layout(|c| Pool4::carve(c, 768, key).map(|_| ()));
        let mut c = region.carver();
        let pool = Pool4::carve(&mut c, 768, key).unwrap();
        let slash24 = |proto| entry(proto, [198, 18, 0, 0], 24, 1, 65535);
        assert_eq!(pool.validate(&[slash24(Proto::Tcp), slash24(Proto::Udp), slash24(Proto::Icmp)]), Ok(()));
        let wider = [slash24(Proto::Tcp), slash24(Proto::Udp), slash24(Proto::Icmp), entry(Proto::Udp, [198, 18, 1, 0], 24, 1, 65535), entry(Proto::Tcp, [198, 18, 1, 0], 30, 1, 2)];
        let problem = Pool4Problem::TooManyAddresses { pairs: 1028, capacity: 768 };
        assert_eq!(pool.validate(&wider), Err(Pool4Error { entry: 3, problem }));
    }

    #[test]
    fn high_ports_keep_range_and_parity_until_exhausted() {
        let entries = [entry(Proto::Udp, [192, 0, 2, 1], 32, 1000, 1099)];
        with_pool(1, &entries, |pool| {
            let set = pool.find(Proto::Udp, v4_to_u32([192, 0, 2, 1])).unwrap();
            // 76 high ports (1024..=1099): 38 even, 38 odd.
            let mut got = Vec::new();
            for i in 0..38u64 {
                let p = pool.allocate(set, Proto::Udp, 40001, i * 7919).unwrap();
                assert!(p >= 1024 && p % 2 == 1, "{}", p);
                got.push(p);
            }
            // Odd ports exhausted: parity is given up, the range is not.
            for i in 0..38u64 {
                let p = pool.allocate(set, Proto::Udp, 40001, i).unwrap();
                assert!(p >= 1024 && p % 2 == 0, "{}", p);
                got.push(p);
            }
            got.sort();
            got.dedup();
            assert_eq!(got.len(), 76);
            assert_eq!(pool.allocate(set, Proto::Udp, 40001, 3), None);
            assert!(!pool.can_serve(set, Proto::Udp, 40001));
            // The well-known range is still there for well-known source ports.
            let p = pool.allocate(set, Proto::Udp, 123, 5).unwrap();
            assert!((1000..1024).contains(&p) && p % 2 == 1);
        });
    }

    #[test]
    fn well_known_ports_fall_back_upwards_only() {
        let entries = [entry(Proto::Tcp, [192, 0, 2, 1], 32, 1020, 1030)];
        with_pool(1, &entries, |pool| {
            let set = pool.find(Proto::Tcp, v4_to_u32([192, 0, 2, 1])).unwrap();
            let mut low: Vec<u16> = (0..4).map(|i| pool.allocate(set, Proto::Tcp, 22, i).unwrap()).collect();
            low[..2].sort();
            low[2..].sort();
            assert_eq!(low, [1020, 1022, 1021, 1023]);
            let high = pool.allocate(set, Proto::Tcp, 22, 0).unwrap();
            assert!(high >= 1024 && high % 2 == 0);
        });
    }

    #[test]
    fn exhaustion_and_release_with_a_nearly_full_pool() {
        let entries = [entry(Proto::Udp, [192, 0, 2, 1], 32, 1024, 65535)];
        with_pool(1, &entries, |pool| {
            let set = pool.find(Proto::Udp, v4_to_u32([192, 0, 2, 1])).unwrap();
            let mut x = 99u64;
            let mut taken = Vec::new();
            while let Some(p) = pool.allocate(set, Proto::Udp, 5000, x) {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                taken.push(p);
            }
            assert_eq!(taken.len(), 64512);
            assert_eq!(pool.free_ports(set), 0);
            assert_eq!(pool.usage(Proto::Udp), (64512, 64512));
            for &p in taken.iter().step_by(1000) {
                pool.release(set, p);
            }
            assert_eq!(pool.free_ports(set), 65);
            assert_eq!(pool.usage(Proto::Udp), (64512 - 65, 64512));
            assert_eq!(pool.usage(Proto::Tcp), (0, 0));
            let mut again: Vec<u16> = (0..65).map(|i| pool.allocate(set, Proto::Udp, 5000, i * 31).unwrap()).collect();
            let mut expected: Vec<u16> = taken.iter().step_by(1000).copied().collect();
            again.sort();
            expected.sort();
            assert_eq!(again, expected);
        });
    }

    #[test]
    fn port_zero_only_for_icmp_and_exact_take() {
        let entries = [
            entry(Proto::Udp, [192, 0, 2, 1], 32, 0, 1),
            entry(Proto::Icmp, [192, 0, 2, 1], 32, 0, 0),
        ];
        with_pool(2, &entries, |pool| {
            let udp = pool.find(Proto::Udp, v4_to_u32([192, 0, 2, 1])).unwrap();
            let icmp = pool.find(Proto::Icmp, v4_to_u32([192, 0, 2, 1])).unwrap();
            assert_ne!(udp, icmp);
            assert_eq!(pool.free_ports(udp), 1);
            assert!(!pool.take(udp, 0));
            assert!(pool.take(udp, 1));
            assert!(!pool.take(udp, 1));
            assert_eq!(pool.allocate(icmp, Proto::Icmp, 4242, 17), Some(0));
        });
    }

    #[test]
    fn pick_spreads_hosts_and_skips_exhausted_sets() {
        let entries = [entry(Proto::Udp, [192, 0, 2, 0], 30, 2000, 2001)];
        with_pool(4, &entries, |pool| {
            assert_eq!(pool.sets_for(Proto::Udp), 4);
            assert_eq!(pool.sets_for(Proto::Tcp), 0);
            assert!(pool.has_address(v4_to_u32([192, 0, 2, 3])));
            assert!(!pool.has_address(v4_to_u32([192, 0, 2, 4])));
            assert_eq!(pool.pick(Proto::Tcp, 1, 2000), None);
            let mut seen = std::collections::HashSet::new();
            for r in 0..64u64 {
                seen.insert(pool.pick(Proto::Udp, r.wrapping_mul(0x9e37_79b9_7f4a_7c15), 5000).unwrap());
            }
            assert_eq!(seen.len(), 4);
            for s in 0..3u32 {
                let set = pool.pick(Proto::Udp, s as u64, 5000).unwrap();
                while pool.allocate(set, Proto::Udp, 5000, 0).is_some() {}
            }
            let left = pool.pick(Proto::Udp, 0, 5000).unwrap();
            for r in 0..16 {
                assert_eq!(pool.pick(Proto::Udp, r, 5000), Some(left));
            }
            assert!(pool.find(Proto::Udp, v4_to_u32([192, 0, 2, 3])).is_some());
            assert!(pool.find(Proto::Udp, v4_to_u32([192, 0, 2, 4])).is_none());
            assert!(pool.find(Proto::Icmp, v4_to_u32([192, 0, 2, 3])).is_none());
        });
    }
}

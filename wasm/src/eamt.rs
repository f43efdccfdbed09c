//! Explicit Address Mapping Table (RFC 7757): a fixed-capacity table of
//! IPv6-prefix ↔ IPv4-prefix pairs, searched by longest prefix match in both
//! directions (RFC 7757 §3.2). No allocation: entries live in an array, and two
//! index arrays keep them ordered by decreasing prefix length per family, so the
//! first containing entry is the longest match.

use crate::prefix::{mask32, Prefix4, Prefix6};

/// Most entries a table holds.
pub const CAPACITY: usize = 1024;

/// Why an entry cannot be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EamError {
    /// The table already holds [`CAPACITY`] entries.
    Full,
    /// The IPv4 suffix is longer than the IPv6 suffix, so some IPv4 addresses
    /// would have no IPv6 counterpart (RFC 7757 §3.2).
    SuffixTooLong,
    /// A prefix has bits set past its length.
    HostBits,
    /// Another entry already uses the same IPv6 or IPv4 prefix.
    Duplicate,
    /// A prefix length is out of range.
    Length,
}

/// One mapping. Prefixes and masks are kept twice: as big-endian numbers for the
/// suffix arithmetic, and as the little-endian view of their bytes for the
/// containment test, which then needs no byte swapping on a little-endian machine.
#[derive(Clone, Copy)]
struct Entry {
    v6: u128,
    v6_len: u8,
    v6_le: u128,
    v6_mask_le: u128,
    v4: u32,
    v4_mask: u32,
    v4_len: u8,
    v4_le: u32,
    v4_mask_le: u32,
}

impl Entry {
    const EMPTY: Entry = Entry { v6: 0, v6_len: 0, v6_le: 0, v6_mask_le: 0, v4: 0, v4_mask: 0, v4_len: 0, v4_le: 0, v4_mask_le: 0 };

    /// Shift that places the IPv4 suffix right after the IPv6 prefix.
    #[inline]
    fn shift(&self) -> u32 {
        128 - self.v6_len as u32 - (32 - self.v4_len as u32)
    }
}

#[inline]
fn mask128(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - len as u32)
    }
}

/// The table.
#[derive(Clone)]
pub struct Eamt {
    by_v6: [Entry; CAPACITY],
    by_v4: [Entry; CAPACITY],
    len: usize,
}

impl Eamt {
    /// An empty table.
    pub const EMPTY: Eamt = Eamt { by_v6: [Entry::EMPTY; CAPACITY], by_v4: [Entry::EMPTY; CAPACITY], len: 0 };

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the table has no entry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Adds the mapping `v6` ↔ `v4`.
    pub fn add(&mut self, v6: Prefix6, v4: Prefix4) -> Result<(), EamError> {
        if v6.len > 128 || v4.len > 32 {
            return Err(EamError::Length);
        }
        if !v6.host_bits_zero() || !v4.host_bits_zero() {
            return Err(EamError::HostBits);
        }
        if 32 - v4.len as u32 > 128 - v6.len as u32 {
            return Err(EamError::SuffixTooLong);
        }
        if self.len == CAPACITY {
            return Err(EamError::Full);
        }
        let v6_mask = mask128(v6.len);
        let v4_mask = mask32(v4.len);
        let e = Entry {
            v6: u128::from_be_bytes(v6.addr),
            v6_len: v6.len,
            v6_le: u128::from_le_bytes(v6.addr),
            v6_mask_le: u128::from_le_bytes(v6_mask.to_be_bytes()),
            v4: u32::from_be_bytes(v4.addr),
            v4_mask,
            v4_len: v4.len,
            v4_le: u32::from_le_bytes(v4.addr),
            v4_mask_le: u32::from_le_bytes(v4_mask.to_be_bytes()),
        };
        let existing = &self.by_v6[..self.len];
        if existing.iter().any(|x| (x.v6_len == e.v6_len && x.v6 == e.v6) || (x.v4_len == e.v4_len && x.v4 == e.v4)) {
            return Err(EamError::Duplicate);
        }
        self.len += 1;
        insert_sorted(&mut self.by_v6[..self.len], e, |x| x.v6_len);
        insert_sorted(&mut self.by_v4[..self.len], e, |x| x.v4_len);
        Ok(())
    }

    /// IPv6 → IPv4 by the longest matching IPv6 prefix (RFC 7757 §3.3). IPv6 suffix
    /// bits beyond the IPv4 suffix are ignored.
    #[inline]
    pub fn to_v4(&self, a: &[u8; 16]) -> Option<[u8; 4]> {
        let x_le = u128::from_le_bytes(*a);
        for e in &self.by_v6[..self.len] {
            if x_le & e.v6_mask_le == e.v6_le {
                let x = u128::from_be_bytes(*a);
                let suffix = (x.checked_shr(e.shift()).unwrap_or(0) as u32) & !e.v4_mask;
                return Some((e.v4 | suffix).to_be_bytes());
            }
        }
        None
    }

    /// IPv4 → IPv6 by the longest matching IPv4 prefix (RFC 7757 §3.3); the IPv4
    /// suffix follows the IPv6 prefix and any remaining bits are zero.
    #[inline]
    pub fn to_v6(&self, a: &[u8; 4]) -> Option<[u8; 16]> {
        let x_le = u32::from_le_bytes(*a);
        for e in &self.by_v4[..self.len] {
            if x_le & e.v4_mask_le == e.v4_le {
                let suffix = (u32::from_be_bytes(*a) & !e.v4_mask) as u128;
                return Some((e.v6 | suffix.checked_shl(e.shift()).unwrap_or(0)).to_be_bytes());
            }
        }
        None
    }

    /// True when `a` falls in an IPv4 prefix of the table (a hairpin candidate,
    /// RFC 7757 §4.2).
    #[inline]
    pub fn covers_v4(&self, a: &[u8; 4]) -> bool {
        let x_le = u32::from_le_bytes(*a);
        self.by_v4[..self.len].iter().any(|e| x_le & e.v4_mask_le == e.v4_le)
    }
}

/// Puts `e` last in `sorted`, then moves it up to keep prefix lengths descending;
/// equal lengths keep insertion order.
fn insert_sorted<F: Fn(&Entry) -> u8>(sorted: &mut [Entry], e: Entry, len_of: F) {
    let last = sorted.len() - 1;
    sorted[last] = e;
    let mut i = last;
    while i > 0 && len_of(&sorted[i - 1]) < len_of(&sorted[i]) {
        sorted.swap(i - 1, i);
        i -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(words: [u16; 8], len: u8) -> Prefix6 {
        let mut addr = [0u8; 16];
        for (i, w) in words.iter().enumerate() {
            addr[2 * i..2 * i + 2].copy_from_slice(&w.to_be_bytes());
        }
        Prefix6 { addr, len }
    }

    fn v4(a: [u8; 4], len: u8) -> Prefix4 {
        Prefix4 { addr: a, len }
    }

    #[test]
    fn maps_both_ways_with_suffix_after_the_prefix() {
        let mut t = Eamt::EMPTY;
        t.add(v6([0x2001, 0xdb8, 0x1c0, 0x2, 0, 0, 0, 0], 72), v4([192, 0, 2, 0], 24)).unwrap();
        let addr = v6([0x2001, 0xdb8, 0x1c0, 0x2, 0x21, 0, 0, 0], 128).addr;
        assert_eq!(t.to_v6(&[192, 0, 2, 33]), Some(addr));
        assert_eq!(t.to_v4(&addr), Some([192, 0, 2, 33]));
        assert_eq!(t.to_v4(&v6([0x2001, 0xdb8, 0x1c0, 0x3, 0x21, 0, 0, 0], 128).addr), None);
        assert_eq!(t.to_v6(&[192, 0, 3, 1]), None);
    }

    #[test]
    fn ipv6_bits_past_the_ipv4_suffix_are_ignored() {
        let mut t = Eamt::EMPTY;
        t.add(v6([0x2001, 0xdb8, 0xaaaa, 0, 0, 0, 0, 0], 48), v4([198, 51, 100, 0], 24)).unwrap();
        let a = v6([0x2001, 0xdb8, 0xaaaa, 0x05ff, 0xffff, 0, 0, 1], 128).addr;
        assert_eq!(t.to_v4(&a), Some([198, 51, 100, 5]));
        assert_eq!(t.to_v6(&[198, 51, 100, 5]), Some(v6([0x2001, 0xdb8, 0xaaaa, 0x0500, 0, 0, 0, 0], 128).addr));
    }

    #[test]
    fn single_address_entries() {
        let mut t = Eamt::EMPTY;
        t.add(v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 5], 128), v4([203, 0, 113, 5], 32)).unwrap();
        assert_eq!(t.to_v4(&v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 5], 128).addr), Some([203, 0, 113, 5]));
        assert_eq!(t.to_v6(&[203, 0, 113, 5]), Some(v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 5], 128).addr));
    }

    #[test]
    fn longest_prefix_wins_in_both_directions() {
        let mut t = Eamt::EMPTY;
        t.add(v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 96), v4([192, 0, 2, 0], 24)).unwrap();
        t.add(v6([0x2001, 0xdb8, 0, 0, 0, 0, 0x1234, 0], 120), v4([203, 0, 113, 0], 24)).unwrap();
        t.add(v6([0x2001, 0xdb8, 0, 0, 0, 0, 0x9999, 0x9999], 128), v4([192, 0, 2, 200], 32)).unwrap();
        assert_eq!(t.to_v4(&v6([0x2001, 0xdb8, 0, 0, 0, 0, 0x1234, 7], 128).addr), Some([203, 0, 113, 7]));
        assert_eq!(t.to_v4(&v6([0x2001, 0xdb8, 0, 0, 0, 0, 0x0755, 7], 128).addr), Some([192, 0, 2, 7]));
        assert_eq!(t.to_v6(&[192, 0, 2, 200]), Some(v6([0x2001, 0xdb8, 0, 0, 0, 0, 0x9999, 0x9999], 128).addr));
        assert_eq!(t.to_v6(&[192, 0, 2, 201]), Some(v6([0x2001, 0xdb8, 0, 0, 0, 0, 0xc900, 0], 128).addr));
        assert!(t.covers_v4(&[203, 0, 113, 1]));
        assert!(!t.covers_v4(&[198, 51, 100, 1]));
    }

    #[test]
    fn rejects_bad_entries() {
        let mut t = Eamt::EMPTY;
        assert_eq!(t.add(v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 120), v4([192, 0, 0, 0], 16)), Err(EamError::SuffixTooLong));
        assert_eq!(t.add(v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], 120), v4([192, 0, 2, 0], 24)), Err(EamError::HostBits));
        t.add(v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 120), v4([192, 0, 2, 0], 24)).unwrap();
        assert_eq!(t.add(v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 120), v4([198, 51, 100, 0], 24)), Err(EamError::Duplicate));
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn fills_to_capacity() {
        let mut t = Eamt::EMPTY;
        for i in 0..CAPACITY {
            let p6 = v6([0x2001, 0xdb8, i as u16, 0, 0, 0, 0, 0], 128);
            let p4 = v4([10, (i >> 8) as u8, i as u8, 0], 32);
            t.add(p6, p4).unwrap();
        }
        assert_eq!(t.add(v6([0x2001, 0xdb9, 0, 0, 0, 0, 0, 0], 128), v4([11, 0, 0, 0], 32)), Err(EamError::Full));
    }
}

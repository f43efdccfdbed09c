//! Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//!
//! Partial sums are carried as `u64` so that callers can add several pieces (a
//! pseudo-header, a header, a payload) before folding once. Every piece except the
//! last must have an even length, as in RFC 1071 §2.

/// Ones' complement partial sum of `data`, as 16-bit big-endian words, folded.
///
/// The words are added in the machine's little-endian order and the folded result
/// is byte-swapped: RFC 1071 §2(B) shows the sum is independent of byte order, and
/// WebAssembly loads little-endian words in one instruction.
#[inline(always)]
pub fn sum(data: &[u8]) -> u64 {
    let mut acc: u64 = 0;
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let v = u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
        let (s, carry) = acc.overflowing_add(v);
        acc = s + carry as u64;
    }
    // The last 0..7 bytes, as the low bytes of a little-endian word (no copy: a
    // copy of a run-time length would be a library call in WebAssembly).
    let rest = words.remainder();
    let mut tail: u64 = 0;
    let mut j = 0;
    if rest.len() >= 4 {
        tail = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as u64;
        j = 4;
    }
    if rest.len() - j >= 2 {
        tail |= (u16::from_le_bytes([rest[j], rest[j + 1]]) as u64) << (8 * j);
        j += 2;
    }
    if rest.len() > j {
        tail |= (rest[j] as u64) << (8 * j);
    }
    let (s, carry) = acc.overflowing_add(tail);
    acc = s + carry as u64;
    fold(acc).swap_bytes() as u64
}

/// Folds a partial sum into 16 bits with end-around carry.
#[inline(always)]
pub fn fold(mut acc: u64) -> u16 {
    acc = (acc & 0xffff_ffff) + (acc >> 32);
    acc = (acc & 0xffff_ffff) + (acc >> 32);
    let mut s = (acc & 0xffff) + (acc >> 16);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s as u16
}

/// The checksum field value for a message whose partial sum is `acc`.
#[inline]
pub fn finish(acc: u64) -> u16 {
    !fold(acc)
}

/// Partial sum of an IPv4 source and destination address: what the pseudo-header
/// of a transport checksum loses or gains when they change.
#[inline(always)]
pub fn addresses_v4(src: &[u8; 4], dst: &[u8; 4]) -> u64 {
    let acc = u32::from_le_bytes(*src) as u64 + u32::from_le_bytes(*dst) as u64;
    fold(acc).swap_bytes() as u64
}

/// Partial sum of an IPv6 source and destination address.
#[inline(always)]
pub fn addresses_v6(src: &[u8; 16], dst: &[u8; 16]) -> u64 {
    let word = |a: &[u8; 16], i: usize| u32::from_le_bytes([a[i], a[i + 1], a[i + 2], a[i + 3]]) as u64;
    let acc = word(src, 0) + word(src, 4) + word(src, 8) + word(src, 12) + word(dst, 0) + word(dst, 4) + word(dst, 8) + word(dst, 12);
    fold(acc).swap_bytes() as u64
}

/// Partial sum of the IPv4 pseudo-header (RFC 768, RFC 793 §3.1).
#[inline]
pub fn pseudo_v4(src: &[u8; 4], dst: &[u8; 4], proto: u8, len: u32) -> u64 {
    addresses_v4(src, dst) + proto as u64 + len as u64
}

/// Partial sum of the IPv6 pseudo-header (RFC 8200 §8.1).
#[inline]
pub fn pseudo_v6(src: &[u8; 16], dst: &[u8; 16], next_header: u8, len: u32) -> u64 {
    addresses_v6(src, dst) + next_header as u64 + (len >> 16) as u64 + (len & 0xffff) as u64
}

/// Incremental update of checksum field `check` when data whose folded sum is
/// `removed` is replaced by data whose folded sum is `added`: RFC 1624 eqn. 3,
/// `HC' = ~(~HC + ~m + m')`. A checksum that was wrong stays wrong by the same amount.
#[inline(always)]
pub fn adjust(check: u16, removed: u16, added: u16) -> u16 {
    let acc = (!check) as u32 + (!removed) as u32 + added as u32;
    let acc = (acc & 0xffff) + (acc >> 16);
    !((acc & 0xffff) + (acc >> 16)) as u16
}

/// True when a message including its checksum field sums to all ones (RFC 1071 §2).
#[inline]
pub fn verifies(acc: u64) -> bool {
    fold(acc) == 0xffff
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1071 §3 worked example: the words 0001 f203 f4f5 f6f7 sum to ddf2.
    #[test]
    fn rfc1071_example() {
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&data)), 0xddf2);
        assert_eq!(finish(sum(&data)), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(fold(sum(&[0x12, 0x34, 0x56])), 0x1234 + 0x5600);
        assert_eq!(fold(sum(&[0xff])), 0xff00);
        assert_eq!(fold(sum(&[])), 0);
    }

    /// Reference: RFC 1071 §4.1's word-at-a-time loop.
    fn reference(data: &[u8]) -> u16 {
        let mut s: u32 = 0;
        for pair in data.chunks(2) {
            s += ((pair[0] as u32) << 8) | *pair.get(1).unwrap_or(&0) as u32;
        }
        while s >> 16 != 0 {
            s = (s & 0xffff) + (s >> 16);
        }
        s as u16
    }

    #[test]
    fn every_length_and_alignment_matches_the_reference() {
        let data: [u8; 64] = core::array::from_fn(|i| (i as u8).wrapping_mul(151).wrapping_add(7) | 0x80);
        for start in 0..8 {
            for end in start..data.len() {
                assert_eq!(fold(sum(&data[start..end])), reference(&data[start..end]), "{}..{}", start, end);
            }
        }
    }

    #[test]
    fn ipv4_header_checksum_verifies() {
        // A real IPv4 header (RFC 1071 style check): sums to ffff with its checksum.
        let hdr = [
            0x45, 0x00, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x4e, 0x76, 0xc6, 0x33,
            0x64, 0x02, 0xc0, 0x00, 0x02, 0x21,
        ];
        assert!(verifies(sum(&hdr)));
        let mut zeroed = hdr;
        zeroed[10] = 0;
        zeroed[11] = 0;
        assert_eq!(finish(sum(&zeroed)), 0x4e76);
    }

    #[test]
    fn incremental_matches_full_recompute() {
        let mut data = [0u8; 40];
        for (i, b) in data.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(11);
        }
        let before = finish(sum(&data));
        let old = [data[6], data[7], data[8], data[9]];
        data[6..10].copy_from_slice(&[0xc0, 0x00, 0x02, 0x21]);
        let after = finish(sum(&data));
        assert_eq!(adjust(before, fold(sum(&old)), fold(sum(&data[6..10]))), after);
    }

    #[test]
    fn incremental_keeps_a_bad_checksum_bad_by_the_same_amount() {
        let data = [0x11u8, 0x22, 0x33, 0x44, 0x55, 0x66];
        let good = finish(sum(&data));
        let bad = good.wrapping_add(5);
        let new = [0x99u8, 0x88];
        let mut changed = data;
        changed[0..2].copy_from_slice(&new);
        let good_after = adjust(good, fold(sum(&data[0..2])), fold(sum(&new)));
        assert_eq!(good_after, finish(sum(&changed)));
        assert_ne!(adjust(bad, fold(sum(&data[0..2])), fold(sum(&new))), good_after);
    }

    #[test]
    fn address_sums_match_the_generic_sum() {
        let a = [0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 1, 2, 3, 4, 5, 6, 7, 0xfe, 0xdc];
        let b = [0xff; 16];
        let mut both = [0u8; 32];
        both[..16].copy_from_slice(&a);
        both[16..].copy_from_slice(&b);
        assert_eq!(fold(addresses_v6(&a, &b)), fold(sum(&both)));
        assert_eq!(fold(addresses_v4(&[255, 255, 255, 255], &[192, 0, 2, 1])), fold(sum(&[255, 255, 255, 255, 192, 0, 2, 1])));
    }

    #[test]
    fn pseudo_headers_sum_their_fields() {
        let s4 = [192, 0, 2, 1];
        let d4 = [198, 51, 100, 2];
        assert_eq!(
            fold(pseudo_v4(&s4, &d4, 17, 12)),
            fold(sum(&[192, 0, 2, 1, 198, 51, 100, 2, 0, 17, 0, 12]))
        );
        let mut s6 = [0u8; 16];
        s6[0] = 0x20;
        s6[1] = 0x01;
        let d6 = [0xffu8; 16];
        let mut flat = [0u8; 40];
        flat[..16].copy_from_slice(&s6);
        flat[16..32].copy_from_slice(&d6);
        flat[32..36].copy_from_slice(&0x0001_0002u32.to_be_bytes());
        flat[39] = 58;
        assert_eq!(fold(pseudo_v6(&s6, &d6, 58, 0x0001_0002)), fold(sum(&flat)));
    }
}

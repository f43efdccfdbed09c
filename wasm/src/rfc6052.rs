//! IPv4-embedded IPv6 addresses (RFC 6052 §2.2): embedding an IPv4 address in a
//! translation prefix and extracting it again, plus the §3.1 rule for the
//! Well-Known Prefix.

use crate::prefix::Prefix6;

/// The Well-Known Prefix 64:ff9b::/96 (RFC 6052 §2.1).
pub const WKP: Prefix6 = Prefix6 {
    addr: [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    len: 96,
};

/// True for the prefix lengths RFC 6052 §2.2 allows.
pub fn valid_length(len: u8) -> bool {
    matches!(len, 32 | 40 | 48 | 56 | 64 | 96)
}

/// Byte positions of the four IPv4 octets for each prefix length (RFC 6052 §2.2
/// Figure 1): octets skip byte 8, the "u" octet (bits 64..71).
#[inline]
fn positions(len: u8) -> [usize; 4] {
    match len {
        32 => [4, 5, 6, 7],
        40 => [5, 6, 7, 9],
        48 => [6, 7, 9, 10],
        56 => [7, 9, 10, 11],
        64 => [9, 10, 11, 12],
        _ => [12, 13, 14, 15],
    }
}

/// Embeds `v4` in `prefix`; the u octet and the suffix are zero (RFC 6052 §2.2).
/// `prefix.len` must be one of [`valid_length`] and the prefix must have no bits set
/// past its length.
#[inline]
pub fn embed(prefix: &Prefix6, v4: &[u8; 4]) -> [u8; 16] {
    // Bits past the prefix length are zero (checked when configured), so starting
    // from the whole prefix leaves the u octet and the suffix zero.
    let mut out = prefix.addr;
    let p = positions(prefix.len);
    out[p[0]] = v4[0];
    out[p[1]] = v4[1];
    out[p[2]] = v4[2];
    out[p[3]] = v4[3];
    out
}

/// The IPv4 address embedded in `v6`, an address the caller found under a prefix
/// of length `len`. The u octet and the suffix are ignored on receipt (RFC 6052
/// §2.2: "SHOULD ignore").
#[inline]
pub fn extract(len: u8, v6: &[u8; 16]) -> [u8; 4] {
    let p = positions(len);
    [v6[p[0]], v6[p[1]], v6[p[2]], v6[p[3]]]
}

/// True when `a` may appear under the Well-Known Prefix: RFC 6052 §3.1 forbids
/// non-global IPv4 addresses there. Non-global follows the "Globally Reachable:
/// False" entries of the IANA IPv4 Special-Purpose Address Registry (RFC 6890),
/// plus the shared address space of RFC 6598.
pub fn is_global_v4(a: &[u8; 4]) -> bool {
    let x = u32::from_be_bytes(*a);
    let within = |net: u32, len: u32| x >> (32 - len) == net >> (32 - len);
    if x == 0xc000_0009 || x == 0xc000_000a {
        // 192.0.0.9 and 192.0.0.10 are the registry's globally reachable exceptions.
        return true;
    }
    !(within(0x0000_0000, 8)
        || within(0x0a00_0000, 8)
        || within(0x6440_0000, 10)
        || within(0x7f00_0000, 8)
        || within(0xa9fe_0000, 16)
        || within(0xac10_0000, 12)
        || within(0xc000_0000, 24)
        || within(0xc000_0200, 24)
        || within(0xc0a8_0000, 16)
        || within(0xc612_0000, 15)
        || within(0xc633_6400, 24)
        || within(0xcb00_7100, 24)
        || within(0xf000_0000, 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: [u16; 8], len: u8) -> Prefix6 {
        let mut addr = [0u8; 16];
        for (i, w) in text.iter().enumerate() {
            addr[2 * i..2 * i + 2].copy_from_slice(&w.to_be_bytes());
        }
        Prefix6 { addr, len }
    }

    fn a(words: [u16; 8]) -> [u8; 16] {
        p(words, 128).addr
    }

    /// RFC 6052 §2.4 table: 192.0.2.33 under 2001:db8::/32.../96 at every length.
    #[test]
    fn rfc6052_section_2_4_examples() {
        let v4 = [192, 0, 2, 33];
        let cases = [
            (p([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), a([0x2001, 0xdb8, 0xc000, 0x221, 0, 0, 0, 0])),
            (p([0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0], 40), a([0x2001, 0xdb8, 0x1c0, 0x2, 0x21, 0, 0, 0])),
            (p([0x2001, 0xdb8, 0x122, 0, 0, 0, 0, 0], 48), a([0x2001, 0xdb8, 0x122, 0xc000, 0x2, 0x2100, 0, 0])),
            (p([0x2001, 0xdb8, 0x122, 0x300, 0, 0, 0, 0], 56), a([0x2001, 0xdb8, 0x122, 0x3c0, 0, 0x221, 0, 0])),
            (p([0x2001, 0xdb8, 0x122, 0x344, 0, 0, 0, 0], 64), a([0x2001, 0xdb8, 0x122, 0x344, 0xc0, 0x2, 0x2100, 0])),
            (p([0x2001, 0xdb8, 0x122, 0x344, 0, 0, 0, 0], 96), a([0x2001, 0xdb8, 0x122, 0x344, 0, 0, 0xc000, 0x221])),
        ];
        for (prefix, expected) in cases.iter() {
            assert_eq!(embed(prefix, &v4), *expected, "/{}", prefix.len);
            assert_eq!(extract(prefix.len, expected), v4, "/{}", prefix.len);
        }
    }

    #[test]
    fn extraction_ignores_u_octet_and_suffix() {
        for len in [32u8, 40, 48, 56, 64] {
            let prefix = p([0x2001, 0xdb8, 0x122, 0x344, 0, 0, 0, 0], len);
            let mut v6 = embed(&prefix, &[198, 51, 100, 7]);
            v6[8] = 0xaa;
            v6[15] = 0x55;
            assert_eq!(extract(len, &v6), [198, 51, 100, 7], "/{}", len);
        }
    }

    #[test]
    fn only_rfc6052_lengths_are_valid() {
        for len in 0..=128u8 {
            assert_eq!(valid_length(len), [32, 40, 48, 56, 64, 96].contains(&len));
        }
    }

    #[test]
    fn non_global_ranges() {
        for a in [
            [10, 1, 2, 3],
            [127, 0, 0, 1],
            [169, 254, 1, 1],
            [172, 16, 0, 1],
            [172, 31, 255, 255],
            [192, 168, 1, 1],
            [192, 0, 2, 1],
            [198, 51, 100, 1],
            [203, 0, 113, 1],
            [100, 64, 0, 1],
            [198, 18, 0, 1],
            [0, 0, 0, 0],
            [240, 0, 0, 1],
            [255, 255, 255, 255],
            [192, 0, 0, 8],
        ] {
            assert!(!is_global_v4(&a), "{:?}", a);
        }
        for a in [[8, 8, 8, 8], [172, 32, 0, 1], [1, 1, 1, 1], [192, 0, 0, 9], [224, 0, 0, 1]] {
            assert!(is_global_v4(&a), "{:?}", a);
        }
    }
}

//! Keyed hashing of table keys: SipHash-1-3 over 64-bit words.
//!
//! The hash tables are indexed by values a remote host chooses (ports, addresses), so
//! the bucket of a key must not be predictable without the secret key: otherwise an
//! attacker can pile every entry into one chain (hash flooding). SipHash is a PRF built
//! for exactly this (Aumasson and Bernstein, 2012); 1 compression round and 3
//! finalization rounds is the variant Rust's standard library uses for the same purpose.
//! The message is the little-endian bytes of the words, so the result equals SipHash of
//! that byte string.

/// A secret SipHash key. Each table derives its own with [`SipKey::derive`], so that a
/// collision learned in one table says nothing about another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SipKey {
    k0: u64,
    k1: u64,
}

/// Domain numbers for [`SipKey::derive`], one per hash index.
pub mod domain {
    /// BIB entries by IPv6 transport address.
    pub const BIB6: u64 = 1;
    /// BIB entries by IPv4 transport address.
    pub const BIB4: u64 = 2;
    /// Sessions by (BIB, remote address, remote port).
    pub const SESSION: u64 = 3;
    /// Sessions by (BIB, remote address), for address-dependent filtering.
    pub const SESSION_ADDR: u64 = 4;
    /// IPv6 hosts.
    pub const HOST: u64 = 5;
    /// pool4 port sets by (protocol, address).
    pub const POOL4: u64 = 6;
    /// Stored SYNs by remote transport address.
    pub const SYN: u64 = 7;
    /// Fragment flows.
    pub const FRAGMENT: u64 = 8;
    /// Port allocation start points (RFC 6056 style randomisation).
    pub const PORT: u64 = 9;
    /// pool4 address choice for a new host.
    pub const PAIRING: u64 = 10;
}

impl SipKey {
    /// The key made of the 16 seed bytes the host provides (little-endian halves).
    pub fn from_seed(seed: &[u8; 16]) -> Self {
        let mut lo = [0u8; 8];
        let mut hi = [0u8; 8];
        lo.copy_from_slice(&seed[..8]);
        hi.copy_from_slice(&seed[8..]);
        SipKey {
            k0: u64::from_le_bytes(lo),
            k1: u64::from_le_bytes(hi),
        }
    }

    /// A key for one use (`domain`), derived from this one.
    pub fn derive(&self, domain: u64) -> Self {
        SipKey {
            k0: self.hash(&[domain, 0]),
            k1: self.hash(&[domain, 1]),
        }
    }

    /// SipHash-1-3 of the little-endian bytes of `words`.
    pub fn hash(&self, words: &[u64]) -> u64 {
        siphash::<1, 3>(self.k0, self.k1, words)
    }
}

#[inline(always)]
fn round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13);
    v[1] ^= v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16);
    v[3] ^= v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21);
    v[3] ^= v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17);
    v[1] ^= v[2];
    v[2] = v[2].rotate_left(32);
}

/// SipHash-C-D of a message whose length is a multiple of 8 bytes.
#[inline]
fn siphash<const C: usize, const D: usize>(k0: u64, k1: u64, words: &[u64]) -> u64 {
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    for &m in words {
        v[3] ^= m;
        for _ in 0..C {
            round(&mut v);
        }
        v[0] ^= m;
    }
    // Final block: no tail bytes, the length in bytes (mod 256) in the top byte.
    let b = ((words.len() as u64).wrapping_mul(8) & 0xff) << 56;
    v[3] ^= b;
    for _ in 0..C {
        round(&mut v);
    }
    v[0] ^= b;
    v[2] ^= 0xff;
    for _ in 0..D {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::Hasher;

    /// The round function and the padding are checked against the standard library's
    /// SipHash-2-4, which hashes the same byte string.
    #[test]
    #[allow(deprecated)]
    fn matches_reference_siphash_2_4() {
        let seed: [u8; 16] = core::array::from_fn(|i| i as u8);
        let key = SipKey::from_seed(&seed);
        for n in 0..6usize {
            let words: Vec<u64> = (0..n as u64)
                .map(|i| 0x0706_0504_0302_0100u64.wrapping_add(i * 0x0808_0808_0808_0808))
                .collect();
            let mut bytes = Vec::new();
            for w in &words {
                bytes.extend_from_slice(&w.to_le_bytes());
            }
            let mut reference = std::hash::SipHasher::new_with_keys(key.k0, key.k1);
            reference.write(&bytes);
            assert_eq!(siphash::<2, 4>(key.k0, key.k1, &words), reference.finish(), "{} words", n);
        }
    }

    #[test]
    fn published_vector_for_eight_bytes() {
        // SipHash-2-4 reference vector: key 00..0f, message 00..07.
        let seed: [u8; 16] = core::array::from_fn(|i| i as u8);
        let key = SipKey::from_seed(&seed);
        let out = siphash::<2, 4>(key.k0, key.k1, &[0x0706_0504_0302_0100]);
        assert_eq!(out, 0x93f5_f579_9a93_2462);
    }

    #[test]
    fn derived_keys_differ_per_domain_and_seed() {
        let a = SipKey::from_seed(&[1; 16]);
        let b = SipKey::from_seed(&[2; 16]);
        assert_ne!(a.derive(domain::BIB6), a.derive(domain::BIB4));
        assert_ne!(a.derive(domain::BIB6), b.derive(domain::BIB6));
        assert_ne!(a.hash(&[42]), b.hash(&[42]));
    }
}

//! IPv4 and IPv6 prefixes as configured (RFC 6052 pool6, RFC 7757 EAMT, RFC 6791
//! pools), with the checks configuration needs.

/// An IPv6 prefix: `addr` with only its first `len` bits meaningful.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix6 {
    /// Address bits; bits past `len` are zero (checked when configured).
    pub addr: [u8; 16],
    /// Prefix length in bits, 0..=128.
    pub len: u8,
}

/// An IPv4 prefix: `addr` with only its first `len` bits meaningful.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix4 {
    /// Address bits; bits past `len` are zero (checked when configured).
    pub addr: [u8; 4],
    /// Prefix length in bits, 0..=32.
    pub len: u8,
}

impl Prefix6 {
    /// True when no bit past `len` is set.
    pub fn host_bits_zero(&self) -> bool {
        host_bits_zero(&self.addr, self.len as usize)
    }
}

impl Prefix4 {
    /// True when no bit past `len` is set.
    pub fn host_bits_zero(&self) -> bool {
        u32::from_be_bytes(self.addr) & !mask32(self.len) == 0
    }

    /// The `index`th address of the prefix, wrapping within it.
    pub fn nth(&self, index: u32) -> [u8; 4] {
        (u32::from_be_bytes(self.addr) | (index & !mask32(self.len))).to_be_bytes()
    }
}

/// Network mask of `len` leading one bits, for IPv6 addresses as `u128`.
#[inline]
pub fn mask128(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - len as u32)
    }
}

/// Network mask of `len` leading one bits.
#[inline]
pub fn mask32(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - len as u32)
    }
}

/// True when every bit of `a` from bit `from` on is zero.
pub fn host_bits_zero(a: &[u8], from: usize) -> bool {
    (from..a.len() * 8).all(|bit| a[bit / 8] & (0x80 >> (bit % 8)) == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_and_host_bits() {
        assert_eq!(mask32(0), 0);
        assert_eq!(mask32(24), 0xffff_ff00);
        assert_eq!(mask32(32), u32::MAX);
        assert!(Prefix4 { addr: [192, 0, 2, 0], len: 24 }.host_bits_zero());
        assert!(!Prefix4 { addr: [192, 0, 2, 1], len: 24 }.host_bits_zero());
        let mut a = [0u8; 16];
        a[..5].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0x01]);
        assert!(!Prefix6 { addr: a, len: 36 }.host_bits_zero());
        assert!(Prefix6 { addr: a, len: 40 }.host_bits_zero());
        assert!(Prefix6 { addr: [0; 16], len: 0 }.host_bits_zero());
    }

    #[test]
    fn nth_address_wraps_within_the_prefix() {
        let p = Prefix4 { addr: [192, 0, 2, 0], len: 24 };
        assert_eq!(p.nth(7), [192, 0, 2, 7]);
        assert_eq!(p.nth(256 + 7), [192, 0, 2, 7]);
        assert_eq!(Prefix4 { addr: [203, 0, 113, 8], len: 32 }.nth(12345), [203, 0, 113, 8]);
        assert_eq!(Prefix4 { addr: [0; 4], len: 0 }.nth(0x0102_0304), [1, 2, 3, 4]);
    }
}

//! IPv4 and IPv6 prefixes: containment tests and bit-field copies shared by the
//! RFC 6052, RFC 7757 (EAMT) and RFC 6791 (pool) code.

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
    /// The all-zero prefix `::/0`, used to fill fixed-size tables.
    pub const ZERO: Prefix6 = Prefix6 { addr: [0; 16], len: 0 };

    /// True when the first `len` bits of `a` equal the prefix.
    #[inline]
    pub fn contains(&self, a: &[u8; 16]) -> bool {
        bits_equal(&self.addr, a, self.len as usize)
    }

    /// True when no bit past `len` is set.
    pub fn host_bits_zero(&self) -> bool {
        host_bits_zero(&self.addr, self.len as usize)
    }
}

impl Prefix4 {
    /// The all-zero prefix `0.0.0.0/0`, used to fill fixed-size tables.
    pub const ZERO: Prefix4 = Prefix4 { addr: [0; 4], len: 0 };

    /// True when the first `len` bits of `a` equal the prefix.
    #[inline]
    pub fn contains(&self, a: &[u8; 4]) -> bool {
        let mask = mask32(self.len);
        u32::from_be_bytes(*a) & mask == u32::from_be_bytes(self.addr) & mask
    }

    /// True when no bit past `len` is set.
    pub fn host_bits_zero(&self) -> bool {
        u32::from_be_bytes(self.addr) & !mask32(self.len) == 0
    }

    /// Number of addresses in the prefix, saturated at `u32::MAX`.
    pub fn size(&self) -> u32 {
        if self.len == 0 {
            u32::MAX
        } else {
            1u32 << (32 - self.len as u32)
        }
    }

    /// The `index`th address of the prefix (wrapping within it).
    pub fn nth(&self, index: u32) -> [u8; 4] {
        let host = if self.len == 0 { index } else { index & !mask32(self.len) };
        (u32::from_be_bytes(self.addr) | host).to_be_bytes()
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

/// True when the first `bits` bits of `a` and `b` are equal.
#[inline]
pub fn bits_equal(a: &[u8], b: &[u8], bits: usize) -> bool {
    let whole = bits / 8;
    if a[..whole] != b[..whole] {
        return false;
    }
    let rest = bits % 8;
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    a[whole] & mask == b[whole] & mask
}

/// True when every bit of `a` from bit `from` on is zero.
pub fn host_bits_zero(a: &[u8], from: usize) -> bool {
    (from..a.len() * 8).all(|bit| a[bit / 8] & (0x80 >> (bit % 8)) == 0)
}

/// Reads `count` bits (at most 32) of `src` starting at bit `from`, right-aligned.
#[inline]
pub fn read_bits(src: &[u8], from: usize, count: usize) -> u32 {
    let mut v: u32 = 0;
    for bit in from..from + count {
        v = (v << 1) | ((src[bit / 8] >> (7 - bit % 8)) & 1) as u32;
    }
    v
}

/// Writes the low `count` bits (at most 32) of `v` into `dst` starting at bit `from`.
#[inline]
pub fn write_bits(dst: &mut [u8], from: usize, count: usize, v: u32) {
    for i in 0..count {
        let bit = from + i;
        let one = (v >> (count - 1 - i)) & 1 == 1;
        let m = 0x80u8 >> (bit % 8);
        if one {
            dst[bit / 8] |= m;
        } else {
            dst[bit / 8] &= !m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_containment_and_masks() {
        let p = Prefix4 { addr: [192, 0, 2, 0], len: 24 };
        assert!(p.contains(&[192, 0, 2, 255]));
        assert!(!p.contains(&[192, 0, 3, 0]));
        assert!(Prefix4::ZERO.contains(&[1, 2, 3, 4]));
        assert!(p.host_bits_zero());
        assert!(!Prefix4 { addr: [192, 0, 2, 1], len: 24 }.host_bits_zero());
        assert_eq!(p.size(), 256);
        assert_eq!(p.nth(7), [192, 0, 2, 7]);
        assert_eq!(p.nth(256 + 7), [192, 0, 2, 7]);
    }

    #[test]
    fn v6_containment_on_odd_lengths() {
        let mut a = [0u8; 16];
        a[0] = 0x20;
        a[1] = 0x01;
        a[2] = 0x0d;
        a[3] = 0xb8;
        a[4] = 0x01;
        let p = Prefix6 { addr: a, len: 36 };
        let mut inside = a;
        inside[4] = 0x0f;
        let mut outside = a;
        outside[4] = 0x11;
        assert!(p.contains(&inside));
        assert!(!p.contains(&outside));
        assert!(!p.host_bits_zero());
        assert!(Prefix6 { addr: a, len: 40 }.host_bits_zero());
    }

    #[test]
    fn bit_fields_round_trip() {
        let mut buf = [0u8; 16];
        write_bits(&mut buf, 72, 8, 0x21);
        assert_eq!(buf[9], 0x21);
        write_bits(&mut buf, 3, 13, 0x1abc);
        assert_eq!(read_bits(&buf, 3, 13), 0x1abc);
        assert_eq!(read_bits(&buf, 72, 8), 0x21);
    }
}

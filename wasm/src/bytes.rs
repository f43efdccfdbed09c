//! Big-endian field access on byte slices (network byte order).
//!
//! Callers check lengths before calling; these helpers index and would panic on a
//! short slice, so every wire module validates its bounds first.

/// Reads the big-endian `u16` at `at`.
#[inline(always)]
pub fn get16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Writes `v` big-endian at `at`.
#[inline(always)]
pub fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// Reads the big-endian `u32` at `at`.
#[inline(always)]
pub fn get32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Writes `v` big-endian at `at`.
#[inline(always)]
pub fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

/// Copies a 4-byte IPv4 address out of `b` at `at`.
#[inline(always)]
pub fn addr4(b: &[u8], at: usize) -> [u8; 4] {
    [b[at], b[at + 1], b[at + 2], b[at + 3]]
}

/// Copies a 16-byte IPv6 address out of `b` at `at`.
#[inline(always)]
pub fn addr6(b: &[u8], at: usize) -> [u8; 16] {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[at..at + 16]);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_network_order() {
        let mut b = [0u8; 8];
        put16(&mut b, 1, 0x1234);
        put32(&mut b, 3, 0xdead_beef);
        assert_eq!(b, [0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0]);
        assert_eq!(get16(&b, 1), 0x1234);
        assert_eq!(get32(&b, 3), 0xdead_beef);
        assert_eq!(addr4(&b, 3), [0xde, 0xad, 0xbe, 0xef]);
    }
}

//! IPv4 Identification values for packets translated from IPv6 without a Fragment
//! header (RFC 7915 §5.1 refers to RFC 6864).
//!
//! RFC 6864 §4.1 requires a non-atomic datagram's ID to be unique per source,
//! destination and protocol for its lifetime; one counter for every flow meets that,
//! with the same wrap-around limits as the IPv4 field itself.

/// A wrapping counter.
#[derive(Clone, Copy, Debug)]
pub struct IdGen {
    next: u16,
    seeded: bool,
}

impl IdGen {
    /// A counter not seeded yet.
    pub const fn new() -> Self {
        IdGen { next: 0, seeded: false }
    }

    /// Starts the sequence from the host clock once, so that a restarted engine
    /// does not repeat the IDs of its previous run from zero.
    pub fn seed_once(&mut self, now_ms: f64) {
        if !self.seeded {
            self.next = (now_ms as u64 % 65536) as u16;
            self.seeded = true;
        }
    }

    /// The next ID.
    #[inline]
    pub fn next(&mut self) -> u16 {
        self.next = self.next.wrapping_add(1);
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_wraps() {
        let mut g = IdGen::new();
        g.seed_once(65535.0);
        g.seed_once(7.0);
        assert_eq!(g.next(), 0);
        assert_eq!(g.next(), 1);
    }
}

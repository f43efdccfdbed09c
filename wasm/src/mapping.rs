//! SIIT address mapping: EAMT first, then the RFC 6052 prefix (RFC 7757 §3.3), the
//! RFC 6052 §3.1 rule for the Well-Known Prefix, the hairpin test (RFC 7757 §4.2),
//! the RFC 6791 pools used when an ICMP error comes from an untranslatable
//! address, and the destinations no translation may reach.

use crate::config::Config;
use crate::counters::Counter;
use crate::prefix::{mask128, mask32};
use crate::rfc6052;

/// Why an address has no counterpart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// No EAMT entry and not under pool6 (or no pool6).
    NoMapping,
    /// A non-global IPv4 address would sit under 64:ff9b::/96 (RFC 6052 §3.1).
    NonGlobalWkp,
}

impl MapError {
    /// The drop counter for a packet whose address could not be mapped;
    /// `untranslatable` names which address it was.
    pub fn counter(self, untranslatable: Counter) -> Counter {
        match self {
            MapError::NoMapping => untranslatable,
            MapError::NonGlobalWkp => Counter::drop_wkp_nonglobal,
        }
    }
}

/// Address mapper over one configuration.
#[derive(Clone, Copy)]
pub struct Mapper<'c> {
    cfg: &'c Config,
    wkp_checked: bool,
    /// Little-endian views of pool6 and its mask, for a swap-free containment test.
    pool6_le: u128,
    pool6_mask_le: u128,
    /// The translator's own addresses as integers: one compare each per packet.
    own_v4: Option<u32>,
    own_v6: Option<u128>,
}

impl<'c> Mapper<'c> {
    /// A mapper for `cfg`.
    pub fn new(cfg: &'c Config) -> Self {
        let wkp_checked = !cfg.wkp_allow_nonglobal && cfg.pool6 == Some(rfc6052::WKP);
        let (pool6_le, pool6_mask_le) = match cfg.pool6 {
            Some(p) => {
                let mask = if p.len == 0 { 0 } else { u128::MAX << (128 - p.len as u32) };
                (u128::from_le_bytes(p.addr), u128::from_le_bytes(mask.to_be_bytes()))
            }
            None => (0, 0),
        };
        let own_v4 = cfg.own_ipv4.map(u32::from_be_bytes);
        let own_v6 = cfg.own_ipv6.map(u128::from_be_bytes);
        Mapper { cfg, wkp_checked, pool6_le, pool6_mask_le, own_v4, own_v6 }
    }

    /// IPv6 → IPv4: the longest EAMT match, else extraction from pool6.
    #[inline]
    pub fn v6_to_v4(&self, a: &[u8; 16]) -> Result<[u8; 4], MapError> {
        if let Some(v4) = self.cfg.eamt.to_v4(a) {
            return Ok(v4);
        }
        let pool = self.cfg.pool6.as_ref().ok_or(MapError::NoMapping)?;
        if u128::from_le_bytes(*a) & self.pool6_mask_le != self.pool6_le {
            return Err(MapError::NoMapping);
        }
        let v4 = rfc6052::extract(pool.len, a);
        self.check_wkp(&v4)?;
        Ok(v4)
    }

    /// IPv4 → IPv6: the longest EAMT match when `use_eamt`, else embedding in pool6.
    /// A hairpinned packet's source-side addresses skip the EAMT (RFC 7757 §4.2).
    #[inline]
    pub fn v4_to_v6(&self, a: &[u8; 4], use_eamt: bool) -> Result<[u8; 16], MapError> {
        if use_eamt {
            if let Some(v6) = self.cfg.eamt.to_v6(a) {
                return Ok(v6);
            }
        }
        let pool = self.cfg.pool6.as_ref().ok_or(MapError::NoMapping)?;
        self.check_wkp(a)?;
        Ok(rfc6052::embed(pool, a))
    }

    #[inline]
    fn check_wkp(&self, v4: &[u8; 4]) -> Result<(), MapError> {
        if self.wkp_checked && !rfc6052::is_global_v4(v4) {
            Err(MapError::NonGlobalWkp)
        } else {
            Ok(())
        }
    }

    /// Why an IPv4 destination may not be reached through the translator, whatever
    /// mapped it; `None` for one that may. A few compares on the common path.
    #[inline]
    pub fn refuses_v4_dst(&self, a: &[u8; 4]) -> Option<Counter> {
        // RFC 6890 §2.2.2 registry, "Forwardable: False" or not unicast: "this network"
        // 0/8 and loopback 127/8 (RFC 1122 §3.2.1.3), link-local 169.254/16 (RFC 3927
        // §2.7: a router must not forward it), multicast 224/4 (RFC 5771) and 240/4,
        // which holds the limited broadcast 255.255.255.255 (RFC 919, RFC 6890). In the
        // spirit of RFC 6052 §3.1 and RFC 7915 §1.3: a translator must not hand an IPv6
        // client what it could not reach natively (RFC 6146 §3.5 for NAT64 alike).
        let special = match a[0] {
            0 | 127 => true,
            169 => a[1] == 254,
            first => first >= 224,
        };
        if special {
            return Some(Counter::drop_dst_v4_special);
        }
        let x = u32::from_be_bytes(*a);
        if self.cfg.deny_v4[..self.cfg.deny_v4_len].iter().any(|p| (x ^ u32::from_be_bytes(p.addr)) & mask32(p.len) == 0) {
            return Some(Counter::drop_dst_denied);
        }
        // The translator's own address is the source of the errors it makes, not a
        // host behind it (RFC 7915 §4.2, §5.2). Checked last: a stateful NAT64 whose
        // pool4 holds it lets it through to hairpin (RFC 6146 §3.8).
        if self.own_v4 == Some(x) {
            return Some(Counter::drop_dst_own_address);
        }
        None
    }

    /// Why an IPv6 destination may not be reached through the translator; `None` for
    /// one that may.
    #[inline]
    pub fn refuses_v6_dst(&self, a: &[u8; 16]) -> Option<Counter> {
        // Multicast ff00::/8 (RFC 4291 §2.7), link-local fe80::/10 (RFC 4291 §2.5.6:
        // routers must not forward it), loopback ::1 and the unspecified address
        // (RFC 4291 §2.5.2, §2.5.3): never a translated packet's destination, as
        // RFC 6052 §3.1 keeps non-global addresses out of the Well-Known Prefix.
        let x = u128::from_be_bytes(*a);
        let special = match a[0] {
            0xff => true,
            0xfe => a[1] & 0xc0 == 0x80,
            0 => x <= 1,
            _ => false,
        };
        if special {
            Some(Counter::drop_dst_v6_special)
        } else if self.cfg.deny_v6[..self.cfg.deny_v6_len].iter().any(|p| (x ^ u128::from_be_bytes(p.addr)) & mask128(p.len) == 0) {
            Some(Counter::drop_dst_denied)
        } else if self.own_v6 == Some(x) {
            // RFC 7915 §4.2, §5.2: the translator's own address sources its errors only.
            Some(Counter::drop_dst_own_address)
        } else {
            None
        }
    }

    /// True when an IPv4 destination belongs to an EAMT entry, so the packet must
    /// be translated back to IPv6 (RFC 7757 §4.2).
    #[inline]
    pub fn hairpins(&self, dst: &[u8; 4]) -> bool {
        self.cfg.eamt.covers_v4(dst)
    }

    /// Source for an ICMPv4 error whose IPv6 source is untranslatable (RFC 6791 §4):
    /// an address of the RFC 6791 IPv4 pool picked by a hash of `untranslatable`, so
    /// one router keeps one address; without a pool, the translator's own address.
    pub fn rfc6791_v4(&self, untranslatable: &[u8; 16]) -> Option<[u8; 4]> {
        match self.cfg.rfc6791_v4 {
            Some(pool) => Some(pool.nth(hash(untranslatable))),
            None => self.cfg.own_ipv4,
        }
    }

    /// Source for an ICMPv6 error whose IPv4 source is untranslatable: the RFC 6791
    /// IPv6 pool, else the translator's own address.
    pub fn rfc6791_v6(&self, untranslatable: &[u8; 4]) -> Option<[u8; 16]> {
        match self.cfg.rfc6791_v6 {
            Some(pool) => {
                let host_bits = 128 - pool.len as u32;
                let mask = if host_bits >= 32 { u32::MAX } else { (1u32 << host_bits) - 1 };
                let mut a = pool.addr;
                let low = u32::from_be_bytes([a[12], a[13], a[14], a[15]]) | (hash(untranslatable) & mask);
                a[12..16].copy_from_slice(&low.to_be_bytes());
                Some(a)
            }
            None => self.cfg.own_ipv6,
        }
    }
}

/// FNV-1a, enough to spread pool picks.
fn hash(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, &b| (h ^ b as u32).wrapping_mul(0x0100_0193))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefix::{Prefix4, Prefix6};
    extern crate std;
    use std::boxed::Box;

    fn a6(words: [u16; 8]) -> [u8; 16] {
        let mut a = [0u8; 16];
        for (i, w) in words.iter().enumerate() {
            a[2 * i..2 * i + 2].copy_from_slice(&w.to_be_bytes());
        }
        a
    }

    fn corpus_config() -> Box<Config> {
        let mut c = Config::defaults();
        c.pool6 = Some(Prefix6 { addr: a6([0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0]), len: 40 });
        c.eamt.add(Prefix6 { addr: a6([0x2001, 0xdb8, 3, 0, 0, 0, 0, 0]), len: 120 }, Prefix4 { addr: [1, 0, 0, 0], len: 24 }).unwrap();
        c
    }

    #[test]
    fn eamt_before_pool6() {
        let c = corpus_config();
        let m = Mapper::new(&c);
        assert_eq!(m.v4_to_v6(&[1, 0, 0, 9], true), Ok(a6([0x2001, 0xdb8, 3, 0, 0, 0, 0, 9])));
        assert_eq!(m.v4_to_v6(&[1, 0, 0, 9], false), Ok(a6([0x2001, 0xdb8, 0x101, 0, 9, 0, 0, 0])));
        assert_eq!(m.v6_to_v4(&a6([0x2001, 0xdb8, 3, 0, 0, 0, 0, 8])), Ok([1, 0, 0, 8]));
        assert_eq!(m.v6_to_v4(&a6([0x2001, 0xdb8, 0x1c0, 2, 0x21, 0, 0, 0])), Ok([192, 0, 2, 33]));
        assert_eq!(m.v6_to_v4(&a6([0x4000, 0, 0, 0, 0, 0, 0, 1])), Err(MapError::NoMapping));
        assert!(m.hairpins(&[1, 0, 0, 1]));
        assert!(!m.hairpins(&[192, 0, 2, 1]));
    }

    #[test]
    fn wkp_refuses_non_global_unless_allowed() {
        let mut c = Config::defaults();
        c.pool6 = Some(rfc6052::WKP);
        let wkp_10 = a6([0x64, 0xff9b, 0, 0, 0, 0, 0x0a00, 1]);
        let m = Mapper::new(&c);
        assert_eq!(m.v6_to_v4(&wkp_10), Err(MapError::NonGlobalWkp));
        assert_eq!(m.v4_to_v6(&[192, 168, 0, 1], true), Err(MapError::NonGlobalWkp));
        assert_eq!(m.v4_to_v6(&[8, 8, 8, 8], true), Ok(a6([0x64, 0xff9b, 0, 0, 0, 0, 0x0808, 0x0808])));
        c.wkp_allow_nonglobal = true;
        let m = Mapper::new(&c);
        assert_eq!(m.v6_to_v4(&wkp_10), Ok([10, 0, 0, 1]));
    }

    #[test]
    fn the_rfc8215_local_use_prefix_allows_non_global() {
        let mut c = Config::defaults();
        c.pool6 = Some(Prefix6 { addr: a6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0]), len: 48 });
        let m = Mapper::new(&c);
        assert!(m.v4_to_v6(&[10, 0, 0, 1], true).is_ok());
    }

    #[test]
    fn special_own_and_denied_destinations_are_refused() {
        let mut c = corpus_config();
        c.own_ipv4 = Some([203, 0, 113, 1]);
        c.own_ipv6 = Some(a6([0x2001, 0xdb8, 0xff, 0, 0, 0, 0, 1]));
        c.deny_v4[0] = Prefix4 { addr: [198, 51, 100, 0], len: 28 };
        c.deny_v4_len = 1;
        c.deny_v6[0] = Prefix6 { addr: a6([0x2001, 0xdb8, 1, 0, 0, 0, 0, 1]), len: 128 };
        c.deny_v6_len = 1;
        let m = Mapper::new(&c);
        for v4 in [[0, 0, 0, 1], [127, 0, 0, 1], [169, 254, 169, 254], [224, 0, 0, 1], [239, 255, 255, 250], [255, 255, 255, 255]] {
            assert_eq!(m.refuses_v4_dst(&v4), Some(Counter::drop_dst_v4_special), "{:?}", v4);
        }
        assert_eq!(m.refuses_v4_dst(&[203, 0, 113, 1]), Some(Counter::drop_dst_own_address));
        assert_eq!(m.refuses_v4_dst(&[198, 51, 100, 15]), Some(Counter::drop_dst_denied));
        for v4 in [[198, 51, 100, 16], [169, 253, 0, 1], [223, 255, 255, 255], [1, 0, 0, 0], [203, 0, 113, 2]] {
            assert_eq!(m.refuses_v4_dst(&v4), None, "{:?}", v4);
        }
        let special6 = [a6([0xff02, 0, 0, 0, 0, 0, 0, 1]), a6([0xfe80, 0, 0, 0, 0, 0, 0, 1]), a6([0xfebf, 0, 0, 0, 0, 0, 0, 1]), a6([0, 0, 0, 0, 0, 0, 0, 1]), [0; 16]];
        for v6 in special6.iter() {
            assert_eq!(m.refuses_v6_dst(v6), Some(Counter::drop_dst_v6_special), "{:?}", v6);
        }
        assert_eq!(m.refuses_v6_dst(&a6([0x2001, 0xdb8, 0xff, 0, 0, 0, 0, 1])), Some(Counter::drop_dst_own_address));
        assert_eq!(m.refuses_v6_dst(&a6([0x2001, 0xdb8, 1, 0, 0, 0, 0, 1])), Some(Counter::drop_dst_denied));
        assert_eq!(m.refuses_v6_dst(&a6([0x2001, 0xdb8, 1, 0, 0, 0, 0, 2])), None);
        for v6 in [a6([0xfec0, 0, 0, 0, 0, 0, 0, 1]), a6([0, 0, 0, 0, 0, 0, 0, 2]), a6([0x2001, 0xdb8, 3, 0, 0, 0, 0, 1])].iter() {
            assert_eq!(m.refuses_v6_dst(v6), None, "{:?}", v6);
        }
    }

    #[test]
    fn rfc6791_pools_fall_back_to_own_addresses() {
        let mut c = corpus_config();
        let router = a6([0x4000, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(Mapper::new(&c).rfc6791_v4(&router), None);
        c.own_ipv4 = Some([198, 51, 100, 1]);
        assert_eq!(Mapper::new(&c).rfc6791_v4(&router), Some([198, 51, 100, 1]));
        c.rfc6791_v4 = Some(Prefix4 { addr: [203, 0, 113, 8], len: 32 });
        assert_eq!(Mapper::new(&c).rfc6791_v4(&router), Some([203, 0, 113, 8]));
        c.rfc6791_v4 = Some(Prefix4 { addr: [203, 0, 113, 0], len: 24 });
        let picked = Mapper::new(&c).rfc6791_v4(&router).unwrap();
        assert_eq!(&picked[..3], &[203, 0, 113]);
        assert_eq!(Mapper::new(&c).rfc6791_v4(&router), Some(picked));

        c.rfc6791_v6 = Some(Prefix6 { addr: a6([2, 0, 0, 0, 0, 0, 0, 2]), len: 128 });
        assert_eq!(Mapper::new(&c).rfc6791_v6(&[2, 0, 0, 2]), Some(a6([2, 0, 0, 0, 0, 0, 0, 2])));
        c.rfc6791_v6 = Some(Prefix6 { addr: a6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]), len: 120 });
        let p = Mapper::new(&c).rfc6791_v6(&[2, 0, 0, 2]).unwrap();
        assert_eq!(&p[..15], &a6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0])[..15]);
    }
}

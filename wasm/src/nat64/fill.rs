//! Filling the tables with synthetic UDP sessions, for benchmarks that measure lookups
//! and expiry at a given table size. The sessions go through [`Nat64::outbound`], so
//! they are exactly what real traffic would create.

use super::state::Nat64;
use super::tcp::TcpFlags;
use super::types::{Flow6, Proto, Refusal};

/// What [`Nat64::fill_udp`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FillResult {
    /// Sessions created.
    pub created: u32,
    /// Why it stopped early, if it did.
    pub refusal: Option<Refusal>,
}

/// The flow of synthetic session `i` among `hosts` hosts: host `i % hosts` is
/// 2001:db8::(host + 1); its `j = i / hosts`-th session goes from port 1024 + j % 64000
/// to 198.51.100.(j / 64000 % 256):53. Every flow is distinct while
/// `i < hosts × 64000 × 256`, and each one needs its own BIB entry while `j < 64000`.
pub fn synthetic_flow(i: u32, hosts: u32) -> Flow6 {
    let hosts = hosts.max(1);
    let host = i % hosts + 1;
    let j = i / hosts;
    let mut src6 = [0u8; 16];
    src6[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    src6[12..].copy_from_slice(&host.to_be_bytes());
    Flow6 {
        proto: Proto::Udp,
        src6,
        sport: 1024 + (j % 64000) as u16,
        dst4: [198, 51, 100, (j / 64000 % 256) as u8],
        dport: 53,
        flags: TcpFlags::default(),
    }
}

impl<'a> Nat64<'a> {
    /// Creates sessions for [`synthetic_flow`] `0..count` spread over `hosts` IPv6
    /// hosts, all at `now_ms`; stops at the first refusal (pool4 must have room for
    /// `count / hosts` ports per host address).
    pub fn fill_udp(&mut self, count: u32, hosts: u32, now_ms: u64) -> FillResult {
        for i in 0..count {
            if let Err(r) = self.outbound(&synthetic_flow(i, hosts), now_ms) {
                return FillResult {
                    created: i,
                    refusal: Some(r),
                };
            }
        }
        FillResult {
            created: count,
            refusal: None,
        }
    }
}

//! Everything a translator needs besides the packet: configuration, the address
//! mapper, the IPv4 ID source, a scratch buffer for messages that are rebuilt, and in
//! stateful NAT64 mode the tables and what they said about the packet in hand.

use crate::config::Config;
use crate::ipid::IdGen;
use crate::mapping::Mapper;
use crate::nat64::{FragmentKey, Nat64};
use crate::offload::Partial;
use crate::ratelimit::TokenBucket;
use crate::stateful::Binding;

/// Bytes of scratch space: the largest message rebuilt through it is an ICMPv6
/// error of 1280 bytes (RFC 4443 §2.4(c)).
pub const SCRATCH_LEN: usize = 1280;

/// Translation context for one batch.
pub struct Tx<'a> {
    /// Active configuration.
    pub cfg: &'a Config,
    /// Address mapper over `cfg`.
    pub map: Mapper<'a>,
    /// IPv4 Identification source.
    pub ids: &'a mut IdGen,
    /// Scratch buffer of [`SCRATCH_LEN`] bytes.
    pub scratch: &'a mut [u8; SCRATCH_LEN],
    /// Rate limit of originated ICMP errors.
    pub errors: &'a mut TokenBucket,
    /// The host's clock for this batch, in milliseconds.
    pub now_ms: f64,
    /// Errors the rate limit held back in this batch.
    pub errors_held_back: u64,
    /// Stateful NAT64 (RFC 6146): the tables, in that mode only.
    pub state: Option<&'a mut Nat64<'static>>,
    /// Stateful NAT64: the binding the packet in hand is translated with, once the
    /// tables gave it (see [`crate::stateful`]).
    pub binding: Option<Binding>,
    /// Stateful NAT64: a datagram whose held fragments the packet in hand made
    /// translatable; the engine translates them right after it.
    pub release: Option<FragmentKey>,
    /// TUN offloads: the packet in hand carries a partial checksum (a GSO super-packet
    /// always does) that translation keeps partial, until something needs it complete
    /// ([`crate::offload::settle`]).
    pub partial: Option<Partial>,
}

impl<'a> Tx<'a> {
    /// A context over `cfg` at time `now_ms`.
    pub fn new(cfg: &'a Config, ids: &'a mut IdGen, scratch: &'a mut [u8; SCRATCH_LEN], errors: &'a mut TokenBucket, now_ms: f64) -> Self {
        Tx { cfg, map: Mapper::new(cfg), ids, scratch, errors, now_ms, errors_held_back: 0, state: None, binding: None, release: None, partial: None }
    }

    /// The host's clock as the stateful tables count it.
    pub fn now(&self) -> u64 {
        self.now_ms as u64
    }

    /// True when the rate limit lets one more ICMP error out (and counts one that it holds back).
    pub fn may_send_error(&mut self) -> bool {
        let ok = self.errors.take(self.now_ms, self.cfg.icmp_errors_per_second);
        if !ok {
            self.errors_held_back += 1;
        }
        ok
    }
}

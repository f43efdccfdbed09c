//! Everything a translator needs besides the packet: configuration, the address
//! mapper, the IPv4 ID source and a scratch buffer for messages that are rebuilt.

use crate::config::Config;
use crate::ipid::IdGen;
use crate::mapping::Mapper;
use crate::ratelimit::TokenBucket;

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
}

impl<'a> Tx<'a> {
    /// A context over `cfg` at time `now_ms`.
    pub fn new(cfg: &'a Config, ids: &'a mut IdGen, scratch: &'a mut [u8; SCRATCH_LEN], errors: &'a mut TokenBucket, now_ms: f64) -> Self {
        Tx { cfg, map: Mapper::new(cfg), ids, scratch, errors, now_ms, errors_held_back: 0 }
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

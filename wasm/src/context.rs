//! Everything a translator needs besides the packet: configuration, the address
//! mapper, the IPv4 ID source and a scratch buffer for messages that are rebuilt.

use crate::config::Config;
use crate::ipid::IdGen;
use crate::mapping::Mapper;

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
}

impl<'a> Tx<'a> {
    /// A context over `cfg`.
    pub fn new(cfg: &'a Config, ids: &'a mut IdGen, scratch: &'a mut [u8; SCRATCH_LEN]) -> Self {
        Tx { cfg, map: Mapper::new(cfg), ids, scratch }
    }
}

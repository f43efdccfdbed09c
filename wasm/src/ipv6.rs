//! IPv6 header (RFC 8200): checked parsing, the extension-header walk RFC 7915 §5.1
//! needs (skip Hop-by-Hop, Routing and Destination Options; read the Fragment
//! header), and header writing.

use crate::bytes::{addr6, get16, get32, put16, put32};
use crate::protocol::{DSTOPTS, FRAGMENT, HOPOPT, ROUTING};

/// Length of the fixed header.
pub const HEADER_LEN: usize = 40;
/// Length of the Fragment header.
pub const FRAGMENT_LEN: usize = 8;

/// Fixed-header fields, copied out so the bytes can be overwritten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv6Fields {
    /// Traffic Class.
    pub traffic_class: u8,
    /// Payload Length.
    pub payload_len: usize,
    /// Next Header of the fixed header.
    pub next_header: u8,
    /// Hop Limit.
    pub hop_limit: u8,
    /// Source address.
    pub src: [u8; 16],
    /// Destination address.
    pub dst: [u8; 16],
}

/// The header is not a usable IPv6 header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed;

/// Parses the fixed header of a packet received whole: the payload must fit in `b`
/// (bytes after it are ignored). Jumbograms (Payload Length 0, RFC 2675) are refused.
#[inline]
pub fn parse(b: &[u8]) -> Result<Ipv6Fields, Malformed> {
    let f = parse_truncated(b)?;
    if HEADER_LEN + f.payload_len > b.len() || (f.payload_len == 0 && f.next_header == HOPOPT) {
        return Err(Malformed);
    }
    Ok(f)
}

/// Parses a fixed header that may be followed by only part of its payload (the
/// packet quoted in an ICMPv6 error, RFC 4443 §3).
#[inline]
pub fn parse_truncated(b: &[u8]) -> Result<Ipv6Fields, Malformed> {
    if b.len() < HEADER_LEN || b[0] >> 4 != 6 {
        return Err(Malformed);
    }
    Ok(Ipv6Fields {
        traffic_class: ((get16(b, 0) >> 4) & 0xff) as u8,
        payload_len: get16(b, 4) as usize,
        next_header: b[6],
        hop_limit: b[7],
        src: addr6(b, 8),
        dst: addr6(b, 24),
    })
}

/// A Fragment header (RFC 8200 §4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// Fragment Offset in 8-byte units.
    pub offset: u16,
    /// M flag: more fragments follow.
    pub more: bool,
    /// Identification.
    pub id: u32,
}

impl Fragment {
    /// True when the packet is only part of a datagram (not an atomic fragment).
    #[inline]
    pub fn is_fragmented(&self) -> bool {
        self.offset != 0 || self.more
    }
}

/// A reason RFC 7915 §5.1 gives for not translating a header chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainProblem {
    /// A Routing header with Segments Left ≠ 0; `pointer` is the offset of that
    /// field from the start of the packet.
    SegmentsLeft {
        /// Byte offset of the Segments Left field.
        pointer: usize,
    },
    /// An extension header (or a second Fragment header) after the Fragment header,
    /// which IPv4 cannot express.
    AfterFragment,
}

/// What the extension header walk found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chain {
    /// Protocol of the upper layer (or Next Header of a non-first fragment).
    pub protocol: u8,
    /// Offset of the upper-layer data from the start of the packet.
    pub upper_at: usize,
    /// The Fragment header, if any.
    pub fragment: Option<Fragment>,
    /// A reason not to translate, if any.
    pub problem: Option<ChainProblem>,
}

fn is_extension(nh: u8) -> bool {
    matches!(nh, HOPOPT | ROUTING | DSTOPTS | FRAGMENT)
}

/// Walks the extension headers of the packet `b` (fixed header included), whose
/// first Next Header is `first`. Hop-by-Hop, Routing and Destination Options are
/// skipped; anything else ends the chain as the upper layer. A header that runs
/// past `b` makes the chain malformed.
pub fn walk(b: &[u8], first: u8) -> Result<Chain, Malformed> {
    let mut nh = first;
    let mut at = HEADER_LEN;
    let mut fragment: Option<Fragment> = None;
    let chain = |protocol, upper_at, fragment, problem| Ok(Chain { protocol, upper_at, fragment, problem });
    loop {
        if fragment.is_some() && is_extension(nh) {
            return chain(nh, at, fragment, Some(ChainProblem::AfterFragment));
        }
        match nh {
            HOPOPT | ROUTING | DSTOPTS => {
                if at + 8 > b.len() {
                    return Err(Malformed);
                }
                let len = (b[at + 1] as usize + 1) * 8;
                if at + len > b.len() {
                    return Err(Malformed);
                }
                if nh == ROUTING && b[at + 3] != 0 {
                    return chain(nh, at, fragment, Some(ChainProblem::SegmentsLeft { pointer: at + 3 }));
                }
                nh = b[at];
                at += len;
            }
            FRAGMENT => {
                if at + FRAGMENT_LEN > b.len() {
                    return Err(Malformed);
                }
                let word = get16(b, at + 2);
                let f = Fragment { offset: word >> 3, more: word & 1 == 1, id: get32(b, at + 4) };
                nh = b[at];
                at += FRAGMENT_LEN;
                fragment = Some(f);
                if f.offset != 0 {
                    // A non-first fragment carries payload, not headers, after this one.
                    return chain(nh, at, fragment, None);
                }
            }
            _ => return chain(nh, at, fragment, None),
        }
    }
}

/// Header of a packet the engine writes; the Flow Label is always zero (RFC 7915 §4.1).
#[derive(Clone, Copy, Debug)]
pub struct Ipv6Out {
    /// Traffic Class.
    pub traffic_class: u8,
    /// Payload Length.
    pub payload_len: u16,
    /// Next Header.
    pub next_header: u8,
    /// Hop Limit.
    pub hop_limit: u8,
    /// Source address.
    pub src: [u8; 16],
    /// Destination address.
    pub dst: [u8; 16],
}

/// Writes `h` as the 40-byte fixed header at the start of `out`.
#[inline]
pub fn write(out: &mut [u8], h: &Ipv6Out) {
    let mut b = [0u8; HEADER_LEN];
    b[0..4].copy_from_slice(&(0x6000_0000 | (h.traffic_class as u32) << 20).to_be_bytes());
    b[4..6].copy_from_slice(&h.payload_len.to_be_bytes());
    b[6] = h.next_header;
    b[7] = h.hop_limit;
    b[8..24].copy_from_slice(&h.src);
    b[24..40].copy_from_slice(&h.dst);
    out[..HEADER_LEN].copy_from_slice(&b);
}

/// Writes a Fragment header at the start of `out`.
#[inline]
pub fn write_fragment(out: &mut [u8], next_header: u8, f: &Fragment) {
    out[0] = next_header;
    out[1] = 0;
    put16(out, 2, (f.offset << 3) | f.more as u16);
    put32(out, 4, f.id);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::UDP;

    fn packet(exts: &[u8], first: u8) -> [u8; 128] {
        let mut b = [0u8; 128];
        b[0] = 0x60;
        b[4..6].copy_from_slice(&((exts.len() + 8) as u16).to_be_bytes());
        b[6] = first;
        b[7] = 64;
        b[40..40 + exts.len()].copy_from_slice(exts);
        b
    }

    #[test]
    fn fixed_header_fields() {
        let mut b = packet(&[], UDP);
        b[0] = 0x6a;
        b[1] = 0xbf;
        let f = parse(&b[..48]).unwrap();
        assert_eq!(f.traffic_class, 0xab);
        assert_eq!(f.payload_len, 8);
        assert_eq!(f.hop_limit, 64);
        assert_eq!(parse(&b[..47]), Err(Malformed));
        b[0] = 0x40;
        assert_eq!(parse(&b[..48]), Err(Malformed));
    }

    #[test]
    fn jumbograms_are_refused() {
        let mut b = packet(&[], HOPOPT);
        b[4] = 0;
        b[5] = 0;
        assert_eq!(parse(&b), Err(Malformed));
    }

    #[test]
    fn skips_hop_by_hop_destination_and_exhausted_routing_headers() {
        let exts = [
            DSTOPTS, 0, 1, 4, 0, 0, 0, 0, // Hop-by-Hop, 8 bytes
            ROUTING, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // DestOpts, 16 bytes
            UDP, 0, 0, 0, 0, 0, 0, 0, // Routing, Segments Left 0
        ];
        let b = packet(&exts, HOPOPT);
        let c = walk(&b, HOPOPT).unwrap();
        assert_eq!(c, Chain { protocol: UDP, upper_at: 72, fragment: None, problem: None });
    }

    #[test]
    fn routing_header_with_segments_left_points_at_the_field() {
        let exts = [ROUTING, 0, 1, 4, 0, 0, 0, 0, UDP, 0, 0, 2, 0, 0, 0, 0];
        let b = packet(&exts, HOPOPT);
        let c = walk(&b, HOPOPT).unwrap();
        assert_eq!(c.problem, Some(ChainProblem::SegmentsLeft { pointer: 51 }));
    }

    #[test]
    fn reads_the_fragment_header() {
        let exts = [UDP, 0, 0x04, 0xb9, 0x87, 0x65, 0x43, 0x21];
        let b = packet(&exts, FRAGMENT);
        let c = walk(&b, FRAGMENT).unwrap();
        assert_eq!(c.protocol, UDP);
        assert_eq!(c.upper_at, 48);
        assert_eq!(c.fragment, Some(Fragment { offset: 0x97, more: true, id: 0x8765_4321 }));
        assert!(c.fragment.unwrap().is_fragmented());
    }

    #[test]
    fn extension_after_fragment_header_is_a_problem_only_in_first_fragments() {
        let first = [DSTOPTS, 0, 0, 0, 0, 0, 0, 1, UDP, 0, 1, 4, 0, 0, 0, 0];
        let c = walk(&packet(&first, FRAGMENT), FRAGMENT).unwrap();
        assert_eq!(c.problem, Some(ChainProblem::AfterFragment));
        let later = [DSTOPTS, 0, 0, 0x10, 0, 0, 0, 1, UDP, 0, 1, 4, 0, 0, 0, 0];
        let c = walk(&packet(&later, FRAGMENT), FRAGMENT).unwrap();
        assert_eq!(c.problem, None);
        assert_eq!(c.protocol, DSTOPTS);
    }

    #[test]
    fn truncated_chains_are_malformed() {
        let b = packet(&[UDP, 3, 0, 0, 0, 0, 0, 0], DSTOPTS);
        assert_eq!(walk(&b[..60], DSTOPTS), Err(Malformed));
        assert_eq!(walk(&b[..44], FRAGMENT), Err(Malformed));
    }

    #[test]
    fn writes_headers() {
        let mut out = [0u8; 48];
        write(&mut out, &Ipv6Out { traffic_class: 0xab, payload_len: 8, next_header: FRAGMENT, hop_limit: 63, src: [1; 16], dst: [2; 16] });
        write_fragment(&mut out[40..], UDP, &Fragment { offset: 0x97, more: true, id: 0x1234 });
        let f = parse_truncated(&out).unwrap();
        assert_eq!((f.traffic_class, f.payload_len, f.next_header, f.hop_limit), (0xab, 8, FRAGMENT, 63));
        assert_eq!(&out[0..4], &[0x6a, 0xb0, 0, 0]);
        assert_eq!(&out[40..48], &[UDP, 0, 0x04, 0xb9, 0, 0, 0x12, 0x34]);
    }
}

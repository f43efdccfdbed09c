//! IPv4 header (RFC 791): checked parsing into plain fields, the source-route option
//! scan RFC 7915 §4.1 needs, and header writing with its checksum.

use crate::bytes::{addr4, get16, put16};
use crate::checksum;

/// Length of a header without options.
pub const HEADER_LEN: usize = 20;
/// Flag bit "Don't Fragment" in the flags/offset word.
pub const DF: u16 = 0x4000;
/// Flag bit "More Fragments" in the flags/offset word.
pub const MF: u16 = 0x2000;
/// Fragment offset mask (units of 8 bytes) in the flags/offset word.
pub const OFFSET_MASK: u16 = 0x1fff;

/// The header fields of a received packet, copied out so the bytes can be overwritten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Fields {
    /// Header length in bytes (IHL × 4).
    pub header_len: usize,
    /// Type of Service / Traffic Class octet.
    pub tos: u8,
    /// Total Length from the header.
    pub total_len: usize,
    /// Identification.
    pub id: u16,
    /// Flags and fragment offset word.
    pub flags_offset: u16,
    /// Time to Live.
    pub ttl: u8,
    /// Protocol.
    pub protocol: u8,
    /// Source address.
    pub src: [u8; 4],
    /// Destination address.
    pub dst: [u8; 4],
}

impl Ipv4Fields {
    /// Don't Fragment set.
    #[inline]
    pub fn df(&self) -> bool {
        self.flags_offset & DF != 0
    }

    /// More Fragments set.
    #[inline]
    pub fn mf(&self) -> bool {
        self.flags_offset & MF != 0
    }

    /// Fragment offset in 8-byte units.
    #[inline]
    pub fn offset(&self) -> u16 {
        self.flags_offset & OFFSET_MASK
    }

    /// True for a fragment of a larger datagram (MF set or offset non-zero).
    #[inline]
    pub fn is_fragment(&self) -> bool {
        self.flags_offset & (MF | OFFSET_MASK) != 0
    }

    /// Payload length according to the header.
    #[inline]
    pub fn payload_len(&self) -> usize {
        self.total_len - self.header_len
    }
}

/// Why a header was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ipv4Error {
    /// Fewer bytes than the header needs, or version not 4.
    Malformed,
    /// Header checksum wrong.
    Checksum,
}

/// Parses the header of a packet received whole: the Total Length must fit in `b`
/// (bytes after it, such as link padding, are ignored) and the header checksum must
/// verify (RFC 1812 §5.2.2). Always inlined: it is the first step of every IPv4
/// packet, and the translator's hot path.
#[inline(always)]
pub fn parse(b: &[u8]) -> Result<Ipv4Fields, Ipv4Error> {
    let f = parse_truncated(b)?;
    if f.total_len > b.len() {
        return Err(Ipv4Error::Malformed);
    }
    // Most headers have no options: a constant length lets the sum unroll.
    let sum = if f.header_len == HEADER_LEN { checksum::sum(&b[..HEADER_LEN]) } else { checksum::sum(&b[..f.header_len]) };
    if !checksum::verifies(sum) {
        return Err(Ipv4Error::Checksum);
    }
    Ok(f)
}

/// Parses a header that may be followed by only part of its payload, as the packet
/// quoted inside an ICMP error is (RFC 792). The checksum is not checked.
#[inline]
pub fn parse_truncated(b: &[u8]) -> Result<Ipv4Fields, Ipv4Error> {
    if b.len() < HEADER_LEN || b[0] >> 4 != 4 {
        return Err(Ipv4Error::Malformed);
    }
    let header_len = ((b[0] & 0x0f) as usize) * 4;
    let total_len = get16(b, 2) as usize;
    if header_len < HEADER_LEN || header_len > b.len() || total_len < header_len {
        return Err(Ipv4Error::Malformed);
    }
    Ok(Ipv4Fields {
        header_len,
        tos: b[1],
        total_len,
        id: get16(b, 4),
        flags_offset: get16(b, 6),
        ttl: b[8],
        protocol: b[9],
        src: addr4(b, 12),
        dst: addr4(b, 16),
    })
}

/// True when the options hold a Loose or Strict Source Route whose pointer has not
/// passed its length, i.e. the route is not exhausted (RFC 791; RFC 7915 §4.1).
pub fn has_unexpired_source_route(options: &[u8]) -> bool {
    const EOL: u8 = 0;
    const NOP: u8 = 1;
    const LSRR: u8 = 0x83;
    const SSRR: u8 = 0x89;
    let mut i = 0;
    while i < options.len() {
        match options[i] {
            EOL => return false,
            NOP => i += 1,
            kind => {
                if i + 1 >= options.len() {
                    return false;
                }
                let len = options[i + 1] as usize;
                if len < 2 || i + len > options.len() {
                    return false;
                }
                if (kind == LSRR || kind == SSRR) && len >= 3 && (options[i + 2] as usize) <= len {
                    return true;
                }
                i += len;
            }
        }
    }
    false
}

/// Header of a packet the engine writes (no options).
#[derive(Clone, Copy, Debug)]
pub struct Ipv4Out {
    /// Type of Service.
    pub tos: u8,
    /// Total Length.
    pub total_len: u16,
    /// Identification.
    pub id: u16,
    /// Flags and fragment offset word.
    pub flags_offset: u16,
    /// Time to Live.
    pub ttl: u8,
    /// Protocol.
    pub protocol: u8,
    /// Source address.
    pub src: [u8; 4],
    /// Destination address.
    pub dst: [u8; 4],
}

/// Writes `h` as a 20-byte header at the start of `out`, checksum included.
#[inline]
pub fn write(out: &mut [u8], h: &Ipv4Out) {
    let mut b = [0u8; HEADER_LEN];
    b[0] = 0x45;
    b[1] = h.tos;
    b[2..4].copy_from_slice(&h.total_len.to_be_bytes());
    b[4..6].copy_from_slice(&h.id.to_be_bytes());
    b[6..8].copy_from_slice(&h.flags_offset.to_be_bytes());
    b[8] = h.ttl;
    b[9] = h.protocol;
    b[12..16].copy_from_slice(&h.src);
    b[16..20].copy_from_slice(&h.dst);
    let c = checksum::finish(checksum::sum(&b));
    b[10..12].copy_from_slice(&c.to_be_bytes());
    out[..HEADER_LEN].copy_from_slice(&b);
}

/// Rewrites Total Length and the flags/offset word of the header at the start of
/// `hdr` and recomputes its checksum (used when cutting fragments).
pub fn set_length_and_fragment(hdr: &mut [u8], total_len: u16, flags_offset: u16) {
    put16(hdr, 2, total_len);
    put16(hdr, 6, flags_offset);
    hdr[10] = 0;
    hdr[11] = 0;
    let hl = ((hdr[0] & 0x0f) as usize) * 4;
    let c = checksum::finish(checksum::sum(&hdr[..hl]));
    put16(hdr, 10, c);
}

#[cfg(test)]
mod tests {
    use super::*;

    const UDP_PKT: [u8; 32] = [
        0x45, 0x00, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x4e, 0x76, 0xc6, 0x33, 0x64, 0x02,
        0xc0, 0x00, 0x02, 0x21, 0x07, 0xd0, 0x0f, 0xa0, 0x00, 0x0c, 0xfa, 0x0a, 0x00, 0x01, 0x02, 0x03,
    ];

    #[test]
    fn parses_fields() {
        let f = parse(&UDP_PKT).unwrap();
        assert_eq!(f.header_len, 20);
        assert_eq!(f.total_len, 32);
        assert!(f.df());
        assert!(!f.is_fragment());
        assert_eq!(f.ttl, 64);
        assert_eq!(f.protocol, 17);
        assert_eq!(f.src, [198, 51, 100, 2]);
        assert_eq!(f.dst, [192, 0, 2, 33]);
        assert_eq!(f.payload_len(), 12);
    }

    #[test]
    fn ignores_trailing_link_padding() {
        let mut b = [0u8; 60];
        b[..32].copy_from_slice(&UDP_PKT);
        assert_eq!(parse(&b).unwrap().total_len, 32);
    }

    #[test]
    fn refuses_bad_headers() {
        assert_eq!(parse(&UDP_PKT[..19]), Err(Ipv4Error::Malformed));
        assert_eq!(parse(&UDP_PKT[..31]), Err(Ipv4Error::Malformed));
        let mut b = UDP_PKT;
        b[0] = 0x44;
        assert_eq!(parse(&b), Err(Ipv4Error::Malformed));
        let mut b = UDP_PKT;
        b[0] = 0x65;
        assert_eq!(parse(&b), Err(Ipv4Error::Malformed));
        let mut b = UDP_PKT;
        b[0] = 0x4f;
        assert_eq!(parse(&b), Err(Ipv4Error::Malformed));
        let mut b = UDP_PKT;
        b[11] ^= 1;
        assert_eq!(parse(&b), Err(Ipv4Error::Checksum));
        assert!(parse_truncated(&UDP_PKT[..24]).is_ok());
    }

    #[test]
    fn source_route_expiry() {
        // LSRR, length 11, pointer 12: exhausted; SSRR pointer 4: unexpired.
        assert!(!has_unexpired_source_route(&[0x83, 11, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
        assert!(has_unexpired_source_route(&[1, 0x89, 7, 4, 1, 2, 3, 4, 0]));
        assert!(has_unexpired_source_route(&[0x83, 11, 8, 1, 1, 1, 1, 2, 2, 2, 2, 0]));
        // Record route and timestamp are not source routes; EOL stops the scan.
        assert!(!has_unexpired_source_route(&[0x07, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
        assert!(!has_unexpired_source_route(&[0, 0x83, 7, 4, 1, 2, 3, 4]));
        // A malformed option length ends the scan instead of reading past the end.
        assert!(!has_unexpired_source_route(&[0x94, 40, 0, 0]));
        assert!(!has_unexpired_source_route(&[0x94]));
    }

    #[test]
    fn writes_a_header_that_verifies() {
        let mut out = [0u8; 20];
        write(&mut out, &Ipv4Out {
            tos: 0,
            total_len: 32,
            id: 0,
            flags_offset: DF,
            ttl: 64,
            protocol: 17,
            src: [198, 51, 100, 2],
            dst: [192, 0, 2, 33],
        });
        assert_eq!(&out[..], &UDP_PKT[..20]);
        set_length_and_fragment(&mut out, 28, MF | 3);
        let f = parse_truncated(&out).unwrap();
        assert_eq!((f.total_len, f.mf(), f.offset()), (28, true, 3));
        assert!(checksum::verifies(checksum::sum(&out)));
    }
}

//! TUN offloads: the virtio-net header in front of every packet a TUN opened with
//! `IFF_VNET_HDR` reads and writes (`struct virtio_net_hdr`, linux/virtio_net.h; virtio
//! 1.x §5.1.6), and what the engine does with the two offloads it carries.
//!
//! - A partial checksum (`flags` NEEDS_CSUM, the kernel's CHECKSUM_PARTIAL): the field at
//!   `csum_start + csum_offset` holds the folded, not inverted, sum of the pseudo-header
//!   only, its length being the whole transport length, and whoever sends the packet
//!   sums the bytes from `csum_start` to the end into it later (the kernel's
//!   `skb_checksum_help`, or the NIC). A TCP or UDP packet that translates as a header
//!   rewrite keeps it partial: the translators move the address part of the sum from
//!   one family's pseudo-header to the other's ([`crate::transport::update_partial`]);
//!   the transport length and protocol count the same in both (RFC 768, RFC 793 §3.1,
//!   RFC 8200 §8.1), and the ports are among the bytes summed later. Anything else
//!   (ICMP, a header the engine does not expect there, a fragment, a packet quoted in an
//!   ICMP error, cut into fragments or stored) gets its checksum completed here first,
//!   exactly as the kernel would, and is then translated as an ordinary packet.
//! - GSO (`gso_type` TCPV4, TCPV6, UDP_L4): a super-packet of up to 64 KiB whose
//!   transport payload the kernel cuts into `gso_size`-byte segments, each behind a copy
//!   of the headers, once it leaves. The engine translates it once, as one packet; sizes
//!   that RFC 7915 applies to the packet on the wire (DF, the next-hop MTU) apply to one
//!   segment. A GSO packet always has a partial checksum (the kernel completes it per
//!   segment).
//!
//! Every output gets a header: all zero for an ordinary packet (and anything the engine
//! generates), the carried offloads for a packet translated with them, its offsets
//! moved to the output's headers and the TCP GSO type to the output's family.

use crate::bytes::put16;
use crate::checksum;
use crate::counters::{Counter, Counters};
use crate::ipv4;
use crate::ipv6;
use crate::protocol::{TCP, UDP};
use crate::transport;

/// Bytes of `struct virtio_net_hdr` in front of each packet on the TUN.
pub const HEADER_LEN: usize = 10;
/// Bytes of one entry of the `vnet_in` and `vnet_out` regions: a header and padding.
pub const ENTRY_LEN: usize = 16;
/// `flags`: the transport checksum is partial (VIRTIO_NET_HDR_F_NEEDS_CSUM).
pub const F_NEEDS_CSUM: u8 = 1;
/// `flags`: the kernel or the NIC verified the transport checksum
/// (VIRTIO_NET_HDR_F_DATA_VALID, the kernel's CHECKSUM_UNNECESSARY).
pub const F_DATA_VALID: u8 = 2;
/// `gso_type`: not a GSO packet.
pub const GSO_NONE: u8 = 0;
/// `gso_type`: TCP over IPv4 (TSO).
pub const GSO_TCPV4: u8 = 1;
/// `gso_type`: IPv4 UDP cut into IP fragments (UFO), which the engine does not carry.
pub const GSO_UDP: u8 = 3;
/// `gso_type`: TCP over IPv6 (TSO).
pub const GSO_TCPV6: u8 = 4;
/// `gso_type`: UDP cut into datagrams of `gso_size` payload bytes (USO).
pub const GSO_UDP_L4: u8 = 5;
/// `gso_type` bit: the TCP super-packet has CWR set (RFC 3168), which the kernel keeps
/// on its first segment only.
pub const GSO_ECN: u8 = 0x80;

/// One `struct virtio_net_hdr`, its `u16` fields little-endian in memory (virtio 1.x;
/// the host's order on the little-endian machines the gateway runs on).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VnetHeader {
    /// [`F_NEEDS_CSUM`] and flags the engine ignores.
    pub flags: u8,
    /// One of the `GSO_*` values, with [`GSO_ECN`].
    pub gso_type: u8,
    /// GSO: bytes of IP and transport headers.
    pub hdr_len: u16,
    /// GSO: transport payload bytes per segment.
    pub gso_size: u16,
    /// Partial checksum: offset of the first byte summed, from the IP header.
    pub csum_start: u16,
    /// Partial checksum: offset of the checksum field from `csum_start`.
    pub csum_offset: u16,
}

impl VnetHeader {
    /// Reads a header from the first [`HEADER_LEN`] bytes of `b`.
    pub fn read(b: &[u8]) -> VnetHeader {
        let word = |at: usize| u16::from_le_bytes([b[at], b[at + 1]]);
        VnetHeader { flags: b[0], gso_type: b[1], hdr_len: word(2), gso_size: word(4), csum_start: word(6), csum_offset: word(8) }
    }

    /// Writes the header into the first [`HEADER_LEN`] bytes of `b`.
    pub fn write(&self, b: &mut [u8]) {
        b[0] = self.flags;
        b[1] = self.gso_type;
        for (i, w) in [self.hdr_len, self.gso_size, self.csum_start, self.csum_offset].iter().enumerate() {
            b[2 + 2 * i..4 + 2 * i].copy_from_slice(&w.to_le_bytes());
        }
    }
}

/// GSO fields carried from input to output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gso {
    /// Transport payload bytes per segment (`gso_size`).
    pub size: u16,
    /// The input's [`GSO_ECN`] bit.
    pub ecn: bool,
}

/// A TCP or UDP packet in hand whose checksum field holds a partial sum, carried
/// through translation. Offsets are in the translator's buffer: translation rewrites the
/// IP headers in front of the transport header and leaves it where it is, a hairpin's
/// two passes included, so they hold until the packet leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partial {
    /// Offset of the transport header.
    pub l4: usize,
    /// End of the datagram.
    pub end: usize,
    /// TCP or UDP.
    pub protocol: u8,
    /// Bytes of the transport header, TCP options included.
    pub l4_header: usize,
    /// The GSO fields of a super-packet.
    pub gso: Option<Gso>,
}

impl Partial {
    /// The offset of the checksum field from the transport header.
    fn field(&self) -> usize {
        transport::checksum_offset(self.protocol).unwrap_or(0)
    }
}

/// How long a packet of `whole` bytes behind an IP header of `ip_header` bytes is on
/// the wire: one segment when it is a GSO super-packet (`Some`), else `None` (itself).
/// A super-packet no longer than one segment goes out as it is: the kernel only cuts
/// what exceeds `gso_size`.
#[inline]
pub fn segment_len(partial: Option<&Partial>, ip_header: usize, whole: usize) -> Option<usize> {
    let p = partial?;
    let g = p.gso?;
    Some((ip_header + p.l4_header + g.size as usize).min(whole))
}

/// Where the headers of a packet put its transport layer, relative to the packet.
struct Layout {
    v6: bool,
    protocol: u8,
    l4: usize,
    end: usize,
    fragment: bool,
}

fn layout(pkt: &[u8]) -> Option<Layout> {
    match pkt.first()? >> 4 {
        4 => {
            let ip = ipv4::parse_truncated(pkt).ok()?;
            if ip.total_len > pkt.len() {
                return None;
            }
            Some(Layout { v6: false, protocol: ip.protocol, l4: ip.header_len, end: ip.total_len, fragment: ip.is_fragment() })
        }
        6 => {
            let ip = ipv6::parse(pkt).ok()?;
            let end = ipv6::HEADER_LEN + ip.payload_len;
            let chain = ipv6::walk(&pkt[..end], ip.next_header).ok()?;
            Some(Layout { v6: true, protocol: chain.protocol, l4: chain.upper_at, end, fragment: chain.fragment.is_some() })
        }
        _ => None,
    }
}

/// Bytes of the TCP or UDP header at `pkt[l4..]`, when it is one and fits before `end`.
fn l4_header(protocol: u8, pkt: &[u8], l4: usize, end: usize) -> Option<usize> {
    let len = match protocol {
        // RFC 793 §3.1: the Data Offset counts 32-bit words, at least the 5 of the fixed header.
        TCP if l4 + 20 <= end => match ((pkt[l4 + 12] >> 4) as usize) * 4 {
            n if n >= 20 => n,
            _ => return None,
        },
        UDP => 8,
        _ => return None,
    };
    (l4 + len <= end).then(|| len)
}

/// Completes the partial checksum whose field is at `buf[field..]`, summing
/// `buf[from..end]` (the field included, as it holds the pseudo-header sum), the way
/// the kernel's `skb_checksum_help` does. A UDP checksum that comes out zero is sent as
/// all ones (RFC 768: zero means none).
pub fn complete(buf: &mut [u8], from: usize, end: usize, field: usize, udp: bool) {
    let c = checksum::finish(checksum::sum(&buf[from..end]));
    put16(buf, field, if udp && c == 0 { 0xffff } else { c });
}

/// Completes the checksum of the packet in hand, if it is still partial: before the
/// packet is quoted in an ICMP error, cut into fragments or stored, which all need the
/// checksum a receiver can verify. Afterwards the packet is an ordinary one.
pub fn settle(partial: &mut Option<Partial>, buf: &mut [u8]) {
    if let Some(p) = partial.take() {
        complete(buf, p.l4, p.end, p.l4 + p.field(), p.protocol == UDP);
    }
}

/// Reads the offloads of the input `buf[at..at + len]` from its header `h`, counts
/// them, and returns the partial checksum to carry through translation (`None`: an
/// ordinary packet, or one whose checksum was completed here), or the drop counter of
/// a header the engine refuses. A malformed header never reaches the translator.
pub fn prepare(h: &VnetHeader, buf: &mut [u8], at: usize, len: usize, counters: &mut Counters) -> Result<Option<Partial>, Counter> {
    let needs_csum = h.flags & F_NEEDS_CSUM != 0;
    let gso = h.gso_type & !GSO_ECN;
    if needs_csum {
        counters.inc(Counter::offload_csum_partial);
    }
    if gso != GSO_NONE {
        counters.inc(Counter::offload_gso_packets);
    }
    if !needs_csum && gso == GSO_NONE {
        return Ok(None);
    }
    let pkt = &buf[at..at + len];
    let start = h.csum_start as usize;
    let field = start + h.csum_offset as usize;
    // The kernel refuses a header whose checksum field is not inside the packet
    // (skb_partial_csum_set); so does the engine.
    if needs_csum && field + 2 > len {
        return Err(Counter::drop_bad_vnet_header);
    }
    let shape = layout(pkt);
    // A header rewrite can carry the partial sum when it is the transport checksum of a
    // whole TCP or UDP datagram: the sum starts at the transport header, the field is
    // that protocol's checksum.
    let carried = shape
        .as_ref()
        .filter(|s| needs_csum && !s.fragment && start == s.l4 && transport::checksum_offset(s.protocol) == Some(h.csum_offset as usize))
        .and_then(|s| {
            let l4_len = l4_header(s.protocol, pkt, s.l4, s.end)?;
            Some(Partial { l4: at + s.l4, end: at + s.end, protocol: s.protocol, l4_header: l4_len, gso: None })
        });
    if gso != GSO_NONE {
        match gso {
            GSO_TCPV4 | GSO_TCPV6 | GSO_UDP_L4 => {}
            GSO_UDP => return Err(Counter::drop_gso_ufo),
            _ => return Err(Counter::drop_bad_vnet_header),
        }
        // virtio 1.x §5.1.6.2.1: a GSO packet also sets NEEDS_CSUM (the segments'
        // checksums are left to whoever cuts them) and a gso_size.
        if !needs_csum {
            return Err(Counter::drop_gso_no_csum);
        }
        if h.gso_size == 0 {
            return Err(Counter::drop_bad_vnet_header);
        }
        let v6 = shape.as_ref().map_or(false, |s| s.v6);
        let fits = match (gso, carried.map(|p| p.protocol)) {
            (GSO_TCPV4, Some(TCP)) => !v6,
            (GSO_TCPV6, Some(TCP)) => v6,
            (GSO_UDP_L4, Some(UDP)) => true,
            _ => false,
        };
        return match carried {
            Some(p) if fits => Ok(Some(Partial { gso: Some(Gso { size: h.gso_size, ecn: h.gso_type & GSO_ECN != 0 }), ..p })),
            _ => Err(Counter::drop_gso_mismatch),
        };
    }
    if carried.is_some() {
        return Ok(carried);
    }
    let end = match shape.as_ref() {
        Some(s) if field + 2 > s.end => return Err(Counter::drop_bad_vnet_header),
        Some(s) => s.end,
        None => len,
    };
    let udp = shape.map_or(false, |s| s.protocol == UDP && start == s.l4 && transport::checksum_offset(UDP) == Some(h.csum_offset as usize));
    complete(buf, at + start, at + end, at + field, udp);
    counters.inc(Counter::offload_csum_completed);
    Ok(None)
}

/// The header of the packet translated with `p`, now at `buf[start..]`: a partial
/// checksum from its transport header (wherever the output's IP headers end: options,
/// extension headers and a Fragment header included), and for a super-packet the GSO
/// type of its protocol and family, its segment size and its header length.
pub fn output_header(p: &Partial, buf: &[u8], start: usize) -> VnetHeader {
    let csum_start = p.l4 - start;
    let (gso_type, gso_size) = match p.gso {
        Some(g) => {
            let ty = match (p.protocol, buf[start] >> 4) {
                (UDP, _) => GSO_UDP_L4,
                (_, 6) => GSO_TCPV6,
                _ => GSO_TCPV4,
            };
            (ty | if g.ecn { GSO_ECN } else { 0 }, g.size)
        }
        None => (GSO_NONE, 0),
    };
    VnetHeader {
        flags: F_NEEDS_CSUM,
        gso_type,
        hdr_len: (csum_start + p.l4_header) as u16,
        gso_size,
        csum_start: csum_start as u16,
        csum_offset: p.field() as u16,
    }
}

/// The header of a UDP super-packet the engine built from datagrams of `payload`-byte
/// segments behind `ip_header` bytes of IP header: GSO_UDP_L4 with its partial checksum
/// (the UDP checksum field holds the pseudo-header sum over the whole UDP length).
pub fn uso_header(ip_header: usize, payload: u16) -> VnetHeader {
    VnetHeader {
        flags: F_NEEDS_CSUM,
        gso_type: GSO_UDP_L4,
        hdr_len: (ip_header + 8) as u16,
        gso_size: payload,
        csum_start: ip_header as u16,
        csum_offset: transport::UDP_CHECKSUM as u16,
    }
}

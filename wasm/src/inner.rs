//! Translation of the packet quoted inside an ICMP error (RFC 7915 §4.3 and §5.3):
//! the same header translation as the outer packet, except that the TTL / Hop Limit
//! is not decremented and the quoted bytes may stop before the packet's end.

use crate::checksum;
use crate::icmp;
use crate::ipid::IdGen;
use crate::ipv4::{self, Ipv4Out};
use crate::ipv6::{self, Fragment, Ipv6Out};
use crate::mapping::Mapper;
use crate::protocol::{FRAGMENT, ICMP, ICMPV6};
use crate::stateful::{self, Binding};
use crate::transport;

/// IPv4 packets translated from IPv6 without a Fragment header get DF set above
/// this size (RFC 7915 §5.1).
pub const DF_THRESHOLD: usize = 1260;

/// The quoted packet cannot be translated: malformed, an address without mapping,
/// or itself an ICMP message other than an echo (RFC 1122 §3.2.2: no error is sent
/// about an error, so an error quoting one is bogus).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Untranslatable;

/// A translated quoted packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translated {
    /// Its length before any cut to the room available.
    pub len: usize,
    /// Total Length of the quoted IPv4 header (IPv4 → IPv6 only; for RFC 1191 plateaus).
    pub quoted_total_len: u32,
}

/// Translates the IPv4 packet quoted in an ICMPv4 error (`quoted`, padding included)
/// into `out`, which holds at least 48 bytes; bytes beyond `out` are cut. In the
/// second pass of a hairpin the destination, which was a source, skips the EAMT
/// (RFC 7757 §4.2). With a stateful NAT64 binding the quoted packet went from (X, x):
/// its source and source port (ICMP: identifier) become (X', x').
pub fn v4_to_v6(map: &Mapper, zeroize_tc: bool, hairpin: bool, nat: Option<&Binding>, quoted: &[u8], out: &mut [u8]) -> Result<Translated, Untranslatable> {
    let f = ipv4::parse_truncated(quoted).map_err(|_| Untranslatable)?;
    let src = match nat {
        Some(b) => b.addr6,
        None => map.v4_to_v6(&f.src, true).map_err(|_| Untranslatable)?,
    };
    let dst = map.v4_to_v6(&f.dst, !hairpin).map_err(|_| Untranslatable)?;
    let content = quoted.len().min(f.total_len);
    let payload = &quoted[f.header_len..content];
    let fragmented = f.is_fragment();
    let header_len = ipv6::HEADER_LEN + if fragmented { ipv6::FRAGMENT_LEN } else { 0 };
    let protocol = if f.protocol == ICMP { ICMPV6 } else { f.protocol };
    ipv6::write(out, &Ipv6Out {
        traffic_class: if zeroize_tc { 0 } else { f.tos },
        payload_len: (f.payload_len() + header_len - ipv6::HEADER_LEN) as u16,
        next_header: if fragmented { FRAGMENT } else { protocol },
        hop_limit: f.ttl,
        src,
        dst,
    });
    if fragmented {
        let frag = Fragment { offset: f.offset(), more: f.mf(), id: f.id as u32 };
        ipv6::write_fragment(&mut out[ipv6::HEADER_LEN..], protocol, &frag);
    }
    let kept = payload.len().min(out.len() - header_len);
    let l4 = &mut out[header_len..header_len + kept];
    l4.copy_from_slice(&payload[..kept]);
    if f.offset() == 0 {
        if f.protocol == ICMP {
            if l4.len() >= 4 {
                let ty = match icmp::map_v4_to_v6(l4[0], l4[1], 0) {
                    icmp::Mapping::Info(ty) => ty,
                    _ => return Err(Untranslatable),
                };
                let (old, new) = nat.map_or((0, 0), |b| stateful::swap_port(l4, stateful::ECHO_IDENTIFIER, b.port6));
                let pseudo = checksum::pseudo_v6(&src, &dst, ICMPV6, f.payload_len() as u32);
                transport::retype_icmp(l4, ty, old, pseudo + new);
            }
        } else {
            let (old, new) = nat.map_or((0, 0), |b| stateful::swap_port(l4, stateful::SOURCE_PORT, b.port6));
            let removed = checksum::addresses_v4(&f.src, &f.dst);
            let added = checksum::addresses_v6(&src, &dst);
            transport::update_checksum(f.protocol, l4, removed + old, added + new);
        }
    }
    Ok(Translated { len: header_len + payload.len(), quoted_total_len: f.total_len as u32 })
}

/// Translates the IPv6 packet quoted in an ICMPv6 error into `out` (at least 20
/// bytes); bytes beyond `out` are cut. Extension headers are skipped and a Fragment
/// header becomes the IPv4 fragment fields, as for the outer packet (RFC 7915 §5.1).
/// With a stateful NAT64 binding the quoted packet went to (X', x'): its destination
/// and destination port (ICMP: identifier) become (X, x).
pub fn v6_to_v4(map: &Mapper, ids: &mut IdGen, tos: Option<u8>, nat: Option<&Binding>, quoted: &[u8], out: &mut [u8]) -> Result<Translated, Untranslatable> {
    let f = ipv6::parse_truncated(quoted).map_err(|_| Untranslatable)?;
    let content = quoted.len().min(ipv6::HEADER_LEN + f.payload_len);
    let chain = ipv6::walk(&quoted[..content], f.next_header).map_err(|_| Untranslatable)?;
    let src = map.v6_to_v4(&f.src).map_err(|_| Untranslatable)?;
    let dst = match nat {
        Some(b) => b.addr4,
        None => map.v6_to_v4(&f.dst).map_err(|_| Untranslatable)?,
    };
    let upper_len = (ipv6::HEADER_LEN + f.payload_len).checked_sub(chain.upper_at).ok_or(Untranslatable)?;
    let payload = &quoted[chain.upper_at..content];
    let total_len = ipv4::HEADER_LEN + upper_len;
    let (id, flags_offset) = match chain.fragment {
        Some(frag) => (frag.id as u16, (if frag.more { ipv4::MF } else { 0 }) | frag.offset),
        None => (ids.next(), if total_len > DF_THRESHOLD { ipv4::DF } else { 0 }),
    };
    let protocol = if chain.protocol == ICMPV6 { ICMP } else { chain.protocol };
    ipv4::write(out, &Ipv4Out {
        tos: tos.unwrap_or(f.traffic_class),
        total_len: total_len.min(0xffff) as u16,
        id,
        flags_offset,
        ttl: f.hop_limit,
        protocol,
        src,
        dst,
    });
    let kept = payload.len().min(out.len() - ipv4::HEADER_LEN);
    let l4 = &mut out[ipv4::HEADER_LEN..ipv4::HEADER_LEN + kept];
    l4.copy_from_slice(&payload[..kept]);
    if chain.fragment.map_or(true, |fr| fr.offset == 0) {
        if chain.protocol == ICMPV6 {
            if l4.len() >= 4 {
                let ty = match icmp::map_v6_to_v4(l4[0], l4[1], 0) {
                    icmp::Mapping::Info(ty) => ty,
                    _ => return Err(Untranslatable),
                };
                let (old, new) = nat.map_or((0, 0), |b| stateful::swap_port(l4, stateful::ECHO_IDENTIFIER, b.port4));
                let pseudo = checksum::pseudo_v6(&f.src, &f.dst, ICMPV6, upper_len as u32);
                transport::retype_icmp(l4, ty, pseudo + old, new);
            }
        } else {
            let (old, new) = nat.map_or((0, 0), |b| stateful::swap_port(l4, stateful::DESTINATION_PORT, b.port4));
            let removed = checksum::addresses_v6(&f.src, &f.dst);
            let added = checksum::addresses_v4(&src, &dst);
            transport::update_checksum(chain.protocol, l4, removed + old, added + new);
        }
    }
    Ok(Translated { len: ipv4::HEADER_LEN + payload.len(), quoted_total_len: total_len as u32 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::prefix::Prefix6;
    extern crate std;
    use std::boxed::Box;

    fn cfg() -> Box<Config> {
        let mut c = Config::defaults();
        let mut a = [0u8; 16];
        a[..5].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0x01]);
        c.pool6 = Some(Prefix6 { addr: a, len: 40 });
        c
    }

    /// IPv4 TCP SYN quoted whole (from Jool's graybox ia2t): 198.51.100.2 → 192.0.2.33.
    fn quoted_v4() -> [u8; 40] {
        let mut q = [0u8; 40];
        q[..20].copy_from_slice(&[0x45, 0, 0, 40, 0, 0, 0x40, 0, 0x3f, 6, 0, 0, 192, 0, 2, 33, 198, 51, 100, 2]);
        let c = checksum::finish(checksum::sum(&q[..20]));
        q[10..12].copy_from_slice(&c.to_be_bytes());
        q[20..40].copy_from_slice(&[0x07, 0xd0, 0x0f, 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0x00, 0x64, 0, 0, 0, 0]);
        let pseudo = checksum::pseudo_v4(&[192, 0, 2, 33], &[198, 51, 100, 2], 6, 20);
        let c = checksum::finish(pseudo + checksum::sum(&q[20..]));
        q[36..38].copy_from_slice(&c.to_be_bytes());
        q
    }

    #[test]
    fn v4_quote_keeps_ttl_and_fixes_the_tcp_checksum() {
        let c = cfg();
        let m = Mapper::new(&c);
        let mut out = [0u8; 100];
        let t = v4_to_v6(&m, false, false, None, &quoted_v4(), &mut out).unwrap();
        assert_eq!(t, Translated { len: 60, quoted_total_len: 40 });
        let h = ipv6::parse_truncated(&out).unwrap();
        assert_eq!((h.hop_limit, h.payload_len, h.next_header), (0x3f, 20, 6));
        let sum = checksum::pseudo_v6(&h.src, &h.dst, 6, 20) + checksum::sum(&out[40..60]);
        assert!(checksum::verifies(sum));
    }

    #[test]
    fn a_cut_quote_reports_its_full_length_and_round_trips() {
        let c = cfg();
        let m = Mapper::new(&c);
        let mut v6 = [0u8; 52];
        let t = v4_to_v6(&m, false, false, None, &quoted_v4(), &mut v6).unwrap();
        assert_eq!(t.len, 60);
        let mut full = [0u8; 60];
        v4_to_v6(&m, false, false, None, &quoted_v4(), &mut full).unwrap();
        let mut back = [0u8; 40];
        let mut ids = IdGen::new();
        let t = v6_to_v4(&m, &mut ids, None, None, &full, &mut back).unwrap();
        assert_eq!(t.len, 40);
        assert_eq!(&back[20..], &quoted_v4()[20..]);
        let h = ipv4::parse_truncated(&back).unwrap();
        assert_eq!((h.ttl, h.total_len, h.src, h.dst), (0x3f, 40, [192, 0, 2, 33], [198, 51, 100, 2]));
        assert!(checksum::verifies(checksum::sum(&back[..20])));
    }

    #[test]
    fn quoted_icmp_errors_are_refused() {
        let c = cfg();
        let m = Mapper::new(&c);
        let mut q = quoted_v4();
        q[9] = ICMP;
        q[20] = 3;
        q[10] = 0;
        q[11] = 0;
        let sum = checksum::finish(checksum::sum(&q[..20]));
        q[10..12].copy_from_slice(&sum.to_be_bytes());
        let mut out = [0u8; 100];
        assert_eq!(v4_to_v6(&m, false, false, None, &q, &mut out), Err(Untranslatable));
    }

    #[test]
    fn unmapped_quoted_addresses_are_refused() {
        let c = cfg();
        let m = Mapper::new(&c);
        let mut out = [0u8; 100];
        let mut v6 = [0u8; 60];
        v4_to_v6(&m, false, false, None, &quoted_v4(), &mut v6).unwrap();
        v6[8] = 0x30;
        let mut ids = IdGen::new();
        assert_eq!(v6_to_v4(&m, &mut ids, None, None, &v6, &mut out), Err(Untranslatable));
    }
}

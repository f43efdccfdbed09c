//! ICMPv4 (RFC 792) and ICMPv6 (RFC 4443) wire constants, and the RFC 7915 mapping
//! of types, codes, pointers and MTUs between them (§4.2 and §5.2).

/// ICMPv4 Echo Reply.
pub const V4_ECHO_REPLY: u8 = 0;
/// ICMPv4 Destination Unreachable.
pub const V4_DEST_UNREACH: u8 = 3;
/// ICMPv4 Source Quench.
pub const V4_SOURCE_QUENCH: u8 = 4;
/// ICMPv4 Redirect.
pub const V4_REDIRECT: u8 = 5;
/// ICMPv4 Echo Request.
pub const V4_ECHO_REQUEST: u8 = 8;
/// ICMPv4 Time Exceeded.
pub const V4_TIME_EXCEEDED: u8 = 11;
/// ICMPv4 Parameter Problem.
pub const V4_PARAM_PROBLEM: u8 = 12;

/// ICMPv4 Destination Unreachable codes the translator itself sends.
pub mod v4_code {
    /// Protocol unreachable.
    pub const PROTOCOL_UNREACH: u8 = 2;
    /// Port unreachable (RFC 792): stateful NAT64 has no binding (RFC 6146 §3.5).
    pub const PORT_UNREACH: u8 = 3;
    /// Fragmentation needed and DF set (RFC 1191).
    pub const FRAG_NEEDED: u8 = 4;
    /// Source route failed.
    pub const SOURCE_ROUTE_FAILED: u8 = 5;
    /// Communication administratively prohibited (RFC 1812).
    pub const ADMIN_PROHIBITED: u8 = 13;
}

/// ICMPv6 Destination Unreachable.
pub const V6_DEST_UNREACH: u8 = 1;
/// ICMPv6 Packet Too Big.
pub const V6_PACKET_TOO_BIG: u8 = 2;
/// ICMPv6 Time Exceeded.
pub const V6_TIME_EXCEEDED: u8 = 3;
/// ICMPv6 Parameter Problem.
pub const V6_PARAM_PROBLEM: u8 = 4;
/// ICMPv6 Echo Request.
pub const V6_ECHO_REQUEST: u8 = 128;
/// ICMPv6 Echo Reply.
pub const V6_ECHO_REPLY: u8 = 129;

/// ICMPv6 codes the translator itself sends.
pub mod v6_code {
    /// Destination Unreachable: communication administratively prohibited.
    pub const ADMIN_PROHIBITED: u8 = 1;
    /// Destination Unreachable: address unreachable; stateful NAT64 cannot bind the
    /// source (RFC 6146 §3.5.1.1).
    pub const ADDRESS_UNREACH: u8 = 3;
    /// Destination Unreachable: port unreachable (RFC 4443 §3.1).
    pub const PORT_UNREACH: u8 = 4;
    /// Destination Unreachable: source address failed ingress/egress policy (RFC 4443 §3.1).
    pub const SOURCE_POLICY: u8 = 5;
    /// Parameter Problem: erroneous header field encountered.
    pub const ERRONEOUS_FIELD: u8 = 0;
}

/// Length of the ICMP header (type, code, checksum, four more bytes) in both families.
pub const HEADER_LEN: usize = 8;

/// True for ICMPv4 error types (RFC 1122 §3.2.2).
#[inline]
pub fn v4_is_error(ty: u8) -> bool {
    matches!(ty, V4_DEST_UNREACH | V4_SOURCE_QUENCH | V4_REDIRECT | V4_TIME_EXCEEDED | V4_PARAM_PROBLEM)
}

/// True for ICMPv6 error types (RFC 4443 §2.1: types 0–127).
#[inline]
pub fn v6_is_error(ty: u8) -> bool {
    ty < 128
}

/// What goes in bytes 4..8 of a translated error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rest {
    /// Unused except for the RFC 4884 length attribute.
    Length,
    /// An MTU, computed by [`mtu_v4_to_v6`] or [`mtu_v6_to_v4`].
    Mtu,
    /// A Parameter Problem pointer, already translated.
    Pointer(u32),
}

/// Outcome of mapping an ICMP type and code to the other family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mapping {
    /// An informational message (echo) with this type; the code is copied.
    Info(u8),
    /// An error message with this type and code.
    Error {
        /// New type.
        ty: u8,
        /// New code.
        code: u8,
        /// Meaning of bytes 4..8.
        rest: Rest,
    },
    /// No counterpart: silently drop.
    Drop,
}

/// ICMPv4 → ICMPv6 (RFC 7915 §4.2). `pointer` is byte 4 of a Parameter Problem.
pub fn map_v4_to_v6(ty: u8, code: u8, pointer: u8) -> Mapping {
    let err = |ty, code, rest| Mapping::Error { ty, code, rest };
    match ty {
        V4_ECHO_REQUEST => Mapping::Info(V6_ECHO_REQUEST),
        V4_ECHO_REPLY => Mapping::Info(V6_ECHO_REPLY),
        V4_DEST_UNREACH => match code {
            0 | 1 | 5 | 6 | 7 | 8 | 11 | 12 => err(V6_DEST_UNREACH, 0, Rest::Length),
            2 => err(V6_PARAM_PROBLEM, 1, Rest::Pointer(6)),
            3 => err(V6_DEST_UNREACH, 4, Rest::Length),
            4 => err(V6_PACKET_TOO_BIG, 0, Rest::Mtu),
            9 | 10 | 13 | 15 => err(V6_DEST_UNREACH, 1, Rest::Length),
            _ => Mapping::Drop,
        },
        V4_TIME_EXCEEDED => err(V6_TIME_EXCEEDED, code, Rest::Length),
        V4_PARAM_PROBLEM => match (code, pointer_v4_to_v6(pointer)) {
            (0 | 2, Some(p)) => err(V6_PARAM_PROBLEM, 0, Rest::Pointer(p)),
            _ => Mapping::Drop,
        },
        _ => Mapping::Drop,
    }
}

/// ICMPv6 → ICMPv4 (RFC 7915 §5.2). `pointer` is bytes 4..8 of a Parameter Problem.
pub fn map_v6_to_v4(ty: u8, code: u8, pointer: u32) -> Mapping {
    let err = |ty, code, rest| Mapping::Error { ty, code, rest };
    match ty {
        V6_ECHO_REQUEST => Mapping::Info(V4_ECHO_REQUEST),
        V6_ECHO_REPLY => Mapping::Info(V4_ECHO_REPLY),
        V6_DEST_UNREACH => match code {
            0 | 2 | 3 => err(V4_DEST_UNREACH, 1, Rest::Length),
            1 => err(V4_DEST_UNREACH, 10, Rest::Length),
            4 => err(V4_DEST_UNREACH, 3, Rest::Length),
            _ => Mapping::Drop,
        },
        V6_PACKET_TOO_BIG => err(V4_DEST_UNREACH, v4_code::FRAG_NEEDED, Rest::Mtu),
        V6_TIME_EXCEEDED => err(V4_TIME_EXCEEDED, code, Rest::Length),
        V6_PARAM_PROBLEM => match (code, pointer_v6_to_v4(pointer)) {
            (0, Some(p)) => err(V4_PARAM_PROBLEM, 0, Rest::Pointer(p)),
            (1, _) => err(V4_DEST_UNREACH, v4_code::PROTOCOL_UNREACH, Rest::Length),
            _ => Mapping::Drop,
        },
        _ => Mapping::Drop,
    }
}

/// RFC 7915 §4.2 Figure 3: IPv4 header pointer → IPv6 header pointer; `None` is "n/a".
pub fn pointer_v4_to_v6(p: u8) -> Option<u32> {
    match p {
        0 => Some(0),
        1 => Some(1),
        2 | 3 => Some(4),
        8 => Some(7),
        9 => Some(6),
        12..=15 => Some(8),
        16..=19 => Some(24),
        _ => None,
    }
}

/// RFC 7915 §5.2 Figure 6: IPv6 header pointer → IPv4 header pointer; `None` is "n/a".
pub fn pointer_v6_to_v4(p: u32) -> Option<u32> {
    match p {
        0 => Some(0),
        1 => Some(1),
        4 | 5 => Some(2),
        6 => Some(9),
        7 => Some(8),
        8..=23 => Some(12),
        24..=39 => Some(16),
        _ => None,
    }
}

/// The IPv6 minimum link MTU (RFC 8200 §5).
pub const IPV6_MIN_MTU: u32 = 1280;

/// RFC 1191 §7 table of MTU plateaus, largest first.
const PLATEAUS: [u32; 11] = [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68];

/// MTU of an ICMPv6 Packet Too Big translated from ICMPv4 Fragmentation Needed
/// (RFC 7915 §4.2): `min(advertised + 20, mtu_v6, mtu_v4 + 20)`. An advertised MTU of
/// zero (a pre-RFC 1191 router) is replaced by the greatest plateau below the quoted
/// Total Length that is at least 1280. The result is never below 1280 (RFC 7915 §6).
pub fn mtu_v4_to_v6(advertised: u32, quoted_total_len: u32, mtu_v6: u32, mtu_v4: u32) -> u32 {
    let adv = if advertised == 0 {
        PLATEAUS
            .iter()
            .copied()
            .find(|&p| p < quoted_total_len && p >= IPV6_MIN_MTU)
            .unwrap_or(IPV6_MIN_MTU)
    } else {
        advertised
    };
    (adv + 20).min(mtu_v6).min(mtu_v4 + 20).max(IPV6_MIN_MTU)
}

/// MTU of an ICMPv4 Fragmentation Needed translated from an ICMPv6 Packet Too Big
/// (RFC 7915 §5.2): `min(advertised - 20, mtu_v4, mtu_v6 - 20)`.
pub fn mtu_v6_to_v4(advertised: u32, mtu_v6: u32, mtu_v4: u32) -> u32 {
    advertised.saturating_sub(20).min(mtu_v4).min(mtu_v6.saturating_sub(20))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(ty: u8, code: u8, rest: Rest) -> Mapping {
        Mapping::Error { ty, code, rest }
    }

    #[test]
    fn v4_to_v6_types_and_codes() {
        assert_eq!(map_v4_to_v6(8, 0, 0), Mapping::Info(128));
        assert_eq!(map_v4_to_v6(0, 0, 0), Mapping::Info(129));
        for code in [0, 1, 5, 6, 7, 8, 11, 12] {
            assert_eq!(map_v4_to_v6(3, code, 0), err(1, 0, Rest::Length), "3/{}", code);
        }
        for code in [9, 10, 13, 15] {
            assert_eq!(map_v4_to_v6(3, code, 0), err(1, 1, Rest::Length), "3/{}", code);
        }
        assert_eq!(map_v4_to_v6(3, 2, 0), err(4, 1, Rest::Pointer(6)));
        assert_eq!(map_v4_to_v6(3, 3, 0), err(1, 4, Rest::Length));
        assert_eq!(map_v4_to_v6(3, 4, 0), err(2, 0, Rest::Mtu));
        assert_eq!(map_v4_to_v6(3, 14, 0), Mapping::Drop);
        assert_eq!(map_v4_to_v6(11, 1, 0), err(3, 1, Rest::Length));
        assert_eq!(map_v4_to_v6(12, 0, 9), err(4, 0, Rest::Pointer(6)));
        assert_eq!(map_v4_to_v6(12, 2, 16), err(4, 0, Rest::Pointer(24)));
        assert_eq!(map_v4_to_v6(12, 0, 4), Mapping::Drop);
        assert_eq!(map_v4_to_v6(12, 1, 0), Mapping::Drop);
        for ty in [4, 5, 6, 9, 10, 13, 14, 15, 16, 17, 18, 42] {
            assert_eq!(map_v4_to_v6(ty, 0, 0), Mapping::Drop, "type {}", ty);
        }
    }

    #[test]
    fn v6_to_v4_types_and_codes() {
        assert_eq!(map_v6_to_v4(128, 0, 0), Mapping::Info(8));
        assert_eq!(map_v6_to_v4(129, 0, 0), Mapping::Info(0));
        for code in [0, 2, 3] {
            assert_eq!(map_v6_to_v4(1, code, 0), err(3, 1, Rest::Length));
        }
        assert_eq!(map_v6_to_v4(1, 1, 0), err(3, 10, Rest::Length));
        assert_eq!(map_v6_to_v4(1, 4, 0), err(3, 3, Rest::Length));
        assert_eq!(map_v6_to_v4(1, 5, 0), Mapping::Drop);
        assert_eq!(map_v6_to_v4(2, 0, 0), err(3, 4, Rest::Mtu));
        assert_eq!(map_v6_to_v4(3, 1, 0), err(11, 1, Rest::Length));
        assert_eq!(map_v6_to_v4(4, 0, 7), err(12, 0, Rest::Pointer(8)));
        assert_eq!(map_v6_to_v4(4, 0, 2), Mapping::Drop);
        assert_eq!(map_v6_to_v4(4, 1, 40), err(3, 2, Rest::Length));
        assert_eq!(map_v6_to_v4(4, 2, 0), Mapping::Drop);
        for ty in [130, 131, 132, 133, 134, 135, 136, 137, 143, 100, 0] {
            assert_eq!(map_v6_to_v4(ty, 0, 0), Mapping::Drop, "type {}", ty);
        }
    }

    #[test]
    fn pointer_tables_cover_every_header_byte() {
        let v4: [Option<u32>; 20] = [
            Some(0), Some(1), Some(4), Some(4), None, None, None, None, Some(7), Some(6), None, None,
            Some(8), Some(8), Some(8), Some(8), Some(24), Some(24), Some(24), Some(24),
        ];
        for (p, want) in v4.iter().enumerate() {
            assert_eq!(pointer_v4_to_v6(p as u8), *want, "v4 pointer {}", p);
        }
        for p in 0..40u32 {
            let want = match p {
                0 => Some(0),
                1 => Some(1),
                2 | 3 => None,
                4 | 5 => Some(2),
                6 => Some(9),
                7 => Some(8),
                8..=23 => Some(12),
                _ => Some(16),
            };
            assert_eq!(pointer_v6_to_v4(p), want, "v6 pointer {}", p);
        }
        assert_eq!(pointer_v6_to_v4(40), None);
    }

    #[test]
    fn mtu_adjustments() {
        assert_eq!(mtu_v4_to_v6(1261, 1290, 1500, 1500), 1281);
        assert_eq!(mtu_v4_to_v6(1260, 1290, 1500, 1500), 1280);
        assert_eq!(mtu_v4_to_v6(1259, 1290, 1500, 1500), 1280);
        assert_eq!(mtu_v4_to_v6(1480, 1500, 1400, 1500), 1400);
        assert_eq!(mtu_v4_to_v6(1480, 1500, 1500, 1300), 1320);
        assert_eq!(mtu_v6_to_v4(1280, 1500, 1500), 1260);
        assert_eq!(mtu_v6_to_v4(1500, 1500, 1400), 1400);
        assert_eq!(mtu_v6_to_v4(1500, 1400, 1500), 1380);
        assert_eq!(mtu_v6_to_v4(10, 1500, 1500), 0);
    }

    #[test]
    fn zero_mtu_uses_rfc1191_plateaus() {
        assert_eq!(mtu_v4_to_v6(0, 1500, 9000, 9000), 1492 + 20);
        assert_eq!(mtu_v4_to_v6(0, 4000, 9000, 9000), 2002 + 20);
        assert_eq!(mtu_v4_to_v6(0, 1400, 9000, 9000), 1300);
        assert_eq!(mtu_v4_to_v6(0, 20000, 1500, 1500), 1500);
    }
}

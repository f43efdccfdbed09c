//! Size of the body of a translated ICMP error: how much of the translated original
//! datagram to keep and whether an RFC 4884 extension structure still fits.
//!
//! RFC 4884 §4: with extensions, the "original datagram" field is zero-padded to at
//! least 128 bytes and to a multiple of the length unit (32 bits in ICMPv4, 64 bits
//! in ICMPv6), and its length attribute counts units. RFC 7915 §4.2/§5.2 cap the
//! translated error at 1280 (IPv6) or 576 (IPv4) bytes, and say the extension is
//! removed when the length cannot be adjusted. The datagram gives way first:
//! it is cut (to a whole unit, not below 128 bytes) before the extension is dropped.

/// Smallest original-datagram field when extensions follow (RFC 4884 §4.1 / §5.1).
pub const MIN_DATAGRAM: usize = 128;

/// Layout of a translated error body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Body {
    /// Bytes of the original-datagram field: the translated datagram cut or
    /// zero-padded to this length.
    pub datagram: usize,
    /// Bytes of extension structure kept after it (0 when none).
    pub ext: usize,
    /// Length attribute to write, in units (0 when no extension is kept).
    pub attribute: u8,
}

/// Lays out a body for a translated datagram of `translated` bytes followed by `ext`
/// bytes of extensions (0 when there are none or the new type cannot carry them),
/// with length unit `unit` and `room` bytes available after the ICMP header.
pub fn layout(translated: usize, ext: usize, unit: usize, room: usize) -> Body {
    if ext > 0 && ext < room {
        let mut datagram = (translated - translated % unit).max(MIN_DATAGRAM);
        if datagram + ext > room {
            let fit = room - ext;
            datagram = fit - fit % unit;
        }
        let attribute = datagram / unit;
        if datagram >= MIN_DATAGRAM && attribute <= 255 {
            return Body { datagram, ext, attribute: attribute as u8 };
        }
    }
    Body { datagram: translated.min(room), ext: 0, attribute: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V6_ROOM: usize = 1280 - 48;
    const V4_ROOM: usize = 576 - 28;

    fn body(datagram: usize, ext: usize, attribute: u8) -> Body {
        Body { datagram, ext, attribute }
    }

    #[test]
    fn without_extensions_the_datagram_is_only_cut_to_the_cap() {
        assert_eq!(layout(1300, 0, 8, V6_ROOM), body(1232, 0, 0));
        assert_eq!(layout(52, 0, 8, V6_ROOM), body(52, 0, 0));
        assert_eq!(layout(1280, 0, 4, V4_ROOM), body(548, 0, 0));
    }

    #[test]
    fn short_datagrams_are_padded_to_128_bytes() {
        assert_eq!(layout(48, 40, 8, V6_ROOM), body(128, 40, 16));
        assert_eq!(layout(102, 20, 4, V4_ROOM), body(128, 20, 32));
    }

    #[test]
    fn long_datagrams_are_cut_to_a_whole_unit() {
        assert_eq!(layout(148, 20, 8, V6_ROOM), body(144, 20, 18));
        assert_eq!(layout(152, 20, 8, V6_ROOM), body(152, 20, 19));
        assert_eq!(layout(132, 20, 4, V4_ROOM), body(132, 20, 33));
    }

    #[test]
    fn the_datagram_shrinks_to_make_room_for_the_extension() {
        assert_eq!(layout(1040, 640, 8, V6_ROOM), body(592, 640, 74));
        assert_eq!(layout(1040, 1104, 8, V6_ROOM), body(128, 1104, 16));
    }

    #[test]
    fn the_extension_goes_when_even_128_bytes_do_not_fit() {
        assert_eq!(layout(1040, 1105, 8, V6_ROOM), body(1040, 0, 0));
        assert_eq!(layout(148, 1105, 8, V6_ROOM), body(148, 0, 0));
        assert_eq!(layout(108, 421, 4, V4_ROOM), body(108, 0, 0));
        assert_eq!(layout(108, 5000, 4, V4_ROOM), body(108, 0, 0));
    }
}

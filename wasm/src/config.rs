//! Engine configuration: the TLV records the host writes (see the ABI in `lib.rs`) and
//! the validated [`Config`] the translator reads.

/// Record tags. Values are little-endian; addresses are in network byte order.
pub mod tag {
    /// `u8`: 0 = SIIT (RFC 7915), 1 = stateful NAT64 (RFC 6146).
    pub const MODE: u16 = 0x01;
    /// `[16] addr, u8 prefix_len`: the RFC 6052 translation prefix (pool6).
    pub const POOL6: u16 = 0x02;
    /// `[16] v6 addr, u8 v6 len, [4] v4 addr, u8 v4 len`: one EAMT entry (RFC 7757); repeatable.
    pub const EAMT: u16 = 0x03;
    /// `[4] addr, u8 prefix_len`: RFC 6791 pool, source of ICMPv4 errors from untranslatable IPv6 sources.
    pub const RFC6791_V4: u16 = 0x04;
    /// `[16] addr, u8 prefix_len`: RFC 6791 pool for ICMPv6 errors from untranslatable IPv4 sources.
    pub const RFC6791_V6: u16 = 0x05;
    /// `u32`: lowest-ipv6-mtu, the size DF=0 IPv4 packets are fragmented to (RFC 7915 §4; default 1280).
    pub const LOWEST_IPV6_MTU: u16 = 0x06;
    /// `u32`: next-hop MTU out of the IPv6 side.
    pub const MTU_V6: u16 = 0x07;
    /// `u32`: next-hop MTU out of the IPv4 side.
    pub const MTU_V4: u16 = 0x08;
    /// `u8`: unfragmented IPv4 UDP with checksum zero: 0 = drop, 1 = compute (RFC 7915 §4.5).
    pub const UDP_ZERO_CSUM: u16 = 0x09;
    /// `[4]`: the translator's own IPv4 address (source of the errors it generates).
    pub const OWN_IPV4: u16 = 0x0A;
    /// `[16]`: the translator's own IPv6 address (source of the errors it generates).
    pub const OWN_IPV6: u16 = 0x0B;
    /// `u8`: 1 = set IPv6 traffic class to 0 instead of copying TOS (RFC 7915 §4.1 option).
    pub const ZEROIZE_TC: u16 = 0x0C;
    /// `u8`: 1 = allow non-global IPv4 under 64:ff9b::/96 (RFC 6052 §3.1 forbids it; default 0).
    pub const WKP_ALLOW_NONGLOBAL: u16 = 0x0D;
}

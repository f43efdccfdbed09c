//! IP protocol / Next Header numbers (IANA "Assigned Internet Protocol Numbers").

/// IPv6 Hop-by-Hop Options (RFC 8200 §4.3).
pub const HOPOPT: u8 = 0;
/// ICMP for IPv4 (RFC 792).
pub const ICMP: u8 = 1;
/// TCP (RFC 9293).
pub const TCP: u8 = 6;
/// UDP (RFC 768).
pub const UDP: u8 = 17;
/// IPv6 Routing header (RFC 8200 §4.4).
pub const ROUTING: u8 = 43;
/// IPv6 Fragment header (RFC 8200 §4.5).
pub const FRAGMENT: u8 = 44;
/// ICMPv6 (RFC 4443).
pub const ICMPV6: u8 = 58;
/// IPv6 Destination Options (RFC 8200 §4.6).
pub const DSTOPTS: u8 = 60;

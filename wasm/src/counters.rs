//! Engine counters: one `u64` each, exported with their names (see the ABI in `lib.rs`).
//!
//! Every input packet is counted once on entry, and every packet that produces no
//! output is counted under exactly one `drop_*` reason.

macro_rules! counters {
    ($($(#[doc = $doc:expr])* $name:ident,)*) => {
        /// One counter; its value is its index in the exported array.
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u32)]
        pub enum Counter {
            $($(#[doc = $doc])* $name,)*
        }

        /// Names in index order.
        pub const NAMES: &[&str] = &[$(stringify!($name),)*];

        /// The names as the ABI exports them: each NUL-terminated, ended by an empty name.
        pub const NAME_BLOB: &str = concat!($(stringify!($name), "\0",)* "\0");
    };
}

counters! {
    /// IPv4 packets handed to the engine.
    packets_in_v4,
    /// IPv6 packets handed to the engine.
    packets_in_v6,
    /// IPv4 packets translated to IPv6.
    translated_4to6,
    /// IPv6 packets translated to IPv4.
    translated_6to4,
    /// IPv6 packets translated twice and sent back to IPv6 (RFC 7757 §4.2).
    hairpinned,
    /// Fragments the engine produced (RFC 7915 §4 lowest-ipv6-mtu, or IPv4 next hop).
    fragments_out,
    /// ICMPv4 errors the engine generated.
    icmp4_errors_sent,
    /// ICMPv6 errors the engine generated.
    icmp6_errors_sent,
    /// ICMP errors not sent because of the rate limit (RFC 4443 §2.4(f)); the packet
    /// that caused each is counted under its drop reason.
    icmp_errors_rate_limited,
    /// Input length 0, larger than a slot, or first nibble neither 4 nor 6.
    drop_bad_input,
    /// IPv4 header malformed (version, IHL, total length).
    drop_malformed_v4,
    /// IPv4 header checksum wrong (RFC 1812 §5.2.2).
    drop_bad_ipv4_checksum,
    /// IPv6 header or extension header chain malformed or truncated.
    drop_malformed_v6,
    /// Source address has no mapping.
    drop_untranslatable_src,
    /// Destination address has no mapping.
    drop_untranslatable_dst,
    /// Non-global IPv4 address under 64:ff9b::/96 (RFC 6052 §3.1).
    drop_wkp_nonglobal,
    /// TTL or Hop Limit would reach zero (RFC 7915 §4.1, §5.1).
    drop_ttl_expired,
    /// IPv4 unexpired source route option (RFC 7915 §4.1).
    drop_source_route,
    /// IPv6 Routing header with Segments Left not zero (RFC 7915 §5.1).
    drop_routing_header,
    /// IPv6 extension header after the Fragment header.
    drop_ext_after_fragment,
    /// IPv4 UDP with checksum zero that may not or cannot be computed (RFC 7915 §4.5).
    drop_udp_zero_checksum,
    /// Fragmented ICMP, whose checksum cannot be translated without reassembly.
    drop_fragmented_icmp,
    /// ICMP type or code with no counterpart (RFC 7915 §4.2, §5.2).
    drop_icmp_untranslatable,
    /// ICMP error whose checksum is wrong (it would be recomputed, so it is not translated).
    drop_icmp_bad_checksum,
    /// ICMP error whose inner packet cannot be translated.
    drop_icmp_inner,
    /// Too big for the next-hop MTU with fragmentation forbidden; an error was sent.
    drop_too_big,
    /// Not enough output descriptors or spill space left in this batch.
    drop_no_room,
    /// No valid configuration yet.
    drop_not_configured,
}

/// Number of counters.
pub const COUNT: usize = NAMES.len();

/// The counter array, viewed over the exported memory.
pub struct Counters<'a> {
    values: &'a mut [u64],
}

impl<'a> Counters<'a> {
    /// Wraps `values`, which must hold at least [`COUNT`] entries.
    pub fn new(values: &'a mut [u64]) -> Self {
        Counters { values }
    }

    /// Adds one to `c`.
    #[inline(always)]
    pub fn inc(&mut self, c: Counter) {
        self.add(c, 1);
    }

    /// Adds `n` to `c`.
    #[inline(always)]
    pub fn add(&mut self, c: Counter, n: u64) {
        if let Some(v) = self.values.get_mut(c as usize) {
            *v = v.wrapping_add(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_lists_every_name_in_order_and_ends_with_an_empty_name() {
        let blob = NAME_BLOB.as_bytes();
        assert!(blob.ends_with(b"\0\0"));
        let names: [&str; COUNT] = {
            let mut out = [""; COUNT];
            for (i, n) in NAME_BLOB.trim_end_matches('\0').split('\0').enumerate() {
                out[i] = n;
            }
            out
        };
        assert_eq!(&names[..], NAMES);
        assert_eq!(NAMES[Counter::drop_ttl_expired as usize], "drop_ttl_expired");
        assert_eq!(NAMES[Counter::drop_untranslatable_src as usize], "drop_untranslatable_src");
    }

    #[test]
    fn counts() {
        let mut v = [0u64; COUNT];
        let mut c = Counters::new(&mut v);
        c.inc(Counter::hairpinned);
        c.add(Counter::hairpinned, 2);
        assert_eq!(v[Counter::hairpinned as usize], 3);
    }
}

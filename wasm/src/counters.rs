//! Engine counters: one `u64` each, exported with their names (see the ABI in `lib.rs`).
//!
//! Every input packet is counted once on entry, and every packet that produces no
//! output is counted under exactly one `drop_*` reason, or, in stateful NAT64 mode,
//! under `nat64_syns_stored` or `nat64_fragments_held` while the engine keeps it (a
//! held fragment comes out later or counts in `drop_fragment_timeout`).
//!
//! The names follow the grammar of `src/control/counters.ts`, from which the control
//! socket, `nat64 stats` and the Prometheus endpoint derive everything: traffic
//! `{in,out}{4,6}_{proto}_{packets,bytes}`, drops `drop_{reason}`, and the gauges
//! `sessions_{proto}`, `bib_{proto}`, `pool4_used_{proto}`, `pool4_size_{proto}`,
//! which the engine sets (not adds) after every call that can change them; the
//! `offload_*` counters (TUN offloads, see [`crate::offload`]) are shown by name.

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
    /// IPv4 destination that is "this network", loopback, link-local, multicast or
    /// reserved (limited broadcast included): never reached through translation.
    drop_dst_v4_special,
    /// IPv6 destination that is multicast, link-local, loopback or unspecified.
    drop_dst_v6_special,
    /// Destination is the translator's own IPv4 or IPv6 address.
    drop_dst_own_address,
    /// IPv4 destination in the operator's deny list (DENY_V4).
    drop_dst_denied,
    /// IPv4 protocol 0, 43, 44 or 60: as an IPv6 Next Header it would announce an
    /// extension header the payload is not (RFC 8200 §4).
    drop_v4_proto_ext_header,
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
    /// IPv4 TCP packets received.
    in4_tcp_packets,
    /// Their bytes.
    in4_tcp_bytes,
    /// IPv4 UDP packets received.
    in4_udp_packets,
    /// Their bytes.
    in4_udp_bytes,
    /// IPv4 ICMP packets received.
    in4_icmp_packets,
    /// Their bytes.
    in4_icmp_bytes,
    /// IPv4 packets of other protocols received.
    in4_other_packets,
    /// Their bytes.
    in4_other_bytes,
    /// IPv6 TCP packets received.
    in6_tcp_packets,
    /// Their bytes.
    in6_tcp_bytes,
    /// IPv6 UDP packets received.
    in6_udp_packets,
    /// Their bytes.
    in6_udp_bytes,
    /// IPv6 ICMPv6 packets received.
    in6_icmp_packets,
    /// Their bytes.
    in6_icmp_bytes,
    /// IPv6 packets of other protocols received.
    in6_other_packets,
    /// Their bytes.
    in6_other_bytes,
    /// IPv4 TCP packets sent.
    out4_tcp_packets,
    /// Their bytes.
    out4_tcp_bytes,
    /// IPv4 UDP packets sent.
    out4_udp_packets,
    /// Their bytes.
    out4_udp_bytes,
    /// IPv4 ICMP packets sent.
    out4_icmp_packets,
    /// Their bytes.
    out4_icmp_bytes,
    /// IPv4 packets of other protocols sent.
    out4_other_packets,
    /// Their bytes.
    out4_other_bytes,
    /// IPv6 TCP packets sent.
    out6_tcp_packets,
    /// Their bytes.
    out6_tcp_bytes,
    /// IPv6 UDP packets sent.
    out6_udp_packets,
    /// Their bytes.
    out6_udp_bytes,
    /// IPv6 ICMPv6 packets sent.
    out6_icmp_packets,
    /// Their bytes.
    out6_icmp_bytes,
    /// IPv6 packets of other protocols sent.
    out6_other_packets,
    /// Their bytes.
    out6_other_bytes,
    /// NAT64: IPv4 packet to a pool4 transport address without a binding (RFC 6146
    /// §3.5); UDP is answered with ICMP port unreachable.
    drop_no_binding,
    /// NAT64: address-dependent filtering kept an IPv4 packet out (RFC 6146 §3.5.1).
    drop_filtered,
    /// NAT64: TCP connection from the IPv4 side refused by policy (RFC 6146 §3.5.2.2).
    drop_external_tcp_denied,
    /// NAT64: TCP packet other than a SYN with neither session nor binding (RFC 6146
    /// §3.5.2.2).
    drop_tcp_not_syn,
    /// NAT64: the session table is at its maximum.
    drop_session_limit,
    /// NAT64: the IPv6 host is at its maximum number of sessions.
    drop_host_session_limit,
    /// NAT64: no pool4 port left for the host's address (RFC 6146 §3.5.1.1).
    drop_pool4_exhausted,
    /// NAT64: pool4 has no address for the protocol.
    drop_no_pool4,
    /// NAT64: the stored-SYN queue is full; ICMP port unreachable sent.
    drop_stored_syn_full,
    /// NAT64: a SYN for a connection whose SYN is already stored.
    drop_stored_syn_duplicate,
    /// NAT64: too many fragmented datagrams in flight.
    drop_fragment_table_full,
    /// NAT64: the hold buffer for out-of-order fragments is full.
    drop_fragment_hold_full,
    /// NAT64: an out-of-order fragment larger than a hold slot.
    drop_fragment_too_big,
    /// NAT64: neither TCP, UDP nor ICMP (RFC 6146 §3: nothing else has state).
    drop_unsupported_protocol,
    /// NAT64: an out-of-order fragment whose first fragment did not come within
    /// FRAGMENT_MIN (RFC 6146 §4).
    drop_fragment_timeout,
    /// NAT64: unsolicited IPv4 SYNs kept for a simultaneous open (RFC 6146 §3.5.2.2).
    nat64_syns_stored,
    /// NAT64: fragments kept until the first fragment of their datagram comes.
    nat64_fragments_held,
    /// NAT64: sessions removed at the end of their lifetime.
    nat64_sessions_expired,
    /// NAT64: TCP probes sent to idle established connections (RFC 6146 §3.5.2.2).
    nat64_tcp_probes,
    /// NAT64: session and BIB events not recorded because the host had not taken the
    /// earlier ones and the event buffer was full (see `nat64_events_take`).
    nat64_session_events_lost,
    /// NAT64 gauge: TCP sessions.
    sessions_tcp,
    /// NAT64 gauge: UDP sessions.
    sessions_udp,
    /// NAT64 gauge: ICMP query sessions.
    sessions_icmp,
    /// NAT64 gauge: TCP BIB entries.
    bib_tcp,
    /// NAT64 gauge: UDP BIB entries.
    bib_udp,
    /// NAT64 gauge: ICMP BIB entries.
    bib_icmp,
    /// NAT64 gauge: pool4 TCP ports bound.
    pool4_used_tcp,
    /// NAT64 gauge: pool4 UDP ports bound.
    pool4_used_udp,
    /// NAT64 gauge: pool4 ICMP identifiers bound.
    pool4_used_icmp,
    /// NAT64 gauge: pool4 TCP ports.
    pool4_size_tcp,
    /// NAT64 gauge: pool4 UDP ports.
    pool4_size_udp,
    /// NAT64 gauge: pool4 ICMP identifiers.
    pool4_size_icmp,
    /// Offloads: inputs whose virtio-net header marks the transport checksum partial
    /// (NEEDS_CSUM), GSO super-packets included.
    offload_csum_partial,
    /// Offloads: GSO super-packets received, each once however many segments it holds.
    offload_gso_packets,
    /// Offloads: partial checksums the engine completed itself, because the packet was
    /// not a plain TCP or UDP header rewrite (ICMP, a fragment) or was quoted in an
    /// ICMP error, cut into fragments or stored.
    offload_csum_completed,
    /// Offloads: a virtio-net header with the checksum field outside the packet, an
    /// unknown GSO type, or a GSO size of 0.
    drop_bad_vnet_header,
    /// Offloads: GSO of type UDP (UFO, IP fragmentation by the kernel), not carried.
    drop_gso_ufo,
    /// Offloads: GSO without a partial checksum (virtio 1.x §5.1.6.2 needs one).
    drop_gso_no_csum,
    /// Offloads: GSO on a packet that is not its type's protocol and IP version, is a
    /// fragment, or whose partial checksum is not the transport checksum.
    drop_gso_mismatch,
    /// Offloads: GSO super-packet whose IPv4 translation would exceed 65535 bytes.
    drop_gso_too_long,
    /// Offloads: GSO super-packet whose segments exceed the next-hop MTU where a
    /// packet would be fragmented, which a super-packet never is.
    drop_gso_segment_too_big,
    /// Offloads (USO): UDP super-packets written, each holding two or more translated
    /// datagrams of one flow; the datagrams still count one by one in `out{4,6}_udp_*`.
    offload_uso_packets,
    /// Offloads (USO): translated datagrams written inside those super-packets.
    offload_uso_datagrams,
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

    /// Sets the gauge `c` to `v`.
    #[inline]
    pub fn set(&mut self, c: Counter, v: u64) {
        if let Some(slot) = self.values.get_mut(c as usize) {
            *slot = v;
        }
    }

    /// Counts one packet of `len` bytes of traffic class `class` (see
    /// [`crate::traffic`]) received (`sent` false) or sent.
    #[inline(always)]
    pub fn traffic(&mut self, sent: bool, class: usize, len: usize) {
        let at = Counter::in4_tcp_packets as usize + (sent as usize) * 16 + 2 * class;
        if let Some(pair) = self.values.get_mut(at..at + 2) {
            pair[0] = pair[0].wrapping_add(1);
            pair[1] = pair[1].wrapping_add(len as u64);
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
    fn traffic_counters_are_laid_out_by_direction_family_and_protocol() {
        let mut v = [0u64; COUNT];
        let mut c = Counters::new(&mut v);
        c.traffic(false, 2, 100);
        c.traffic(true, 4 + 3, 60);
        c.traffic(true, 4 + 3, 40);
        assert_eq!((v[Counter::in4_icmp_packets as usize], v[Counter::in4_icmp_bytes as usize]), (1, 100));
        assert_eq!((v[Counter::out6_other_packets as usize], v[Counter::out6_other_bytes as usize]), (2, 100));
        for (i, name) in NAMES.iter().enumerate() {
            let at = i.wrapping_sub(Counter::in4_tcp_packets as usize);
            if at < 32 {
                let (dir, fam, proto, unit) = (at / 16, at / 8 % 2, at / 2 % 4, at % 2);
                let want = std::format!(
                    "{}{}_{}_{}",
                    ["in", "out"][dir],
                    ["4", "6"][fam],
                    ["tcp", "udp", "icmp", "other"][proto],
                    ["packets", "bytes"][unit]
                );
                assert_eq!(*name, want);
            }
        }
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

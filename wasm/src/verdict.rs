//! What translating one packet produced. The translators only decide; the engine
//! turns a verdict into output descriptors, fragments and counter updates.

use crate::counters::Counter;

/// Outcome of translating one packet held in a slot. Offsets are within the slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The translated packet is at `start..start + len`.
    Forward {
        /// Offset of the packet in the slot.
        start: usize,
        /// Its length.
        len: usize,
    },
    /// The translated IPv6 packet at `start..start + len` carries a Fragment header
    /// right after its fixed header and must be cut into fragments of at most `mtu`
    /// bytes (RFC 7915 §4, lowest-ipv6-mtu).
    FragmentV6 {
        /// Offset of the packet in the slot.
        start: usize,
        /// Its length.
        len: usize,
        /// Largest fragment.
        mtu: usize,
    },
    /// The translated IPv4 packet (20-byte header, DF clear) at `start..start + len`
    /// must be cut into fragments of at most `mtu` bytes for the IPv4 next hop.
    FragmentV4 {
        /// Offset of the packet in the slot.
        start: usize,
        /// Its length.
        len: usize,
        /// Largest fragment.
        mtu: usize,
    },
    /// The IPv4 packet at `start..start + len`, translated from IPv6, is addressed to
    /// an EAMT IPv4 address and must be translated back to IPv6 (RFC 7757 §4.2).
    Hairpin {
        /// Offset of the packet in the slot.
        start: usize,
        /// Its length.
        len: usize,
    },
    /// The input was dropped for `reason`, and the ICMP error the translator sends
    /// back is at `start..start + len`.
    Error {
        /// Offset of the error in the slot.
        start: usize,
        /// Its length.
        len: usize,
        /// Why the input was dropped.
        reason: Counter,
    },
    /// The input was dropped for this reason; nothing is sent.
    Drop(Counter),
    /// Stateful NAT64 kept a copy of the input, counted in this counter, and sends
    /// nothing now: an out-of-order fragment waiting for its first fragment (RFC 6146
    /// §3.4) or an unsolicited SYN waiting for a simultaneous open (§3.5.2.2).
    Held(Counter),
}

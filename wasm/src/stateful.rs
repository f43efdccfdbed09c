//! The stateful NAT64 packet path (RFC 6146): what the RFC 7915 translators ask the
//! tables ([`crate::nat64`]) before they rewrite a packet, and the port rewrite that
//! stateful translation adds to theirs.
//!
//! In NAT64 mode the translators call [`outbound`] (IPv6 → IPv4, RFC 6146 §3.5) once a
//! packet has passed the checks that answer it without translating it (hop limit,
//! header chain), and [`inbound`] (IPv4 → IPv6) likewise; [`serves`] first tells
//! whether an IPv4 packet is for the NAT64 at all. Each returns the [`Binding`] of the
//! packet, or the verdict for a packet the tables refuse (counted as `drop_<refusal>`
//! and answered as [`crate::nat64`] documents) or keep (an out-of-order fragment, an
//! unsolicited SYN). The binding, (X', x') ↔ (X, x), then takes the place of what the
//! stateless mapping would give:
//!
//! | packet | address from the binding | port from the binding |
//! |---|---|---|
//! | IPv6 → IPv4 | source X | source port x (ICMP: identifier) |
//! | IPv4 → IPv6 | destination X' | destination port x' |
//! | ICMPv6 error → ICMPv4 | outer source X, quoted destination X | quoted destination port x |
//! | ICMPv4 error → ICMPv6 | outer destination X', quoted source X' | quoted source port x' |
//!
//! Every other address is translated with pool6 (RFC 6052). ICMP errors never create
//! or refresh state: their binding comes from the packet they quote (RFC 6146 §3.5).

use crate::bytes::get16;
use crate::context::Tx;
use crate::counters::Counter;
use crate::icmp::{self, v4_code, v6_code};
use crate::icmp_errors::{self, Reply};
use crate::ipv4::{self, Ipv4Fields};
use crate::ipv6::{self, Chain, Ipv6Fields};
use crate::nat64::{Flow4, Flow6, FragmentKey, FragmentVerdict, Mapping, Proto, Refusal, TcpFlags};
use crate::offload;
use crate::protocol::{ICMP, ICMPV6, TCP, UDP};
use crate::verdict::Verdict;

/// Offset of the source port in TCP and UDP headers.
pub const SOURCE_PORT: usize = 0;
/// Offset of the destination port in TCP and UDP headers.
pub const DESTINATION_PORT: usize = 2;
/// Offset of the identifier in ICMP and ICMPv6 echo messages.
pub const ECHO_IDENTIFIER: usize = 4;
/// Offset of the flags byte in a TCP header.
const TCP_FLAGS: usize = 13;

/// What the tables bound a packet to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding {
    /// X', the IPv6 host.
    pub addr6: [u8; 16],
    /// x' (ICMP: the query identifier on the IPv6 side).
    pub port6: u16,
    /// X, its pool4 address.
    pub addr4: [u8; 4],
    /// x (ICMP: the identifier on the IPv4 side).
    pub port4: u16,
    /// Y, the IPv4 peer; for an ICMP error, the destination of the quoted packet.
    pub remote4: [u8; 4],
    /// IPv6 → IPv4: the translated packet is for a pool4 address and goes back to
    /// IPv6 (hairpinning, RFC 6146 §3.8).
    pub hairpin: bool,
}

impl Binding {
    fn of(m: &Mapping, hairpin: bool) -> Binding {
        Binding { addr6: m.addr6, port6: m.port6, addr4: m.addr4, port4: m.port4, remote4: m.remote4, hairpin }
    }
}

/// The counter of a packet the tables refused.
pub fn refusal_counter(r: Refusal) -> Counter {
    match r {
        Refusal::NoBinding => Counter::drop_no_binding,
        Refusal::Filtered => Counter::drop_filtered,
        Refusal::ExternalTcpDenied => Counter::drop_external_tcp_denied,
        Refusal::NotSyn => Counter::drop_tcp_not_syn,
        Refusal::SessionLimit => Counter::drop_session_limit,
        Refusal::HostSessionLimit => Counter::drop_host_session_limit,
        Refusal::PoolExhausted => Counter::drop_pool4_exhausted,
        Refusal::NoPool4 => Counter::drop_no_pool4,
        Refusal::StoredSynFull => Counter::drop_stored_syn_full,
        Refusal::StoredSynDuplicate => Counter::drop_stored_syn_duplicate,
        Refusal::FragmentTableFull => Counter::drop_fragment_table_full,
        Refusal::FragmentHoldFull => Counter::drop_fragment_hold_full,
        Refusal::FragmentTooBig => Counter::drop_fragment_too_big,
    }
}

/// Writes `port` at `l4[at..at + 2]` and returns the partial sums it removed and
/// added, for the caller's incremental checksum update (RFC 1624). A field past the
/// end of `l4` (a quoted packet cut short) is left alone.
#[inline]
pub fn swap_port(l4: &mut [u8], at: usize, port: u16) -> (u64, u64) {
    if l4.len() < at + 2 {
        return (0, 0);
    }
    let old = get16(l4, at);
    l4[at..at + 2].copy_from_slice(&port.to_be_bytes());
    (old as u64, port as u64)
}

/// [`swap_port`] when stateful translation gives the port, nothing otherwise.
#[inline(always)]
pub fn swap_bound_port(l4: &mut [u8], at: usize, port: Option<u16>) -> (u64, u64) {
    match port {
        Some(p) => swap_port(l4, at, p),
        None => (0, 0),
    }
}

fn nat64_proto(protocol: u8, icmp: u8) -> Option<Proto> {
    match protocol {
        TCP => Some(Proto::Tcp),
        UDP => Some(Proto::Udp),
        p if p == icmp => Some(Proto::Icmp),
        _ => None,
    }
}


/// Whether the IPv4 packet for `dst` is for the NAT64: RFC 6146 §3.5 translates
/// packets to pool4 addresses only.
#[inline(never)]
pub fn serves(tx: &Tx, dst: [u8; 4]) -> bool {
    tx.state.as_ref().map_or(false, |nat| nat.pool4_has_address(dst))
}

/// The transport ports (source, destination) and TCP flags of `l4`, a first fragment's
/// or whole packet's upper layer of at least 4 bytes.
fn ports(proto: Proto, l4: &[u8]) -> ((u16, u16), TcpFlags) {
    let flags = if proto == Proto::Tcp && l4.len() > TCP_FLAGS { TcpFlags(l4[TCP_FLAGS]) } else { TcpFlags::default() };
    ((get16(l4, SOURCE_PORT), get16(l4, DESTINATION_PORT)), flags)
}

/// The ports of a fragment (RFC 6146 §3.4: the first fragment's ports serve the
/// whole datagram), or the verdict when it is kept until its first fragment comes
/// or refused.
fn fragment_ports(tx: &mut Tx, key: FragmentKey, first: Option<(u16, u16)>, packet: &[u8]) -> Result<(u16, u16), Verdict> {
    let now = tx.now();
    let nat = match tx.state.as_mut() {
        Some(n) => n,
        None => return Err(Verdict::Drop(Counter::drop_not_configured)),
    };
    match nat.fragment(&key, first, packet, now) {
        Ok(FragmentVerdict::Translate { sport, dport, held }) => {
            if held > 0 {
                tx.release = Some(key);
            }
            Ok((sport, dport))
        }
        Ok(FragmentVerdict::Held) => Err(Verdict::Held(Counter::nat64_fragments_held)),
        Err(r) => Err(Verdict::Drop(refusal_counter(r))),
    }
}

/// IPv6 → IPv4 (RFC 6146 §3.5): the binding of the IPv6 packet at
/// `buf[start..start + len]`, whose header chain is `chain` and whose destination is
/// `dst` once taken out of pool6; creates or refreshes its binding and session.
///
/// Kept out of line, with the chain by value and the fixed header read again: the
/// SIIT path that only passes by must not pay for a frame in linear memory.
#[inline(never)]
pub fn outbound(tx: &mut Tx, buf: &mut [u8], start: usize, len: usize, chain: Chain, dst: [u8; 4]) -> Result<Binding, Verdict> {
    let ip = &ipv6::parse(&buf[start..start + len]).map_err(|_| Verdict::Drop(Counter::drop_malformed_v6))?;
    let end = start + ipv6::HEADER_LEN + ip.payload_len;
    let l4 = &buf[start + chain.upper_at..end];
    let proto = nat64_proto(chain.protocol, ICMPV6).ok_or(Verdict::Drop(Counter::drop_unsupported_protocol))?;
    let fragment = chain.fragment.filter(|f| f.is_fragmented());
    let first = fragment.map_or(true, |f| f.offset == 0);
    let (sport, dport, flags) = if proto == Proto::Icmp {
        if fragment.is_some() {
            return Err(Verdict::Drop(Counter::drop_fragmented_icmp));
        }
        if l4.len() < icmp::HEADER_LEN {
            return Err(Verdict::Drop(Counter::drop_malformed_v6));
        }
        if icmp::v6_is_error(l4[0]) {
            return quoted_outbound(tx, &l4[icmp::HEADER_LEN..], dst);
        }
        if !matches!(l4[0], icmp::V6_ECHO_REQUEST | icmp::V6_ECHO_REPLY) {
            return Err(Verdict::Drop(Counter::drop_icmp_untranslatable));
        }
        // RFC 6146 §3.5.3: the identifier is the query's "port".
        let id = get16(l4, ECHO_IDENTIFIER);
        (id, id, TcpFlags::default())
    } else {
        if first && l4.len() < 4 {
            return Err(Verdict::Drop(Counter::drop_malformed_v6));
        }
        let (own, flags) = if first { ports(proto, l4) } else { ((0, 0), TcpFlags::default()) };
        let (sport, dport) = match fragment {
            Some(f) => {
                let key = FragmentKey::v6(ip.src, ip.dst, chain.protocol, f.id);
                fragment_ports(tx, key, if first { Some(own) } else { None }, &buf[start..start + len])?
            }
            None => own,
        };
        (sport, dport, flags)
    };
    let now = tx.now();
    let nat = match tx.state.as_mut() {
        Some(n) => n,
        None => return Err(Verdict::Drop(Counter::drop_not_configured)),
    };
    let flow = Flow6 { proto, src6: ip.src, sport, dst4: dst, dport, flags };
    let m = match nat.outbound(&flow, now) {
        Ok(m) => m,
        Err(r) => return Err(refuse6(tx, buf, start, len, ip, r)),
    };
    let hairpin = nat.pool4_has_address(dst);
    if hairpin && proto == Proto::Tcp && flags.syn() {
        // RFC 6146 §3.8: the hairpinned SYN is an IPv4 SYN from (X, x) to (Y, y). With
        // no binding for (Y, y) it is kept for a simultaneous open, as the IPv6 packet
        // it is, so that its answer goes back to the IPv6 sender (RFC 6146 §3.5.2.2).
        let back = Flow4 { proto, src4: m.addr4, sport: m.port4, dst4: dst, dport, flags };
        if nat.peek_inbound(&back).is_none() {
            // Kept to be quoted later: with its checksum complete (TUN offloads).
            offload::settle(&mut tx.partial, buf);
            let nat = tx.state.as_mut().ok_or(Verdict::Drop(Counter::drop_not_configured))?;
            return Err(match nat.store_syn(&back, &buf[start..start + len], now) {
                Ok(()) => Verdict::Held(Counter::nat64_syns_stored),
                Err(r) => Verdict::Drop(refusal_counter(r)),
            });
        }
    }
    Ok(Binding::of(&m, hairpin))
}

/// The binding of an ICMPv6 error, from the packet it quotes (`quoted`, which went from
/// Y' to X'); `dst` is the error's destination taken out of pool6.
fn quoted_outbound(tx: &mut Tx, quoted: &[u8], dst: [u8; 4]) -> Result<Binding, Verdict> {
    let refused = Verdict::Drop(Counter::drop_icmp_inner);
    let f = ipv6::parse_truncated(quoted).map_err(|_| refused)?;
    let content = quoted.len().min(ipv6::HEADER_LEN + f.payload_len);
    let chain = ipv6::walk(&quoted[..content], f.next_header).map_err(|_| refused)?;
    if chain.fragment.map_or(false, |fr| fr.offset != 0) {
        return Err(refused);
    }
    let q = &quoted[chain.upper_at.min(content)..content];
    let proto = nat64_proto(chain.protocol, ICMPV6).ok_or(refused)?;
    let (sport, dport) = quoted_ports(proto, q, icmp::V6_ECHO_REQUEST, icmp::V6_ECHO_REPLY).ok_or(refused)?;
    let remote = tx.map.v6_to_v4(&f.src).map_err(|_| refused)?;
    let nat = tx.state.as_ref().ok_or(refused)?;
    // The quoted packet went from (Y', y) to (X', x'): look up (X', x') → (Y, y).
    let flow = Flow6 { proto, src6: f.dst, sport: dport, dst4: remote, dport: sport, flags: TcpFlags::default() };
    let m = nat.peek_outbound(&flow).ok_or(Verdict::Drop(Counter::drop_no_binding))?;
    Ok(Binding::of(&m, nat.pool4_has_address(dst)))
}

/// The (source, destination) ports of a quoted upper layer; an echo's identifier on
/// both sides; `None` for anything with no binding (other ICMP, cut too short).
fn quoted_ports(proto: Proto, q: &[u8], request: u8, reply: u8) -> Option<(u16, u16)> {
    match proto {
        Proto::Icmp if q.len() >= icmp::HEADER_LEN && (q[0] == request || q[0] == reply) => {
            let id = get16(q, ECHO_IDENTIFIER);
            Some((id, id))
        }
        Proto::Icmp => None,
        _ if q.len() >= 4 => Some((get16(q, SOURCE_PORT), get16(q, DESTINATION_PORT))),
        _ => None,
    }
}

/// The verdict for an IPv6 packet the tables refused: a source that cannot be bound
/// is told its destination is unreachable (RFC 6146 §3.5.1.1, ICMPv6 type 1 code 3);
/// other refusals are silent.
fn refuse6(tx: &mut Tx, buf: &mut [u8], start: usize, len: usize, ip: &Ipv6Fields, r: Refusal) -> Verdict {
    let reason = refusal_counter(r);
    match r {
        Refusal::PoolExhausted | Refusal::NoPool4 | Refusal::SessionLimit | Refusal::HostSessionLimit => {
            let reply = Reply { ty: icmp::V6_DEST_UNREACH, code: v6_code::ADDRESS_UNREACH, rest: 0, reason };
            icmp_errors::v6(tx, buf, start, len, ip, false, reply)
        }
        _ => Verdict::Drop(reason),
    }
}

/// IPv4 → IPv6 (RFC 6146 §3.5): the binding of the IPv4 packet at
/// `buf[start..start + len]` (header `ip`, destination in pool4, see [`serves`]);
/// finds its binding and creates or refreshes its session. `hairpin` marks the second
/// pass of a hairpinned packet, whose sender is a pool4 address. Out of line, the
/// header by value, as [`outbound`].
#[inline(never)]
pub fn inbound(tx: &mut Tx, buf: &mut [u8], start: usize, ip: Ipv4Fields, hairpin: bool) -> Result<Binding, Verdict> {
    let ip = &ip;
    let l4 = &buf[start + ip.header_len..start + ip.total_len];
    let proto = nat64_proto(ip.protocol, ICMP).ok_or(Verdict::Drop(Counter::drop_unsupported_protocol))?;
    let first = ip.offset() == 0;
    let (sport, dport, flags) = if proto == Proto::Icmp {
        if ip.is_fragment() {
            return Err(Verdict::Drop(Counter::drop_fragmented_icmp));
        }
        if l4.len() < icmp::HEADER_LEN {
            return Err(Verdict::Drop(Counter::drop_malformed_v4));
        }
        if icmp::v4_is_error(l4[0]) {
            return quoted_inbound(tx, &l4[icmp::HEADER_LEN..], hairpin);
        }
        if !matches!(l4[0], icmp::V4_ECHO_REQUEST | icmp::V4_ECHO_REPLY) {
            return Err(Verdict::Drop(Counter::drop_icmp_untranslatable));
        }
        let id = get16(l4, ECHO_IDENTIFIER);
        (0, id, TcpFlags::default())
    } else {
        if first && l4.len() < 4 {
            return Err(Verdict::Drop(Counter::drop_malformed_v4));
        }
        let (own, flags) = if first { ports(proto, l4) } else { ((0, 0), TcpFlags::default()) };
        let (sport, dport) = if ip.is_fragment() {
            let key = FragmentKey::v4(ip.src, ip.dst, ip.protocol, ip.id);
            fragment_ports(tx, key, if first { Some(own) } else { None }, &buf[start..start + ip.total_len])?
        } else {
            own
        };
        (sport, dport, flags)
    };
    let now = tx.now();
    let nat = match tx.state.as_mut() {
        Some(n) => n,
        None => return Err(Verdict::Drop(Counter::drop_not_configured)),
    };
    let flow = Flow4 { proto, src4: ip.src, sport, dst4: ip.dst, dport, flags };
    match nat.inbound(&flow, now) {
        Ok(m) => Ok(Binding::of(&m, hairpin)),
        Err(r) => Err(refuse4(tx, buf, start, ip, &flow, r, hairpin)),
    }
}

/// The binding of an ICMPv4 error, from the packet it quotes (`quoted`, which went from
/// X to Y).
fn quoted_inbound(tx: &mut Tx, quoted: &[u8], hairpin: bool) -> Result<Binding, Verdict> {
    let refused = Verdict::Drop(Counter::drop_icmp_inner);
    let f = ipv4::parse_truncated(quoted).map_err(|_| refused)?;
    if f.offset() != 0 {
        return Err(refused);
    }
    let q = &quoted[f.header_len..quoted.len().min(f.total_len)];
    let proto = nat64_proto(f.protocol, ICMP).ok_or(refused)?;
    let (sport, dport) = quoted_ports(proto, q, icmp::V4_ECHO_REQUEST, icmp::V4_ECHO_REPLY).ok_or(refused)?;
    let nat = tx.state.as_ref().ok_or(refused)?;
    // The quoted packet went from (X, x) to (Y, y): look up (Y, y) → (X, x).
    let flow = Flow4 { proto, src4: f.dst, sport: dport, dst4: f.src, dport: sport, flags: TcpFlags::default() };
    let m = nat.peek_inbound(&flow).ok_or(Verdict::Drop(Counter::drop_no_binding))?;
    Ok(Binding::of(&m, hairpin))
}

/// The verdict for an IPv4 packet the tables refused (RFC 6146 §3.5.1, §3.5.2.2): an
/// unsolicited TCP SYN is kept for a simultaneous open, UDP without a binding is
/// answered with port unreachable from the pool4 address, the rest is dropped. In a
/// hairpin's second pass the sender is an IPv6 node behind a pool4 address, so nothing
/// is answered or kept.
fn refuse4(tx: &mut Tx, buf: &mut [u8], start: usize, ip: &Ipv4Fields, flow: &Flow4, r: Refusal, hairpin: bool) -> Verdict {
    let port_unreachable = |reason| Reply { ty: icmp::V4_DEST_UNREACH, code: v4_code::PORT_UNREACH, rest: 0, reason };
    let now = tx.now();
    if hairpin {
        return Verdict::Drop(refusal_counter(r));
    }
    match (r, flow.proto) {
        (Refusal::NoBinding | Refusal::Filtered, Proto::Tcp) if flow.flags.syn() => {
            // Kept to be quoted later: with its checksum complete (TUN offloads).
            offload::settle(&mut tx.partial, buf);
            let stored = match tx.state.as_mut() {
                Some(nat) => nat.store_syn(flow, &buf[start..start + ip.total_len], now),
                None => Err(r),
            };
            match stored {
                Ok(()) => Verdict::Held(Counter::nat64_syns_stored),
                Err(Refusal::StoredSynFull) => {
                    icmp_errors::v4_from(tx, buf, start, ip.total_len, ip, false, port_unreachable(Counter::drop_stored_syn_full), ip.dst)
                }
                Err(e) => Verdict::Drop(refusal_counter(e)),
            }
        }
        (Refusal::NoBinding, Proto::Udp) => {
            icmp_errors::v4_from(tx, buf, start, ip.total_len, ip, false, port_unreachable(Counter::drop_no_binding), ip.dst)
        }
        _ => Verdict::Drop(refusal_counter(r)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::NAMES;

    #[test]
    fn every_refusal_counts_in_its_drop_counter() {
        for r in Refusal::ALL {
            assert_eq!(NAMES[refusal_counter(r) as usize], std::format!("drop_{}", r.name()));
        }
    }

    #[test]
    fn swapping_a_port_reports_both_values_and_spares_short_headers() {
        let mut l4 = [0x07, 0xd0, 0x0f, 0xa0];
        assert_eq!(swap_port(&mut l4, SOURCE_PORT, 1000), (2000, 1000));
        assert_eq!(l4, [0x03, 0xe8, 0x0f, 0xa0]);
        let mut short = [1u8, 2, 3];
        assert_eq!(swap_port(&mut short, DESTINATION_PORT, 9), (0, 0));
        assert_eq!(short, [1, 2, 3]);
    }
}

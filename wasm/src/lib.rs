//! The exported WebAssembly ABI of the translation engine, and nothing else.
//!
//! This comment is the one place the ABI between the TypeScript host (`src/engine/`) and
//! this crate is written down. Both sides test it: `cargo test` exercises the functions
//! below natively, `test/engine/abi_test.ts`, `test/engine/nat64_abi_test.ts` and
//! `test/engine/session_events_test.ts` exercise the built module from Deno.
//!
//! # Memory
//! `nat64_init` lays out every buffer once and grows linear memory once; memory never
//! grows afterwards, so `Uint8Array` views the host makes over `memory.buffer` stay valid
//! for the life of the instance. All addresses below are byte offsets into linear memory,
//! all integers little-endian.
//!
//! | region | size | writer |
//! |---|---|---|
//! | slots | `slot_count × slot_size` | host writes input packet `i` at `nat64_slot_base() + i × slot_size + nat64_headroom()` |
//! | spill | `slot_count × slot_size` | engine: extra output packets (fragments, released held fragments, UDP super-packets) |
//! | input lengths | `slot_count × u32` at `nat64_in_len_base()` | host: byte length of the packet in slot `i` |
//! | output descriptors | `nat64_out_capacity() × 4 × u32` at `nat64_out_base()` | engine |
//! | input virtio-net headers | `slot_count × 16` bytes at `nat64_vnet_in_base()` | host: entry `i` holds the header read in front of the packet in slot `i` |
//! | output virtio-net headers | `nat64_out_capacity() × 16` bytes at `nat64_vnet_out_base()` | engine: entry `j` holds the header to write in front of output `j` |
//! | config buffer | `nat64_config_capacity()` bytes at `nat64_config_base()` | host: TLV records |
//! | counters | `nat64_counter_count() × u64` at `nat64_counters_base()` | engine |
//! | NAT64 tables | `crate::nat64::Nat64::bytes_needed` for the session capacity | engine only |
//! | session events | `nat64_events_capacity() × 64` bytes at `nat64_events_base()`, inside the NAT64 tables | engine |
//! | state buffer | `nat64_state_capacity()` bytes at `nat64_state_base()` | both: snapshot pieces, listing filters and pages |
//!
//! `slot_count` is 1 to 4096; `slot_size` (headroom included) is 1344 to 65600, so a
//! slot holds packets of up to `slot_size - 64` bytes. The headroom is 64 bytes: it
//! lets IPv4→IPv6 grow the header in place (+20 bytes, +8 more with a Fragment
//! header) and lets an ICMP error the engine sends put its headers (28 or 48 bytes)
//! in front of the packet it quotes. A translated ICMP error is rebuilt and written
//! from the first byte of its slot (it is at most 1280 bytes). `nat64_out_capacity()`
//! is `slot_count + spill bytes / 64`; the config buffer holds 32768 bytes, the state
//! buffer 65536. The NAT64 tables take at most 128 bytes per session of capacity, at
//! most 8,360 bytes per pool4 (protocol, address) pair (a port bitmap), and about 0.5 MB
//! (stored SYNs, fragments, 4096 session events); a session capacity of 0 lays out
//! none, and stateful NAT64 is then refused. The host counts the pairs of its pool4 —
//! the distinct addresses of each protocol, added up over TCP, UDP and ICMP — and
//! passes at least that many to `nat64_init`, at most [`nat64::MAX_PORT_SETS`] (12288,
//! about 100 MB); a configuration whose pool4 has more pairs than were laid out is
//! refused (growing pool4 needs a new instance).
//!
//! # Translating a batch
//! The host fills slots `0..count`, writes their lengths, and calls
//! `nat64_translate(count, now_ms)`. The engine translates every packet in place and
//! returns how many output descriptors it wrote. Descriptor `j` is four `u32`:
//! `[addr, len, slot, kind]`: the packet's bytes are `memory[addr .. addr + len]`, `slot`
//! is the input slot it came from, `kind` is one of [`OUT_TRANSLATED`],
//! [`OUT_ICMP_ERROR`] (an error the translator generated, going back to the input's
//! sender on the side the input came from), [`OUT_FRAGMENT`] and, from
//! `nat64_expire` only, [`OUT_PROBE`]. The side a packet leaves on is its IP version
//! (first nibble): a hairpinned IPv6 packet (RFC 7757 §4.2, RFC 6146 §3.8) is
//! translated twice and leaves as IPv6. Outputs of slot `i` precede outputs of slot
//! `i + 1`, so per-flow order is kept (RFC 7915 §1.3); with USO (below) a UDP
//! super-packet takes the place of its flow's first datagram. A packet cut into fragments
//! gives one [`OUT_FRAGMENT`] descriptor per fragment, in offset order: the first in
//! its slot, the others in the spill area. An input that produces no output was
//! dropped (the reason is counted) or, in stateful NAT64 mode, kept: an unsolicited
//! IPv4 SYN waiting for a simultaneous open, or a fragment that came before the first
//! fragment of its datagram. A kept fragment comes out, from the spill area and with
//! the slot of the packet that released it, after the first fragment arrives.
//!
//! `now_ms` is the host's monotonic clock in milliseconds. The engine never reads a
//! clock of its own: the host owns time and the timer schedule.
//!
//! # TUN offloads
//! A TUN opened with `IFF_VNET_HDR` puts a 10-byte `struct virtio_net_hdr`
//! (linux/virtio_net.h: `u8 flags, u8 gso_type, u16 hdr_len, u16 gso_size, u16
//! csum_start, u16 csum_offset`, little-endian) in front of every packet it reads and
//! expects one in front of every packet written to it. Each entry of the header
//! regions is 16 bytes: the header, then 6 bytes of padding. The host reads with
//! `readv(fd, [vnet_in entry i (10 bytes), slot i from its headroom])`, so packets sit
//! where they always do, and writes output `j` with `writev(fd, [vnet_out entry j (10
//! bytes), output j])`. Every output descriptor, from `nat64_translate` and
//! `nat64_expire` alike, gets its header written: all zero for an ordinary packet and
//! for every packet the engine generates (ICMP errors, fragments, probes, released
//! fragments). With OFFLOAD 1 the engine reads entry `i` of every input (with 0, the
//! default, it reads none and every input is an ordinary packet) and honours:
//! - NEEDS_CSUM (`flags` bit 0): the transport checksum field holds the pseudo-header
//!   sum only. A whole TCP or UDP datagram whose `csum_start` is its transport header
//!   and whose `csum_offset` is its checksum field is translated as a header rewrite and
//!   leaves with NEEDS_CSUM, `csum_start` at its output transport header, `csum_offset`
//!   unchanged, `hdr_len` its output IP and transport header length. Anything else
//!   (ICMP, fragments), and a datagram that ends up quoted in an ICMP error, cut into
//!   fragments or stored, has its checksum completed by the engine and leaves as an
//!   ordinary packet (`offload_csum_completed`).
//! - GSO (`gso_type` 1 TCPV4, 4 TCPV6, 5 UDP_L4, bit 0x80 ECN; NEEDS_CSUM required): the
//!   super-packet is translated once; the output's IP length covers all of it and its
//!   header keeps `gso_size` and the ECN bit, with `gso_type` TCPV4 or TCPV6 for the
//!   output's family (UDP_L4 stays). DF and the next-hop MTU apply to one segment (IP
//!   and transport headers plus `gso_size`); a segment too big is answered with Packet
//!   Too Big / Fragmentation Needed as a packet would be, and dropped where a packet
//!   would be fragmented (`drop_gso_segment_too_big`).
//!
//! Headers the engine refuses drop their packet: `drop_bad_vnet_header` (checksum field
//! outside the packet, unknown `gso_type`, `gso_size` 0), `drop_gso_ufo` (`gso_type` 3),
//! `drop_gso_no_csum`, `drop_gso_mismatch` (GSO type not the packet's protocol and
//! version, a fragment, or a checksum that is not its transport checksum), and
//! `drop_gso_too_long` (an IPv4 translation over 65535 bytes). Inputs count in
//! `offload_csum_partial` and `offload_gso_packets`. See [`offload`].
//!
//! USO (config tag 0x1C, `u8` bit mask: bit 0 IPv4, bit 1 IPv6; default 0; refused
//! without OFFLOAD 1): the host sets a family's bit when the TUN accepted its UDP
//! segmentation offload (`TUN_F_USO4`, `TUN_F_USO6`). Once a batch is translated, the
//! translated UDP datagrams of one flow in that family leave as one super-packet the
//! kernel forwards once and cuts back into the same datagrams where it must
//! (`__udp_gso_segment`). It is written in the spill area: the first datagram's IP and
//! UDP headers, then every payload in order, with IP length and UDP length (8 + all
//! payloads) set, the IPv4 header checksum recomputed, the UDP checksum field holding
//! the pseudo-header sum over that UDP length (folded, not inverted), and the header
//! NEEDS_CSUM, `gso_type` UDP_L4, `gso_size` the first datagram's payload bytes,
//! `csum_start` the IP header length, `csum_offset` 6, `hdr_len` IP header + 8. Its
//! descriptor, with the first datagram's slot, takes that datagram's place; the
//! descriptors of the others go and the rest keep their order. A datagram merges only
//! when the kernel may compute its checksum afresh: a partial checksum carried through
//! translation, or one its input header marks verified (DATA_VALID, `flags` bit 1);
//! never a full checksum nobody verified (a wrong checksum stays wrong), a UDP checksum
//! of 0, a GSO input, a hairpin, a fragment, a packet with IPv4 options or IPv6
//! extension headers, nor one without payload. Datagrams merge while their headers
//! agree on what every segment repeats (addresses, ports, TOS or Traffic Class, DF,
//! TTL or Hop Limit, flow label), each has the first one's payload size but the last,
//! which may be smaller, and the super-packet holds at most 64 datagrams and 65535
//! bytes. A datagram that cannot join ends its flow's run, and so does any other
//! output between the same two hosts that may carry UDP (a fragment, a datagram that
//! does not merge), so a flow's datagrams never pass one another; TCP and ICMP do not
//! end runs. A lone datagram is left as it is, and so is a run when the spill area
//! has no room left. `offload_uso_packets` counts super-packets, `offload_uso_datagrams`
//! the datagrams in them; `out{4,6}_udp_*` count the datagrams and bytes the kernel's
//! segmentation gives back, as without USO.
//!
//! # Configuration
//! The host writes TLV records into the config buffer and calls `nat64_configure(len)`.
//! A record is `tag: u16, len: u16, value: [u8; len]`; the tags are in [`config::tag`].
//! A successful call replaces the whole configuration (tags left out take their
//! defaults, see [`config::Config::set_defaults`]); a failed one keeps the previous
//! configuration and leaves a one-sentence reason, NUL-terminated, at `nat64_error()`.
//! Until the first success every packet is dropped (`drop_not_configured`). DENY_V4
//! (0x18, `[4] addr, u8 len`, repeatable, at most 64) lists IPv4 destinations no IPv6
//! packet is translated to (`drop_dst_denied`); whatever the records, the engine never
//! translates to a loopback, link-local, multicast, reserved or "this network" address
//! (`drop_dst_v4_special`, `drop_dst_v6_special`), nor to OWN_IPV4 / OWN_IPV6
//! (`drop_dst_own_address`), and drops these silently (see [`mapping::Mapper`]). MODE 1
//! is stateful NAT64 (RFC 6146): it needs POOL6, takes no EAMT, and reads the records
//! POOL4, STATIC_BIB, TIMEOUTS, FILTERING, DROP_EXTERNAL_TCP, MAX_SESSIONS,
//! MAX_SESSIONS_PER_HOST, ICMP_ERROR_SOURCE and SESSION_EVENTS; reconfiguring keeps
//! the sessions the new pool4 and static entries still allow (see
//! [`nat64::Nat64::configure`]). OFFLOAD (0x1A, `u8` 0 or 1) turns the virtio-net
//! headers on, USO (0x1C) the UDP super-packets of translated output (see TUN offloads
//! above).
//!
//! # Stateful NAT64 timers
//! `nat64_expire(now_ms, budget)` removes what outlived its lifetime at `now_ms` —
//! sessions, stored SYNs, fragmented datagrams — at most `budget` of them, looking only
//! at the heads of the expiry queues (the cost does not grow with live sessions). It
//! writes what RFC 6146 §3.5.2.2 sends when a lifetime runs out into the slots and
//! describes it like a batch's outputs: port unreachable for a stored SYN (ICMP type 3
//! code 3 from its pool4 address; ICMPv6 type 1 code 4 for a hairpinned one), a TCP
//! probe ([`OUT_PROBE`]) to the IPv6 end of an established connection idle for
//! TCP_EST. It returns the number of descriptors, with bit 31 set when the budget or
//! the slots ran out and more may be due now. The host calls it between batches.
//!
//! # Session events
//! With SESSION_EVENTS (0x1B) set to 1 the stateful tables record every session and
//! BIB entry created and removed — by a packet, by `nat64_expire`, by a configuration
//! (static entries, pool4 addresses taken away), by a restore — as one 64-byte record
//! (format in [`nat64::events`]: kind, cause, protocol, TCP state, X' x', Y' y, X x,
//! Y, and the host's `now_ms` of the call; `nat64_configure` and `nat64_import_end`,
//! which take no time, stamp the latest `now_ms` the engine was given). Off (the
//! default), an event costs one branch. `nat64_events_take()` returns how many records
//! wait at `nat64_events_base()` and empties the buffer: the host reads them before
//! its next call, which may write new ones from record 0. When the buffer holds
//! `nat64_events_capacity()` records, further events are not written but counted in
//! `nat64_session_events_lost`; nothing waits for the host. Session limits refuse new
//! sessions and never remove existing ones, so no event has a limit as its cause.
//!
//! # The state buffer
//! Snapshots (save on stop, restore at start) and listings go through the state buffer
//! in pieces; the formats are in [`nat64::snapshot`] and [`nat64::records`].
//! - Save: `nat64_export_begin(now_ms)` writes the 32-byte header into the buffer and
//!   returns the snapshot's length; each `nat64_export_next()` writes the next records
//!   and returns their bytes, 0 at the end. A translate, expire, configure, import or
//!   fill call in between ends the export (`nat64_export_next` returns -1).
//! - Restore, after `nat64_configure`, into empty tables: the host puts the header in
//!   the buffer and calls `nat64_import_begin(snapshot_len)`; then gives every record
//!   once to `nat64_import_check(len)` (whole records, nothing changes) and once more to
//!   `nat64_import_apply(len, now_ms)`; then `nat64_import_end()`, which leaves
//!   `u32 sessions restored, u32 records skipped` at the start of the buffer. A damaged,
//!   contradictory or mismatched snapshot is refused with its reason at `nat64_error()`
//!   and nothing of it stays.
//! - Listing: the host writes a 20-byte filter at the start of the buffer — `u8 proto`
//!   (0 TCP, 1 UDP, 2 ICMP, 255 any), `u8 family` (0 none, 4, 6), `u16 most records`
//!   (0: as many as fit), `[16] address` (IPv4 in the first 4 bytes) — and calls
//!   `nat64_list_sessions(cursor, now_ms)` or `nat64_list_bib(cursor)` with cursor 0
//!   first. The buffer then holds `u32 records, u32 next cursor (0xffffffff at the
//!   end), u32 total matching, u32 0` and the records from byte 16 (sessions 40 bytes
//!   with their remaining lifetime, BIB entries 32).
//!
//! # Exports
//! | function | returns |
//! |---|---|
//! | `nat64_abi_version() -> u32` | [`ABI_VERSION`] |
//! | `nat64_init(slot_count: u32, slot_size: u32, session_capacity: u32, pool4_pairs: u32, seed0: u32, seed1: u32, seed2: u32, seed3: u32) -> i32` | 0, or a negative [`InitError`] code (-1 already initialised with another geometry, -2 slot count or size out of range, -3 memory could not grow, -4 session capacity too large, -5 `pool4_pairs` above [`nat64::MAX_PORT_SETS`]); only the first call lays out memory, a repeat with the same geometry returns 0. `pool4_pairs` is the number of (protocol, pool4 address) pairs the NAT64 tables hold (see Memory; ignored when `session_capacity` is 0). The four seed words (16 random bytes from the host) key the NAT64 tables' hashes and port choice, so that remote hosts can neither aim collisions nor predict ports |
//! | `nat64_slot_base() -> u32`, `nat64_slot_size() -> u32`, `nat64_slot_count() -> u32`, `nat64_headroom() -> u32` | the slot geometry |
//! | `nat64_in_len_base() -> u32` | address of the input length array |
//! | `nat64_out_base() -> u32`, `nat64_out_capacity() -> u32` | the output descriptor array and how many it holds |
//! | `nat64_vnet_in_base() -> u32`, `nat64_vnet_out_base() -> u32` | the input and output virtio-net header regions (16-byte entries) |
//! | `nat64_config_base() -> u32`, `nat64_config_capacity() -> u32` | the config buffer |
//! | `nat64_configure(len: u32) -> i32` | 0, or -1 with the reason at `nat64_error()` |
//! | `nat64_error() -> u32` | address of the last error sentence (NUL-terminated ASCII) |
//! | `nat64_translate(count: u32, now_ms: f64) -> u32` | number of output descriptors written |
//! | `nat64_expire(now_ms: f64, budget: u32) -> u32` | output descriptors written, bit 31 set when more may be due |
//! | `nat64_state_base() -> u32`, `nat64_state_capacity() -> u32` | the state buffer |
//! | `nat64_export_begin(now_ms: f64) -> i32` | snapshot length, or -1 without tables |
//! | `nat64_export_next() -> i32` | bytes of records written, 0 at the end, -1 without an export in progress |
//! | `nat64_import_begin(len: u32) -> i32`, `nat64_import_check(len: u32) -> i32`, `nat64_import_apply(len: u32, now_ms: f64) -> i32`, `nat64_import_end() -> i32` | 0, or -1 with the reason at `nat64_error()` |
//! | `nat64_list_sessions(cursor: u32, now_ms: f64) -> i32`, `nat64_list_bib(cursor: u32) -> i32` | records in the page, or -1 |
//! | `nat64_fill(count: u32, hosts: u32, now_ms: f64) -> u32` | benchmark support: synthetic UDP sessions created ([`nat64::synthetic_flow`]) |
//! | `nat64_events_base() -> u32`, `nat64_events_capacity() -> u32` | the session event records (0 without NAT64 tables) |
//! | `nat64_events_take() -> u32` | records waiting from `nat64_events_base()`, the buffer emptied |
//! | `nat64_counters_base() -> u32`, `nat64_counter_count() -> u32`, `nat64_counter_names() -> u32` | counters |
//!
//! # Counters
//! `nat64_counter_names()` points at the counter names, each NUL-terminated, in the
//! order of the `u64` array at `nat64_counters_base()`, ended by an empty name. The
//! names and their meaning are in [`counters::Counter`]; they follow the grammar the
//! operator tools read (`src/control/counters.ts`). Each input counts once in
//! `packets_in_v4` or `packets_in_v6` (or in `drop_bad_input` when it has neither
//! version) and once in its traffic counters `in{4,6}_{tcp,udp,icmp,other}_{packets,bytes}`;
//! each output in `out{4,6}_…`. Each input without output counts in exactly one
//! `drop_*` counter (a packet the stateful tables refuse in `drop_<refusal>`, see
//! [`nat64::Refusal::name`]), or in `nat64_syns_stored` / `nat64_fragments_held` when
//! it is kept. The gauges `sessions_*`, `bib_*`, `pool4_used_*`, `pool4_size_*` are
//! set after every call that can change them. The `offload_*` counters count TUN
//! offloads (see above) beside the other counters, not instead of them.

#![cfg_attr(not(test), no_std)]

pub mod arena;
pub mod bytes;
pub mod checksum;
pub mod config;
pub mod context;
pub mod counters;
pub mod eamt;
pub mod engine;
pub mod expiry;
pub mod fragment;
pub mod icmp;
pub mod icmp46;
pub mod icmp64;
pub mod icmp_errors;
pub mod inner;
pub mod ipid;
pub mod ipv4;
pub mod ipv6;
pub mod mapping;
pub mod nat64;
pub mod offload;
pub mod prefix;
pub mod protocol;
pub mod ratelimit;
pub mod rfc4884;
pub mod rfc6052;
pub mod stateful;
pub mod traffic;
pub mod translate46;
pub mod translate64;
pub mod transport;
pub mod verdict;

#[cfg(test)]
mod testutil;

pub use arena::InitError;
use engine::Engine;

/// Output kind: the input packet, translated to the other family.
pub const OUT_TRANSLATED: u32 = 0;
/// Output kind: an ICMP or ICMPv6 error the translator generated.
pub const OUT_ICMP_ERROR: u32 = 1;
/// Output kind: one fragment of a translated packet the translator had to fragment.
pub const OUT_FRAGMENT: u32 = 2;
/// Output kind: a TCP probe stateful NAT64 sends to an idle connection's IPv6 end
/// (RFC 6146 §3.5.2.2), written by `nat64_expire`.
pub const OUT_PROBE: u32 = 3;

/// Version of this ABI; the host refuses a module whose version it does not know.
pub const ABI_VERSION: u32 = 6;

/// The one engine of this instance. WebAssembly instances are single-threaded and
/// the host calls one export at a time, so exclusive access holds.
static mut ENGINE: Engine = Engine::new();

fn engine() -> &'static mut Engine {
    // See `ENGINE`: no two exports run at once, so no other reference is live.
    unsafe { &mut *core::ptr::addr_of_mut!(ENGINE) }
}

fn region(pick: fn(&arena::Layout) -> usize) -> u32 {
    let e = engine();
    e.layout().map_or(0, |l| e.address(pick(&l)))
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_abi_version() -> u32 {
    ABI_VERSION
}

/// See the ABI table above.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn nat64_init(slot_count: u32, slot_size: u32, session_capacity: u32, pool4_pairs: u32, seed0: u32, seed1: u32, seed2: u32, seed3: u32) -> i32 {
    let mut seed = [0u8; 16];
    for (i, w) in [seed0, seed1, seed2, seed3].iter().enumerate() {
        seed[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    match engine().init(slot_count, slot_size, session_capacity, pool4_pairs, seed) {
        Ok(()) => 0,
        Err(e) => e as i32,
    }
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_slot_base() -> u32 {
    region(|l| l.slots)
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_slot_size() -> u32 {
    engine().layout().map_or(0, |l| l.slot_size as u32)
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_slot_count() -> u32 {
    engine().layout().map_or(0, |l| l.slot_count as u32)
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_headroom() -> u32 {
    arena::HEADROOM as u32
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_in_len_base() -> u32 {
    region(|l| l.in_len)
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_out_base() -> u32 {
    region(|l| l.out)
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_out_capacity() -> u32 {
    engine().layout().map_or(0, |l| l.out_capacity as u32)
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_vnet_in_base() -> u32 {
    region(|l| l.vnet_in)
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_vnet_out_base() -> u32 {
    region(|l| l.vnet_out)
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_config_base() -> u32 {
    region(|l| l.config)
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_config_capacity() -> u32 {
    arena::CONFIG_CAPACITY as u32
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_configure(len: u32) -> i32 {
    match engine().configure(len) {
        Ok(()) => 0,
        Err(()) => -1,
    }
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_error() -> u32 {
    engine().error_text().as_ptr() as usize as u32
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_translate(count: u32, now_ms: f64) -> u32 {
    engine().translate(count, now_ms)
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_expire(now_ms: f64, budget: u32) -> u32 {
    engine().expire(now_ms, budget)
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_state_base() -> u32 {
    region(|l| l.state)
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_state_capacity() -> u32 {
    arena::STATE_CAPACITY as u32
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_export_begin(now_ms: f64) -> i32 {
    engine().export_begin(now_ms)
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_export_next() -> i32 {
    engine().export_next()
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_import_begin(len: u32) -> i32 {
    engine().import_begin(len)
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_import_check(len: u32) -> i32 {
    engine().import_check(len)
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_import_apply(len: u32, now_ms: f64) -> i32 {
    engine().import_apply(len, now_ms)
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_import_end() -> i32 {
    engine().import_end()
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_list_sessions(cursor: u32, now_ms: f64) -> i32 {
    engine().list_sessions(cursor, now_ms)
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_list_bib(cursor: u32) -> i32 {
    engine().list_bib(cursor)
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_fill(count: u32, hosts: u32, now_ms: f64) -> u32 {
    engine().fill(count, hosts, now_ms)
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_events_base() -> u32 {
    engine().events_base()
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_events_capacity() -> u32 {
    engine().events_capacity()
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_events_take() -> u32 {
    engine().events_take()
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_counters_base() -> u32 {
    region(|l| l.counters)
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_counter_count() -> u32 {
    counters::COUNT as u32
}

/// See the ABI table above.
#[no_mangle]
pub extern "C" fn nat64_counter_names() -> u32 {
    counters::NAME_BLOB.as_ptr() as usize as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;

    /// The exports drive the one global engine; this is the only test that touches it.
    #[test]
    fn exports_follow_the_documented_abi() {
        assert_eq!(nat64_abi_version(), ABI_VERSION);
        assert_eq!(nat64_slot_base(), 0, "nothing before init");
        assert_eq!(nat64_init(0, 2048, 0, 48, 1, 2, 3, 4), -2);
        assert_eq!(nat64_init(4, 2048, 1024, nat64::MAX_PORT_SETS + 1, 1, 2, 3, 4), -5);
        assert_eq!(nat64_init(4, 2048, 1024, 48, 1, 2, 3, 4), 0);
        assert_eq!(nat64_init(4, 2048, 1024, 48, 1, 2, 3, 4), 0);
        assert_eq!(nat64_init(8, 2048, 1024, 48, 1, 2, 3, 4), -1);
        assert_eq!(nat64_init(4, 2048, 1024, 96, 1, 2, 3, 4), -1);
        assert_eq!((nat64_slot_count(), nat64_slot_size(), nat64_headroom()), (4, 2048, 64));
        assert_eq!(nat64_config_capacity(), 32768);
        assert_eq!(nat64_counter_count() as usize, counters::COUNT);
        let records = graybox_tlv();
        let mem = engine().memory().as_mut_ptr();
        let at = |addr: u32| unsafe { mem.add(addr as usize) };
        unsafe { core::ptr::copy_nonoverlapping(records.as_ptr(), at(nat64_config_base()), records.len()) };
        assert_eq!(nat64_configure(records.len() as u32), 0);
        assert_eq!(nat64_configure(3), -1);
        let pkt = udp4(H4, H6_AS_V4, 64, 0, 16);
        unsafe {
            core::ptr::copy_nonoverlapping(pkt.as_ptr(), at(nat64_slot_base() + 2048 + 64), pkt.len());
            core::ptr::write_unaligned(at(nat64_in_len_base()) as *mut u32, 0);
            core::ptr::write_unaligned(at(nat64_in_len_base() + 4) as *mut u32, pkt.len() as u32);
        }
        // OFFLOAD 0: whatever is in the input headers is not read, and outputs get zero headers.
        unsafe {
            core::ptr::write_bytes(at(nat64_vnet_in_base()), 0xff, 2 * 16);
            core::ptr::write_bytes(at(nat64_vnet_out_base()), 0xff, 16);
        }
        assert_eq!(nat64_translate(2, 5.0), 1);
        let h: [u8; 16] = unsafe { core::ptr::read_unaligned(at(nat64_vnet_out_base()) as *const [u8; 16]) };
        assert_eq!(&h[..offload::HEADER_LEN], &[0; offload::HEADER_LEN]);
        assert!(nat64_vnet_out_base() >= nat64_vnet_in_base() + 4 * 16);
        let d: [u32; 4] = unsafe { core::ptr::read_unaligned(at(nat64_out_base()) as *const [u32; 4]) };
        assert_eq!((d[1], d[2], d[3]), (pkt.len() as u32 + 20, 1, OUT_TRANSLATED));
        assert!(d[0] >= nat64_slot_base() + 2048 && d[0] < nat64_slot_base() + 2 * 2048);
        let counts: [u64; counters::COUNT] = unsafe { core::ptr::read_unaligned(at(nat64_counters_base()) as *const [u64; counters::COUNT]) };
        assert_eq!(counts[counters::Counter::translated_4to6 as usize], 1);
        assert_eq!(counts[counters::Counter::drop_bad_input as usize], 1);
        assert_eq!(counts[counters::Counter::in4_udp_packets as usize], 1);
        // The stateful side: tables exist (capacity 1024) but hold nothing yet.
        assert_eq!(nat64_state_capacity() as usize, arena::STATE_CAPACITY);
        assert!(nat64_state_base() > nat64_counters_base());
        assert_eq!(nat64_expire(10.0, 100), 0);
        assert_eq!(nat64_export_begin(10.0), nat64::snapshot::HEADER as i32);
        assert_eq!(nat64_export_next(), 0);
        assert_eq!(nat64_import_end(), -1, "no restore in progress");
        unsafe { core::ptr::write_bytes(at(nat64_state_base()), 0, 20) };
        unsafe { *at(nat64_state_base()) = 255 };
        assert_eq!(nat64_list_sessions(0, 10.0), 0);
        assert_eq!(nat64_list_bib(0), 0);
        assert_eq!(nat64_fill(10, 1, 10.0), 0, "SIIT configuration: no pool4 to bind with");
        assert_eq!(nat64_events_capacity(), nat64::EVENT_CAPACITY);
        assert!(nat64_events_base() > nat64_counters_base() && nat64_events_base() < nat64_state_base());
        assert_eq!(nat64_events_base() % 8, 0);
        assert_eq!(nat64_events_take(), 0);
    }
}

#[cfg(all(target_arch = "wasm32", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

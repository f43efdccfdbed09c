//! Stateful NAT64 (RFC 6146): binding and session tables, pool4, TCP state, expiry.
//!
//! This module is the state only; the packet path (another module) parses packets,
//! calls in here with 5-tuples, and rewrites the packets with the [`Mapping`]s it gets
//! back. This documentation is the contract between the two.
//!
//! # Memory
//! [`Nat64::new`] lays every table out in one caller-provided region, 8-byte aligned, of
//! [`Nat64::bytes_needed`] bytes for a [`Capacity`]; nothing is allocated afterwards.
//! Per session the tables take at most 124 bytes (session 16 + BIB entry 32 + host 28,
//! plus 4 bytes of link and ≤ 4 bytes of bucket per index: 2 session indexes, the
//! session queue links, 2 BIB indexes, 1 host index) — `cargo test` checks the marginal
//! cost stays ≤ 128. pool4 takes at most 8,360 bytes per (protocol, address) pair
//! [`Capacity::port_sets`] lays out (the host counts the pairs of its pool4), independent
//! of sessions. Every index is a chained hash table keyed with SipHash-1-3 and a 16-byte
//! secret seed from the host, with a load factor between 1 and 2, so lookups cost the
//! same at 10^3 and 10^6 live sessions and remote hosts cannot aim collisions.
//!
//! # Time
//! The host owns the clock: every call that needs time takes `now_ms`, the host's
//! monotonic milliseconds. Entries keep the low 32 bits of their last activity (see
//! [`timeouts`]); lifetimes are capped at 2^31 ms and [`Nat64::expire`] must run more
//! often than that (it runs every tick). A session is never removed before its
//! lifetime has run out, and at most [`timeouts::RELINK_MS`] after: activity moves a
//! session in its expiry queue at most once per that interval, so that a packet of a
//! known flow costs one index lookup and a time stamp (the BIB entry remembers the
//! session it last led to).
//!
//! # Configuration
//! [`Nat64::configure`] takes a [`Nat64Config`]: pool4 entries, static BIB entries,
//! [`Timeouts`] (RFC 6146 §4 defaults; UDP ≥ UDP_MIN, TCP_INCOMING_SYN ≥ 6 s,
//! fragments ≥ FRAGMENT_MIN), [`Filtering`] (endpoint-independent or
//! address-dependent), `drop_external_tcp`, the global and per-host session limits.
//! Errors ([`ConfigError`]) name the field, the entry and the reason; on error nothing
//! changes.
//!
//! # The packet path, IPv6 → IPv4 (RFC 6146 §3.5)
//! 1. Translate the destination out of pool6 (RFC 6052) into Y; if Y is a pool4 address
//!    ([`Nat64::pool4_has_address`]) the packet is a hairpin (RFC 6146 §3.8): continue, and
//!    after step 3 feed the translated packet to the IPv4 → IPv6 path.
//! 2. ICMPv6 errors: look the inner packet up with [`Nat64::peek_outbound`] (never
//!    creates or refreshes state). Fragments: see below.
//! 3. Call [`Nat64::outbound`] with the [`Flow6`] (ICMP echo: identifier as `sport`).
//!    `Ok(mapping)`: rewrite the source to (`addr4`, `port4`). `Err(refusal)`: drop and
//!    count `drop_<refusal.name()>`; [`Refusal::PoolExhausted`], [`Refusal::NoPool4`]
//!    and the session limits answer ICMPv6 destination unreachable code 3 (RFC 6146
//!    §3.5.1.1), [`Refusal::NotSyn`] is silent.
//!
//! # The packet path, IPv4 → IPv6
//! 1. Drop packets whose destination is not in pool4 ([`Nat64::pool4_has_address`]).
//! 2. ICMPv4 errors: [`Nat64::peek_inbound`] with the inner packet reversed.
//! 3. Call [`Nat64::inbound`] with the [`Flow4`] (ICMP echo reply: identifier as
//!    `dport`). `Ok(mapping)`: rewrite the destination to (`addr6`, `port6`) and the
//!    source to Y inside pool6. `Err`: [`Refusal::NoBinding`] for a TCP SYN (and
//!    [`Refusal::Filtered`] for a TCP SYN) → offer the packet to [`Nat64::store_syn`];
//!    if that refuses ([`Refusal::StoredSynFull`]) answer ICMP port unreachable, if it
//!    says [`Refusal::StoredSynDuplicate`] drop silently. [`Refusal::NoBinding`] for
//!    UDP → ICMP port unreachable (type 3 code 3), for ICMP → drop.
//!    [`Refusal::Filtered`] → drop, optionally ICMP type 3 code 13.
//!
//! # Fragments (RFC 6146 §3.4)
//! For every fragment call [`Nat64::fragment`] with its [`FragmentKey`] and, for the
//! offset-0 fragment, its ports. [`FragmentVerdict::Translate`] gives the ports for the
//! flow lookup above; when it reports `held > 0`, take each held fragment with
//! [`Nat64::take_held_fragment`] and translate it like an arriving one.
//! [`FragmentVerdict::Held`] means the engine kept a copy: emit nothing now.
//!
//! # Timers
//! Every tick call [`Nat64::expire`] with a budget. It only looks at queue heads — the
//! four session queues (UDP, TCP established, TCP transitory, ICMP), the stored-SYN
//! queue (TCP_INCOMING_SYN) and the fragment queue (FRAGMENT_MIN) — so its cost does not
//! grow with the number of live entries ([`ExpireSummary::examined`]). The sink
//! receives [`Expired::StoredSyn`] (answer with ICMP port unreachable, type 3 code 3,
//! built from the stored copy), [`Expired::Probe`] (an ESTABLISHED session went idle for
//! TCP_EST and is now TRANS: the packet path SHOULD send a TCP probe, RFC 6146
//! §3.5.2.2) and [`Expired::Session`] (removed, for logs). When
//! [`ExpireSummary::budget_exhausted`] is set, more may be due.
//!
//! # Events
//! With [`EventLog::set_enabled`] (through [`Nat64::events`]) every session and BIB entry
//! created or removed is recorded with its cause and time ([`events`]): by
//! [`Nat64::outbound`], [`Nat64::inbound`], [`Nat64::expire`], [`Nat64::configure`] and
//! a restore. Off, each costs one branch; a refusal records nothing.
//!
//! # Saving and listing
//! [`Nat64::export`] / [`Nat64::import`] ([`snapshot`]) write and read a versioned,
//! checksummed byte string with remaining lifetimes; a corrupt one is an error, never a
//! panic or half-restored tables. [`Nat64::list_sessions`] / [`Nat64::list_bib`]
//! ([`listing`]) page fixed records ([`records`]) into a buffer with a [`ListFilter`].
//! [`Nat64::fill_udp`] fills the tables for benchmarks.
//!
//! # Where the rest of the engine provides it
//! - Config tags POOL4, STATIC_BIB, TIMEOUTS, FILTERING, DROP_EXTERNAL_TCP,
//!   MAX_SESSIONS, MAX_SESSIONS_PER_HOST (`crate::config`), mapped onto
//!   [`Nat64Config`]; the error sentence "stateful NAT64 `<field>` entry `<n>`
//!   `<reason>`" from [`ConfigError`].
//! - The packet path: `crate::stateful` (the calls above), `crate::translate64` and
//!   `crate::translate46` (the rewrites), `crate::engine` (held fragments released
//!   through the spill area); refusals count as `drop_<`[`Refusal::name`]`>`.
//! - `nat64_init` carves the region with [`Nat64::bytes_needed`] and keys it with the
//!   host's 16-byte seed; `nat64_expire` turns [`Expired`] events into packets
//!   (`crate::expiry`); snapshots, listings and `fill_udp` go through the state buffer
//!   (`crate::engine`), as the ABI in `lib.rs` documents; the engine fills in the
//!   remote's pool6 address of the events and hands them to the host
//!   (`nat64_events_take`).

mod bib;
mod carve;
mod chain;
pub mod events;
mod fill;
mod fragments;
mod hosts;
pub mod listing;
mod pool4;
mod queue;
pub mod records;
mod sessions;
mod settings;
mod siphash;
pub mod snapshot;
mod state;
mod syn_store;
pub mod tcp;
pub mod timeouts;
mod types;

#[cfg(test)]
mod test_region;
#[cfg(test)]
mod tests;

pub use carve::InitError;
pub use events::{Cause, EventKind, EventLog, EventRecord, EVENT_CAPACITY, EVENT_RECORD};
pub use fill::{synthetic_flow, FillResult};
pub use fragments::{FragmentKey, FragmentVerdict};
pub use listing::{ListFilter, Page};
pub use pool4::{Pool4Entry, Pool4Error, Pool4Problem};
pub use settings::{ConfigError, Filtering, Nat64Config, StaticBib, StaticBibProblem};
pub use snapshot::{Exporter, ImportSummary, Importer, SnapshotError};
pub use state::{Capacity, ExpireSummary, Expired, Gauges, Nat64, Occupancy, MAX_PORT_SETS};
pub use tcp::{TcpFlags, TcpState};
pub use timeouts::{TimeoutClass, TimeoutError, Timeouts};
pub use types::{Addr4, Addr6, Flow4, Flow6, Mapping, Proto, Refusal};

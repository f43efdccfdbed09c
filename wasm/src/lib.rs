//! The exported WebAssembly ABI of the translation engine, and nothing else.
//!
//! This comment is the one place the ABI between the TypeScript host (`src/engine/`) and
//! this crate is written down. Both sides test it: `cargo test` exercises the functions
//! below natively, `test/engine/abi_test.ts` exercises the built module from Deno.
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
//! | spill | `slot_count × slot_size` | engine: extra output packets (fragments) |
//! | input lengths | `slot_count × u32` at `nat64_in_len_base()` | host: byte length of the packet in slot `i` |
//! | output descriptors | `nat64_out_capacity() × 4 × u32` at `nat64_out_base()` | engine |
//! | config buffer | `nat64_config_capacity()` bytes at `nat64_config_base()` | host: TLV records |
//! | counters | `nat64_counter_count() × u64` at `nat64_counters_base()` | engine |
//!
//! `slot_count` is 1 to 4096; `slot_size` (headroom included) is 1344 to 65600, so a
//! slot holds packets of up to `slot_size - 64` bytes. The headroom is 64 bytes: it
//! lets IPv4→IPv6 grow the header in place (+20 bytes, +8 more with a Fragment
//! header) and lets an ICMP error the engine sends put its headers (28 or 48 bytes)
//! in front of the packet it quotes. A translated ICMP error is rebuilt and written
//! from the first byte of its slot (it is at most 1280 bytes). `nat64_out_capacity()`
//! is `slot_count + spill bytes / 64`; the config buffer holds 32768 bytes.
//!
//! # Translating a batch
//! The host fills slots `0..count`, writes their lengths, and calls
//! `nat64_translate(count, now_ms)`. The engine translates every packet in place and
//! returns how many output descriptors it wrote. Descriptor `j` is four `u32`:
//! `[addr, len, slot, kind]`: the packet's bytes are `memory[addr .. addr + len]`, `slot`
//! is the input slot it came from, `kind` is one of [`OUT_TRANSLATED`],
//! [`OUT_ICMP_ERROR`] (an error the translator generated, going back to the input's
//! sender on the side the input came from) and [`OUT_FRAGMENT`]. The side a packet
//! leaves on is its IP version (first nibble): a hairpinned IPv6 packet (RFC 7757 §4.2)
//! is translated twice and leaves as IPv6. Outputs of slot `i` precede outputs of
//! slot `i + 1`, so per-flow order is kept (RFC 7915 §1.3). A packet cut into
//! fragments gives one [`OUT_FRAGMENT`] descriptor per fragment, in offset order: the
//! first in its slot, the others in the spill area. An input that produces no
//! output was dropped; the reason is counted.
//!
//! `now_ms` is the host's monotonic clock in milliseconds. The engine never reads a
//! clock of its own: the host owns time and the timer schedule.
//!
//! # Configuration
//! The host writes TLV records into the config buffer and calls `nat64_configure(len)`.
//! A record is `tag: u16, len: u16, value: [u8; len]`; the tags are in [`config::tag`].
//! A successful call replaces the whole configuration (tags left out take their
//! defaults, see [`config::Config::set_defaults`]); a failed one keeps the previous
//! configuration and leaves a one-sentence reason, NUL-terminated, at `nat64_error()`.
//! Until the first success every packet is dropped (`drop_not_configured`). MODE 1
//! (stateful NAT64) is refused until the `nat64` module provides it.
//!
//! # Exports
//! | function | returns |
//! |---|---|
//! | `nat64_abi_version() -> u32` | [`ABI_VERSION`] |
//! | `nat64_init(slot_count: u32, slot_size: u32, session_capacity: u32) -> i32` | 0, or a negative [`InitError`] code (-1 already initialised with another geometry, -2 slot count or size out of range, -3 memory could not grow); only the first call lays out memory, a repeat with the same geometry returns 0; `session_capacity` is for the stateful NAT64 tables, for which this build reserves nothing yet |
//! | `nat64_slot_base() -> u32`, `nat64_slot_size() -> u32`, `nat64_slot_count() -> u32`, `nat64_headroom() -> u32` | the slot geometry |
//! | `nat64_in_len_base() -> u32` | address of the input length array |
//! | `nat64_out_base() -> u32`, `nat64_out_capacity() -> u32` | the output descriptor array and how many it holds |
//! | `nat64_config_base() -> u32`, `nat64_config_capacity() -> u32` | the config buffer |
//! | `nat64_configure(len: u32) -> i32` | 0, or -1 with the reason at `nat64_error()` |
//! | `nat64_error() -> u32` | address of the last error sentence (NUL-terminated ASCII) |
//! | `nat64_translate(count: u32, now_ms: f64) -> u32` | number of output descriptors written |
//! | `nat64_counters_base() -> u32`, `nat64_counter_count() -> u32`, `nat64_counter_names() -> u32` | counters |
//!
//! # Counters
//! `nat64_counter_names()` points at the counter names, each NUL-terminated, in the
//! order of the `u64` array at `nat64_counters_base()`, ended by an empty name. The
//! names and their meaning are in [`counters::Counter`]. Each input counts once in
//! `packets_in_v4` or `packets_in_v6` (or in `drop_bad_input` when it has neither
//! version), and each input without output counts in exactly one `drop_*` counter.

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
pub const ABI_VERSION: u32 = 2;

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
pub extern "C" fn nat64_init(slot_count: u32, slot_size: u32, session_capacity: u32, seed0: u32, seed1: u32, seed2: u32, seed3: u32) -> i32 {
    let mut seed = [0u8; 16];
    for (i, w) in [seed0, seed1, seed2, seed3].iter().enumerate() {
        seed[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    match engine().init(slot_count, slot_size, session_capacity, seed) {
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
        assert_eq!(nat64_init(0, 2048, 0, 1, 2, 3, 4), -2);
        assert_eq!(nat64_init(4, 2048, 1024, 1, 2, 3, 4), 0);
        assert_eq!(nat64_init(4, 2048, 1024, 1, 2, 3, 4), 0);
        assert_eq!(nat64_init(8, 2048, 1024, 1, 2, 3, 4), -1);
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
        assert_eq!(nat64_translate(2, 5.0), 1);
        let d: [u32; 4] = unsafe { core::ptr::read_unaligned(at(nat64_out_base()) as *const [u32; 4]) };
        assert_eq!((d[1], d[2], d[3]), (pkt.len() as u32 + 20, 1, OUT_TRANSLATED));
        assert!(d[0] >= nat64_slot_base() + 2048 && d[0] < nat64_slot_base() + 2 * 2048);
        let counts: [u64; counters::COUNT] = unsafe { core::ptr::read_unaligned(at(nat64_counters_base()) as *const [u64; counters::COUNT]) };
        assert_eq!(counts[counters::Counter::translated_4to6 as usize], 1);
        assert_eq!(counts[counters::Counter::drop_bad_input as usize], 1);
    }
}

#[cfg(all(target_arch = "wasm32", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

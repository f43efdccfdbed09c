//! The exported memory layout (see the ABI in `lib.rs`): where slots, spill, input
//! lengths, output descriptors, virtio-net headers, the config buffer and the counters
//! live, and the one-time reservation of that memory.

use crate::counters;
use crate::offload;

/// Bytes in front of each packet in its slot, for headers that grow: IPv4 → IPv6
/// adds 20 bytes (28 with a Fragment header), and an ICMPv6 error the engine sends
/// puts 48 bytes in front of the packet it quotes.
pub const HEADROOM: usize = 64;
/// Most slots.
pub const MAX_SLOTS: u32 = 4096;
/// Smallest slot: the headroom plus an IPv6 minimum-MTU packet, because rebuilt ICMP
/// errors (up to 1280 bytes) are written from the start of the slot.
pub const MIN_SLOT_SIZE: u32 = HEADROOM as u32 + 1280;
/// Largest slot: the headroom plus a 64 KiB packet.
pub const MAX_SLOT_SIZE: u32 = HEADROOM as u32 + 65536;
/// Bytes of the config buffer: room for a full EAMT and every other record.
pub const CONFIG_CAPACITY: usize = 32768;
/// Bytes per output descriptor (`addr, len, slot, kind` as `u32`).
pub const DESCRIPTOR_LEN: usize = 16;
/// Bytes of the state buffer, where the host and the engine exchange snapshot pieces
/// and listing pages of the stateful NAT64 tables: 1638 session records of 40 bytes.
pub const STATE_CAPACITY: usize = 65536;

/// `nat64_init` failures, returned to the host as negative numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum InitError {
    /// Already initialised with a different geometry.
    AlreadyInitialized = -1,
    /// `slot_count` is 0 or above [`MAX_SLOTS`], or `slot_size` is outside
    /// [`MIN_SLOT_SIZE`]..=[`MAX_SLOT_SIZE`].
    BadGeometry = -2,
    /// Linear memory could not grow.
    OutOfMemory = -3,
    /// The session capacity is too large to lay the NAT64 tables out.
    BadCapacity = -4,
    /// More pool4 (protocol, address) pairs than `crate::nat64::MAX_PORT_SETS`.
    TooManyPool4Pairs = -5,
}

/// Offsets (from the arena base) and sizes of every region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Number of slots.
    pub slot_count: usize,
    /// Bytes per slot, headroom included.
    pub slot_size: usize,
    /// Offset of slot 0.
    pub slots: usize,
    /// Offset of the spill area.
    pub spill: usize,
    /// Bytes of the spill area.
    pub spill_len: usize,
    /// Offset of the input length array.
    pub in_len: usize,
    /// Offset of the output descriptors.
    pub out: usize,
    /// Number of output descriptors.
    pub out_capacity: usize,
    /// Offset of the input virtio-net headers, one entry per slot.
    pub vnet_in: usize,
    /// Offset of the output virtio-net headers, one entry per output descriptor.
    pub vnet_out: usize,
    /// Offset of the config buffer.
    pub config: usize,
    /// Offset of the counters.
    pub counters: usize,
    /// End of the regions a batch touches (slots to counters).
    pub packet_end: usize,
    /// Offset of the stateful NAT64 tables (8-aligned).
    pub nat64: usize,
    /// Bytes of the NAT64 tables (0: SIIT only).
    pub nat64_len: usize,
    /// Offset of the state buffer ([`STATE_CAPACITY`] bytes).
    pub state: usize,
    /// Total bytes.
    pub total: usize,
}

fn align8(x: usize) -> usize {
    (x + 7) & !7
}

impl Layout {
    /// Lays out `slot_count` slots of `slot_size` bytes and `nat64_len` bytes of NAT64
    /// tables. Output descriptors: one per slot, plus one per 64 bytes of spill, enough
    /// for the smallest fragments.
    pub fn new(slot_count: u32, slot_size: u32, nat64_len: usize) -> Result<Layout, InitError> {
        if slot_count == 0 || slot_count > MAX_SLOTS || !(MIN_SLOT_SIZE..=MAX_SLOT_SIZE).contains(&slot_size) {
            return Err(InitError::BadGeometry);
        }
        let slot_count = slot_count as usize;
        let slot_size = slot_size as usize;
        let slots = 0;
        let spill = align8(slots + slot_count * slot_size);
        let spill_len = slot_count * slot_size;
        let in_len = align8(spill + spill_len);
        let out = align8(in_len + slot_count * 4);
        let out_capacity = slot_count + spill_len / 64;
        let vnet_in = align8(out + out_capacity * DESCRIPTOR_LEN);
        let vnet_out = align8(vnet_in + slot_count * offload::ENTRY_LEN);
        let config = align8(vnet_out + out_capacity * offload::ENTRY_LEN);
        let counters = align8(config + CONFIG_CAPACITY);
        let packet_end = counters + counters::COUNT * 8;
        let nat64 = align8(packet_end);
        let state = align8(nat64.checked_add(nat64_len).ok_or(InitError::BadCapacity)?);
        let total = state.checked_add(STATE_CAPACITY).ok_or(InitError::BadCapacity)?;
        Ok(Layout {
            slot_count,
            slot_size,
            slots,
            spill,
            spill_len,
            in_len,
            out,
            out_capacity,
            vnet_in,
            vnet_out,
            config,
            counters,
            packet_end,
            nat64,
            nat64_len,
            state,
            total,
        })
    }
}

/// Reserves `bytes` of zeroed memory once, returning its base pointer and the
/// address the host uses for it: the memory grown at the end of linear memory.
#[cfg(target_arch = "wasm32")]
pub fn reserve(bytes: usize) -> Option<(*mut u8, u32)> {
    const PAGE: usize = 65536;
    let pages = bytes.checked_add(PAGE - 1)? / PAGE;
    let previous = core::arch::wasm32::memory_grow(0, pages);
    if previous == usize::MAX {
        return None;
    }
    let addr = previous * PAGE;
    Some((addr as *mut u8, addr as u32))
}

/// Reserves `bytes` of zeroed memory once. Natively (unit tests) the arena is a
/// leaked heap allocation and addresses are offsets from its base.
#[cfg(not(target_arch = "wasm32"))]
pub fn reserve(bytes: usize) -> Option<(*mut u8, u32)> {
    extern crate alloc;
    let words = alloc::vec![0u64; (bytes + 7) / 8];
    Some((alloc::boxed::Box::leak(words.into_boxed_slice()).as_mut_ptr() as *mut u8, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_do_not_overlap_and_are_aligned() {
        let l = Layout::new(64, 2048, 1000).unwrap();
        assert_eq!(l.spill, 64 * 2048);
        assert_eq!(l.spill_len, 64 * 2048);
        assert!(l.in_len >= l.spill + l.spill_len);
        assert!(l.out >= l.in_len + 64 * 4);
        assert_eq!(l.out_capacity, 64 + 2048);
        assert!(l.vnet_in >= l.out + l.out_capacity * DESCRIPTOR_LEN);
        assert_eq!(l.vnet_out, l.vnet_in + 64 * 16);
        assert!(l.config >= l.vnet_out + l.out_capacity * 16);
        assert!(l.counters >= l.config + CONFIG_CAPACITY);
        assert_eq!(l.packet_end, l.counters + counters::COUNT * 8);
        assert!(l.nat64 >= l.packet_end && l.state >= l.nat64 + 1000);
        for off in [l.spill, l.in_len, l.out, l.vnet_in, l.vnet_out, l.config, l.counters, l.nat64, l.state] {
            assert_eq!(off % 8, 0);
        }
        assert_eq!(l.total, l.state + STATE_CAPACITY);
        assert_eq!(Layout::new(64, 2048, usize::MAX).err(), Some(InitError::BadCapacity));
    }

    #[test]
    fn refuses_bad_geometry() {
        assert_eq!(Layout::new(0, 2048, 0), Err(InitError::BadGeometry));
        assert_eq!(Layout::new(MAX_SLOTS + 1, 2048, 0), Err(InitError::BadGeometry));
        assert_eq!(Layout::new(64, MIN_SLOT_SIZE - 1, 0), Err(InitError::BadGeometry));
        assert_eq!(Layout::new(64, MAX_SLOT_SIZE + 1, 0), Err(InitError::BadGeometry));
        assert!(Layout::new(4, MAX_SLOT_SIZE, 0).is_ok());
        assert!(Layout::new(1, 2049, 0).is_ok());
    }

    #[test]
    fn reserves_zeroed_memory() {
        let (p, _) = reserve(100).unwrap();
        let s = unsafe { core::slice::from_raw_parts(p, 100) };
        assert!(s.iter().all(|&b| b == 0));
    }
}

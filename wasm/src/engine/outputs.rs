//! The output side of one engine call: descriptors and their virtio-net headers, spill
//! space for the extra packets (fragments the engine cuts, held fragments it releases),
//! and the counting of what goes out.

use crate::arena::DESCRIPTOR_LEN;
use crate::counters::{Counter, Counters};
use crate::fragment::{self, Plan};
use crate::ipv4;
use crate::ipv6;
use crate::offload::{self, VnetHeader};
use crate::traffic;
use crate::verdict::Verdict;
use crate::{OUT_FRAGMENT, OUT_ICMP_ERROR, OUT_TRANSLATED};

/// Output descriptors, their virtio-net headers and spill space of one batch.
pub struct Outputs<'a> {
    desc: &'a mut [u8],
    vnet: &'a mut [u8],
    capacity: usize,
    /// Descriptors written.
    pub written: usize,
    /// Slots after the current one, each owed a descriptor.
    pub reserved: usize,
    /// The spill area not handed out yet, and the address of its first byte.
    spill: &'a mut [u8],
    spill_addr: u32,
    /// Bytes of spill area handed out.
    spill_taken: usize,
}

impl<'a> Outputs<'a> {
    /// Outputs over the descriptor array `desc` (`capacity` descriptors), their
    /// virtio-net headers `vnet` (`capacity` entries) and the spill area `spill`, which
    /// the host sees at `spill_addr`.
    pub fn new(desc: &'a mut [u8], vnet: &'a mut [u8], capacity: usize, spill: &'a mut [u8], spill_addr: u32) -> Self {
        Outputs { desc, vnet, capacity, written: 0, reserved: 0, spill, spill_addr, spill_taken: 0 }
    }

    /// Writes descriptor `index` and an all-zero virtio-net header for it: an ordinary
    /// packet, until [`Outputs::set_vnet`] says otherwise.
    fn put(&mut self, index: usize, addr: u32, len: usize, slot: usize, kind: u32) {
        let mut d = [0u8; DESCRIPTOR_LEN];
        d[0..4].copy_from_slice(&addr.to_le_bytes());
        d[4..8].copy_from_slice(&(len as u32).to_le_bytes());
        d[8..12].copy_from_slice(&(slot as u32).to_le_bytes());
        d[12..16].copy_from_slice(&kind.to_le_bytes());
        self.desc[index * DESCRIPTOR_LEN..(index + 1) * DESCRIPTOR_LEN].copy_from_slice(&d);
        self.set_vnet(index, &VnetHeader::default());
    }

    /// Replaces the virtio-net header of descriptor `index`.
    pub fn set_vnet(&mut self, index: usize, h: &VnetHeader) {
        h.write(&mut self.vnet[index * offload::ENTRY_LEN..(index + 1) * offload::ENTRY_LEN]);
    }

    /// Appends a descriptor; false when none is left. With the reservation kept by
    /// [`Outputs::fragments`] every slot finds one, so this only guards the array.
    pub fn push(&mut self, addr: u32, len: usize, slot: usize, kind: u32) -> bool {
        if self.written == self.capacity {
            return false;
        }
        self.put(self.written, addr, len, slot, kind);
        self.written += 1;
        true
    }

    /// Hands out the next `n` bytes of spill area and their address; `None` when
    /// fewer are left.
    pub fn take_spill(&mut self, n: usize) -> Option<(&'a mut [u8], u32)> {
        if n > self.spill.len() {
            return None;
        }
        let (taken, rest) = core::mem::take(&mut self.spill).split_at_mut(n);
        let addr = self.spill_addr;
        self.spill = rest;
        self.spill_addr += n as u32;
        self.spill_taken += n;
        Some((taken, addr))
    }

    /// Bytes of spill area handed out so far, from its start.
    pub fn spill_taken(&self) -> usize {
        self.spill_taken
    }

    /// Records what became of input slot `i`, translated in `buf`, whose first byte
    /// the host sees at `base`; `success` counts a translated packet, `protocol` is the
    /// protocol part of the input's traffic class.
    #[allow(clippy::too_many_arguments)]
    pub fn emit(&mut self, v: Verdict, buf: &mut [u8], base: u32, i: usize, success: Counter, protocol: usize, counters: &mut Counters) {
        match v {
            Verdict::Forward { start, len } => {
                if self.push(base + start as u32, len, i, OUT_TRANSLATED) {
                    counters.inc(success);
                    counters.traffic(true, traffic::with_protocol(buf[start], protocol), len);
                } else {
                    counters.inc(Counter::drop_no_room);
                }
            }
            Verdict::Error { start, len, reason } => {
                counters.inc(reason);
                if self.push(base + start as u32, len, i, OUT_ICMP_ERROR) {
                    let sent = if buf[start] >> 4 == 4 { Counter::icmp4_errors_sent } else { Counter::icmp6_errors_sent };
                    counters.inc(sent);
                    counters.traffic(true, traffic::with_protocol(buf[start], traffic::ICMP_CLASS), len);
                }
            }
            Verdict::Drop(reason) | Verdict::Held(reason) => counters.inc(reason),
            Verdict::FragmentV6 { start, len, mtu } => {
                let class = traffic::with_protocol(buf[start], protocol);
                self.fragments(buf, base, i, start, len, mtu, ipv6::HEADER_LEN + ipv6::FRAGMENT_LEN, success, class, counters)
            }
            Verdict::FragmentV4 { start, len, mtu } => {
                let class = traffic::with_protocol(buf[start], protocol);
                self.fragments(buf, base, i, start, len, mtu, ipv4::HEADER_LEN, success, class, counters)
            }
            // The engine resolves hairpins before emitting; a second one cannot occur.
            Verdict::Hairpin { .. } => counters.inc(Counter::drop_bad_input),
        }
    }

    /// Cuts the packet at `buf[start..start + len]` (traffic class `class`) into
    /// fragments: pieces 1.. go to the spill area, piece 0 stays where it is.
    #[allow(clippy::too_many_arguments)]
    fn fragments(&mut self, buf: &mut [u8], base: u32, i: usize, start: usize, len: usize, mtu: usize, header_len: usize, success: Counter, class: usize, counters: &mut Counters) {
        let plan = match Plan::new(len, header_len, mtu) {
            Some(p) => p,
            None => return counters.inc(Counter::drop_too_big),
        };
        // Keep one descriptor for each slot still to come (capacity ≥ slot count).
        if self.capacity - self.written < plan.count + self.reserved {
            return counters.inc(Counter::drop_no_room);
        }
        let (area, area_addr) = match self.take_spill(plan.tail_bytes()) {
            Some(a) => a,
            None => return counters.inc(Counter::drop_no_room),
        };
        let v6 = header_len != ipv4::HEADER_LEN;
        let first_index = self.written;
        self.written += 1;
        let mut at = 0;
        for k in 1..plan.count {
            let pkt = &buf[start..start + len];
            let n = if v6 { fragment::write_v6_piece(pkt, &plan, k, &mut area[at..]) } else { fragment::write_v4_piece(pkt, &plan, k, &mut area[at..]) };
            self.push(area_addr + at as u32, n, i, OUT_FRAGMENT);
            counters.traffic(true, class, n);
            at += n;
        }
        let pkt = &mut buf[start..start + len];
        let n = if v6 { fragment::finish_v6_first(pkt, &plan) } else { fragment::finish_v4_first(pkt, &plan) };
        self.put(first_index, base + start as u32, n, i, OUT_FRAGMENT);
        counters.traffic(true, class, n);
        counters.inc(success);
        counters.add(Counter::fragments_out, plan.count as u64);
    }
}

//! UDP segmentation offload of the translated output (USO, "GRO of translated output"):
//! after a batch, translated UDP datagrams of one flow leave as one UDP GSO
//! super-packet (`VIRTIO_NET_HDR_GSO_UDP_L4`), which the kernel forwards once and cuts
//! back into the same datagrams only where it must (`__udp_gso_segment`): one write and
//! one forwarding pass instead of one per datagram.
//!
//! Candidates are chosen while the batch runs ([`Coalescer::consider`]): an input whose
//! one output is a translated, whole UDP datagram, not hairpinned, in a family the
//! configuration lets coalesce (`USO`), with plain headers in and out (no IPv4 options,
//! no IPv6 extension headers: the output's headers sit exactly where the input's
//! transport header moves them), a UDP length that is the IP payload, at least one
//! payload byte, an input checksum that is not 0, not itself a GSO super-packet, and a
//! checksum the kernel may compute afresh ([`recomputable`]).
//!
//! After the batch ([`run`]), in descriptor order, a candidate joins the open run of
//! its flow (family, addresses, ports) when the IP header fields the kernel copies into
//! every segment agree (TTL or Hop Limit, TOS or Traffic Class, DF, flow label), its
//! payload is no larger than the run's first (`gso_size`), the run holds fewer than 64
//! datagrams (`UDP_MAX_SEGMENTS`, which `virtio_net_hdr_to_skb` enforces) and the
//! super-packet stays within 65535 bytes; a smaller datagram is the run's last. One that
//! cannot join closes its flow's run and opens the next. Any other output between the
//! same two hosts that may carry UDP (a datagram that is no candidate, a fragment)
//! closes the open runs of those hosts. So a flow's datagrams never pass one another:
//! the super-packet takes the place of its first datagram, and whatever followed that
//! datagram in its flow is either inside the super-packet or after its last datagram.

use super::{Arena, HEADROOM};
use crate::arena::{DESCRIPTOR_LEN, MAX_SLOTS};
use crate::bytes::{addr4, addr6, get16, put16};
use crate::checksum;
use crate::config::{USO_V4, USO_V6};
use crate::counters::{Counter, Counters};
use crate::ipv4;
use crate::ipv6;
use crate::offload::{self, VnetHeader, F_DATA_VALID, F_NEEDS_CSUM, GSO_NONE};
use crate::protocol::{ICMP, ICMPV6, TCP, UDP};
use crate::transport;

/// Most datagrams in one super-packet: the kernel's `UDP_MAX_SEGMENTS`.
const MAX_SEGMENTS: usize = 64;
/// Most bytes of a super-packet, IP header included (IPv4's Total Length).
const MAX_PACKET: usize = 65535;
/// Runs open at once, one per bit of [`Open::used`]; past this the oldest is closed,
/// which only makes it shorter.
const OPEN_RUNS: usize = u32::BITS as usize;
/// Bytes of the UDP header.
const UDP_HEADER: usize = 8;
/// `Candidate::next` of a run's last member.
const END: u16 = u16::MAX;

/// A translated datagram that may be coalesced.
#[derive(Clone, Copy)]
struct Candidate {
    /// Its output descriptor.
    desc: u32,
    /// Offset of its first byte in the slots region.
    at: u32,
    /// Its bytes.
    len: u32,
    /// The next member of its run, or [`END`].
    next: u16,
    /// Inside a super-packet that another member heads: its descriptor goes.
    merged: bool,
}

/// All zero, so that the engine static holding the array costs no bytes of the module.
const NO_CANDIDATE: Candidate = Candidate { desc: 0, at: 0, len: 0, next: 0, merged: false };

/// The candidates of one batch, in descriptor order (at most one per slot).
pub struct Coalescer {
    cands: [Candidate; MAX_SLOTS as usize],
    len: usize,
}

impl Coalescer {
    /// No candidates.
    pub const fn new() -> Coalescer {
        Coalescer { cands: [NO_CANDIDATE; MAX_SLOTS as usize], len: 0 }
    }

    /// Forgets the previous batch's candidates.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Candidates recorded in this batch.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Records output descriptor `desc`, the datagram `pkt` translated from an IPv6
    /// (`from_v6`) or IPv4 input whose headers started at `HEADROOM` of its slot, now at
    /// `start` of that slot and at `at` of the slots region, when `uso` lets its family
    /// coalesce and its headers are plain (see the module comment). The checksum and
    /// offload conditions are the caller's ([`recomputable`]).
    pub fn consider(&mut self, uso: u8, from_v6: bool, pkt: &[u8], start: usize, at: usize, desc: usize) {
        // Translation leaves the transport header where it was: the output's headers
        // start at HEADROOM + 40 - 20 for a plain IPv6 input turned into IPv4, at
        // HEADROOM + 20 - 40 for a plain IPv4 input turned into IPv6. Options and
        // extension headers on either side, and a hairpin (IPv6 out of IPv6), start
        // elsewhere.
        let plain = if from_v6 {
            uso & USO_V4 != 0 && start == HEADROOM + ipv6::HEADER_LEN - ipv4::HEADER_LEN && plain_udp4(pkt)
        } else {
            uso & USO_V6 != 0 && start + ipv6::HEADER_LEN == HEADROOM + ipv4::HEADER_LEN && plain_udp6(pkt)
        };
        if plain && self.len < self.cands.len() {
            self.cands[self.len] = Candidate { desc: desc as u32, at: at as u32, len: pkt.len() as u32, next: END, merged: false };
            self.len += 1;
        }
    }
}

/// Whether the kernel may compute the UDP checksum of a datagram that came with virtio-net
/// header `h` afresh, as it does for every segment of a super-packet, without hiding an
/// error: the checksum was partial and stayed so through translation (`carried`: nobody
/// computed it yet), or the kernel or NIC verified it (DATA_VALID). A full checksum
/// nobody verified keeps its own, incrementally updated, so that a wrong one stays
/// wrong (RFC 1624 updates carry an error through). GSO inputs already are super-packets.
pub fn recomputable(h: &VnetHeader, carried: bool) -> bool {
    h.gso_type == GSO_NONE && (carried || (h.flags & F_DATA_VALID != 0 && h.flags & F_NEEDS_CSUM == 0))
}

/// The UDP checksum field of the input in `slot` (`len` bytes from `HEADROOM`), were it
/// a plain IPv4 (`v6` false) or IPv6 UDP datagram; 0 when too short. Read before
/// translation rewrites it; [`Coalescer::consider`] makes sure the input was plain.
pub fn input_udp_checksum(slot: &[u8], len: usize, v6: bool) -> u16 {
    let field = HEADROOM + if v6 { ipv6::HEADER_LEN } else { ipv4::HEADER_LEN } + transport::UDP_CHECKSUM;
    if field + 2 <= HEADROOM + len {
        get16(slot, field)
    } else {
        0
    }
}

/// A 20-byte IPv4 header, UDP, not a fragment, its lengths agreeing, a payload.
fn plain_udp4(p: &[u8]) -> bool {
    p.len() > ipv4::HEADER_LEN + UDP_HEADER
        && p[0] == 0x45
        && p[9] == UDP
        && get16(p, 2) as usize == p.len()
        && get16(p, 6) & (ipv4::MF | ipv4::OFFSET_MASK) == 0
        && get16(p, ipv4::HEADER_LEN + 4) as usize == p.len() - ipv4::HEADER_LEN
}

/// An IPv6 header followed by UDP, its lengths agreeing, a payload.
fn plain_udp6(p: &[u8]) -> bool {
    p.len() > ipv6::HEADER_LEN + UDP_HEADER
        && p[0] >> 4 == 6
        && p[6] == UDP
        && get16(p, 4) as usize + ipv6::HEADER_LEN == p.len()
        && get16(p, ipv6::HEADER_LEN + 4) as usize == p.len() - ipv6::HEADER_LEN
}

/// Whether candidates `a` and `b` of one flow have the IP header fields the kernel
/// copies from a super-packet into every segment: TOS, DF and TTL; Traffic Class, flow
/// label and Hop Limit. The IPv4 Identification is not among them: the kernel numbers
/// the segments.
fn same_segment_headers(a: &[u8], b: &[u8], v6: bool) -> bool {
    if v6 {
        a[..4] == b[..4] && a[7] == b[7]
    } else {
        a[1] == b[1] && a[6..9] == b[6..9]
    }
}

/// The family (true: IPv6) and addresses of output `p` when it may carry a UDP
/// datagram: a protocol that is not TCP or ICMP (a fragment's IPv6 header names the
/// Fragment header, so it counts).
fn udp_hosts(p: &[u8]) -> Option<(bool, &[u8])> {
    match p.first()? >> 4 {
        6 if p.len() >= ipv6::HEADER_LEN && !matches!(p[6], TCP | ICMPV6) => Some((true, &p[8..40])),
        4 if p.len() >= ipv4::HEADER_LEN && !matches!(p[9], TCP | ICMP) => Some((false, &p[12..20])),
        _ => None,
    }
}

/// The addresses of candidate `p` of family `v6`, and its addresses and ports.
fn hosts_and_flow(p: &[u8], v6: bool) -> (&[u8], &[u8]) {
    if v6 {
        (&p[8..40], &p[8..44])
    } else {
        (&p[12..20], &p[12..24])
    }
}

/// A hash of the 32-bit words of `b` (FNV-1a over words), so that runs are told apart
/// without comparing their bytes, which only a matching hash needs.
fn hash(b: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for w in b.chunks_exact(4) {
        h = (h ^ u32::from_le_bytes([w[0], w[1], w[2], w[3]])).wrapping_mul(0x0100_0193);
    }
    h
}

/// An open run: candidates of one flow, linked from `head` to `tail`.
#[derive(Clone, Copy)]
struct Run {
    head: u16,
    tail: u16,
    count: usize,
    /// Payload bytes of the first datagram: the super-packet's `gso_size`.
    seg: usize,
    /// Payload bytes of all of them.
    payload: usize,
    v6: bool,
}

impl Run {
    fn header_len(&self) -> usize {
        if self.v6 {
            ipv6::HEADER_LEN
        } else {
            ipv4::HEADER_LEN
        }
    }
}

const NO_RUN: Run = Run { head: 0, tail: 0, count: 0, seg: 0, payload: 0, v6: false };

/// The open runs, each with the [`hash`] of its flow's addresses and of its addresses
/// and ports, so that finding a run compares words before bytes.
struct Open {
    /// Bit `i`: `runs[i]` is open.
    used: u32,
    hosts: [u32; OPEN_RUNS],
    flows: [u32; OPEN_RUNS],
    runs: [Run; OPEN_RUNS],
}

impl Open {
    /// The open runs whose `hashes` entry is `h`, as bits.
    fn matching(&self, hashes: &[u32; OPEN_RUNS], h: u32) -> u32 {
        let mut found = 0;
        for (i, &x) in hashes.iter().enumerate() {
            if x == h {
                found |= 1 << i;
            }
        }
        found & self.used
    }

    fn open(&mut self, i: usize, hosts: u32, flow: u32, r: Run) {
        self.used |= 1 << i;
        self.hosts[i] = hosts;
        self.flows[i] = flow;
        self.runs[i] = r;
    }

    fn shut(&mut self, i: usize) -> Run {
        self.used &= !(1 << i);
        self.runs[i]
    }
}

/// What one coalescing pass works on: the batch's regions seen anew (the translation's
/// borrows of them have ended) and the spill space translation left free.
struct Pass<'m> {
    slots: &'m [u8],
    spill_used: &'m [u8],
    free: &'m mut [u8],
    free_used: usize,
    free_addr: u32,
    spill_offset: usize,
    base: u32,
    out: &'m mut [u8],
    vnet: &'m mut [u8],
    counters: Counters<'m>,
}

impl<'m> Pass<'m> {
    fn descriptor(&self, j: usize) -> [u32; 4] {
        let d = &self.out[j * DESCRIPTOR_LEN..(j + 1) * DESCRIPTOR_LEN];
        let w = |i: usize| u32::from_le_bytes([d[4 * i], d[4 * i + 1], d[4 * i + 2], d[4 * i + 3]]);
        [w(0), w(1), w(2), w(3)]
    }

    /// The bytes of output `j`, in a slot or in the spill area.
    fn output(&self, j: usize) -> &'m [u8] {
        let [addr, len, _, _] = self.descriptor(j);
        let (at, len) = (addr.wrapping_sub(self.base) as usize, len as usize);
        let (slots, spill_used) = (self.slots, self.spill_used);
        if at < self.spill_offset {
            slots.get(at..at + len).unwrap_or(&[])
        } else {
            spill_used.get(at - self.spill_offset..at - self.spill_offset + len).unwrap_or(&[])
        }
    }

    fn candidate_bytes(&self, c: &Candidate) -> &'m [u8] {
        let slots = self.slots;
        &slots[c.at as usize..(c.at + c.len) as usize]
    }

    /// Writes run `r` as one super-packet into free spill space and points the
    /// descriptor of its first datagram at it, when it holds two or more datagrams and
    /// there is room; otherwise its datagrams stay as they are.
    fn close(&mut self, cands: &mut [Candidate], r: &Run) {
        let hl = r.header_len();
        let total = hl + UDP_HEADER + r.payload;
        if r.count < 2 || total > self.free.len() - self.free_used {
            return;
        }
        let head = cands[r.head as usize];
        let dst = &mut self.free[self.free_used..self.free_used + total];
        dst[..hl + UDP_HEADER].copy_from_slice(&self.slots[head.at as usize..head.at as usize + hl + UDP_HEADER]);
        let mut w = hl + UDP_HEADER;
        let mut m = r.head as usize;
        loop {
            let c = cands[m];
            let body = &self.slots[(c.at as usize + hl + UDP_HEADER)..(c.at + c.len) as usize];
            dst[w..w + body.len()].copy_from_slice(body);
            w += body.len();
            if m != r.head as usize {
                cands[m].merged = true;
            }
            if m == r.tail as usize {
                break;
            }
            m = c.next as usize;
        }
        let udp_len = (UDP_HEADER + r.payload) as u16;
        // The kernel cuts the payload into gso_size pieces and gives each segment its
        // own lengths (and, IPv4, Identification and header checksum); the UDP checksum
        // field of the super-packet holds the pseudo-header sum over the total UDP
        // length, which it adjusts per segment (`__udp_gso_segment`) before summing the
        // segment's bytes into it (RFC 768; RFC 8200 §8.1).
        let pseudo = if r.v6 {
            put16(dst, 4, udp_len);
            checksum::pseudo_v6(&addr6(dst, 8), &addr6(dst, 24), UDP, udp_len as u32)
        } else {
            let flags_offset = get16(dst, 6);
            ipv4::set_length_and_fragment(dst, total as u16, flags_offset);
            checksum::pseudo_v4(&addr4(dst, 12), &addr4(dst, 16), UDP, udp_len as u32)
        };
        put16(dst, hl + 4, udp_len);
        put16(dst, hl + transport::UDP_CHECKSUM, checksum::fold(pseudo));
        let at = head.desc as usize * DESCRIPTOR_LEN;
        self.out[at..at + 4].copy_from_slice(&(self.free_addr + self.free_used as u32).to_le_bytes());
        self.out[at + 4..at + 8].copy_from_slice(&(total as u32).to_le_bytes());
        let at = head.desc as usize * offload::ENTRY_LEN;
        offload::uso_header(hl, r.seg as u16).write(&mut self.vnet[at..at + offload::ENTRY_LEN]);
        self.free_used += total;
        self.counters.inc(Counter::offload_uso_packets);
        self.counters.add(Counter::offload_uso_datagrams, r.count as u64);
    }
}

/// Coalesces the candidates `c` recorded while translating a batch of arena `a` that
/// wrote `written` descriptors and took `spill_taken` bytes of spill; returns the number
/// of descriptors left, merged ones removed and the rest in their order.
pub(super) fn run(a: Arena, c: &mut Coalescer, written: usize, spill_taken: usize) -> usize {
    let l = a.layout;
    let r = a.regions();
    let (spill_used, free) = r.spill.split_at_mut(spill_taken);
    let mut pass = Pass {
        slots: r.slots,
        spill_used,
        free,
        free_used: 0,
        free_addr: a.addr + (l.spill + spill_taken) as u32,
        spill_offset: l.spill,
        base: a.addr,
        out: r.out,
        vnet: r.vnet_out,
        counters: Counters::new(r.counters),
    };
    let cands = &mut c.cands[..c.len];
    let mut open = Open { used: 0, hosts: [0; OPEN_RUNS], flows: [0; OPEN_RUNS], runs: [NO_RUN; OPEN_RUNS] };
    let mut k = 0;
    for j in 0..written {
        if k < cands.len() && cands[k].desc as usize == j {
            join(&mut pass, cands, &mut open, k);
            k += 1;
            continue;
        }
        if open.used == 0 {
            continue;
        }
        let (v6, hosts) = match udp_hosts(pass.output(j)) {
            Some(h) => h,
            None => continue,
        };
        let h = hash(hosts);
        let mut same = open.matching(&open.hosts, h);
        while same != 0 {
            let i = same.trailing_zeros() as usize;
            same &= same - 1;
            let r = open.runs[i];
            if r.v6 == v6 && hosts_and_flow(pass.candidate_bytes(&cands[r.head as usize]), v6).0 == hosts {
                open.shut(i);
                pass.close(cands, &r);
            }
        }
    }
    while open.used != 0 {
        let r = open.shut(open.used.trailing_zeros() as usize);
        pass.close(cands, &r);
    }
    compact(&mut pass, cands, written)
}

/// Adds candidate `k` to the open run of its flow, or opens one for it.
fn join(pass: &mut Pass, cands: &mut [Candidate], open: &mut Open, k: usize) {
    let p = pass.candidate_bytes(&cands[k]);
    let v6 = p[0] >> 4 == 6;
    let hl = if v6 { ipv6::HEADER_LEN } else { ipv4::HEADER_LEN };
    let payload = p.len() - hl - UDP_HEADER;
    let (hosts, flow) = hosts_and_flow(p, v6);
    let flow_hash = hash(flow);
    // At most one run per flow is open: a datagram that cannot join its flow's run
    // closes it, so that the run never takes a later datagram past this one.
    let mut same = open.matching(&open.flows, flow_hash);
    let mut found = None;
    while same != 0 && found.is_none() {
        let i = same.trailing_zeros() as usize;
        same &= same - 1;
        let r = &open.runs[i];
        if r.v6 == v6 && hosts_and_flow(pass.candidate_bytes(&cands[r.head as usize]), v6).1 == flow {
            found = Some(i);
        }
    }
    if let Some(i) = found {
        let r = &mut open.runs[i];
        let fits = payload <= r.seg && r.count < MAX_SEGMENTS && hl + UDP_HEADER + r.payload + payload <= MAX_PACKET;
        if fits && same_segment_headers(pass.candidate_bytes(&cands[r.head as usize]), p, v6) {
            cands[r.tail as usize].next = k as u16;
            r.tail = k as u16;
            r.count += 1;
            r.payload += payload;
            // A smaller datagram is the last segment the kernel cuts; a full run takes no more.
            if payload < r.seg || r.count == MAX_SEGMENTS {
                let r = open.shut(i);
                pass.close(cands, &r);
            }
            return;
        }
        let r = open.shut(i);
        pass.close(cands, &r);
    }
    let at = if open.used != u32::MAX {
        (!open.used).trailing_zeros() as usize
    } else {
        // Every run is open: close the one that started first.
        let oldest = (0..OPEN_RUNS).min_by_key(|&i| cands[open.runs[i].head as usize].desc).unwrap_or(0);
        let r = open.shut(oldest);
        pass.close(cands, &r);
        oldest
    };
    cands[k].next = END;
    open.open(at, hash(hosts), flow_hash, Run { head: k as u16, tail: k as u16, count: 1, seg: payload, payload, v6 });
}

/// Removes the descriptors (and their virtio-net headers) of merged datagrams, keeping
/// the order of the others; returns how many are left.
fn compact(pass: &mut Pass, cands: &[Candidate], written: usize) -> usize {
    let mut kept = 0;
    let mut k = 0;
    for j in 0..written {
        if k < cands.len() && cands[k].desc as usize == j {
            k += 1;
            if cands[k - 1].merged {
                continue;
            }
        }
        if kept != j {
            pass.out.copy_within(j * DESCRIPTOR_LEN..(j + 1) * DESCRIPTOR_LEN, kept * DESCRIPTOR_LEN);
            pass.vnet.copy_within(j * offload::ENTRY_LEN..(j + 1) * offload::ENTRY_LEN, kept * offload::ENTRY_LEN);
        }
        kept += 1;
    }
    kept
}

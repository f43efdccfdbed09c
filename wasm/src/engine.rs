//! The engine behind the exported ABI: owns the arena, the configuration, the
//! stateful NAT64 tables, and the per-batch loop that turns each slot's verdict into
//! output descriptors. The NAT64 timer call is in [`expire`], the host's state buffer
//! operations (snapshots, listings) in [`exchange`], the session events in [`events`].

mod coalesce;
mod events;
mod exchange;
mod expire;
mod outputs;
#[cfg(test)]
mod test_host;
#[cfg(test)]
mod nat64_tests;
#[cfg(test)]
mod offload_tests;
#[cfg(test)]
mod uso_tests;

use core::fmt::Write;
use core::ptr::NonNull;

use crate::arena::{self, InitError, Layout, CONFIG_CAPACITY, HEADROOM};
use crate::config::{Config, ConfigError, Mode};
use crate::context::{Tx, SCRATCH_LEN};
use crate::counters::{self, Counter, Counters};
use crate::ipid::IdGen;
use crate::nat64::{Capacity, Exporter, FragmentKey, Gauges, Importer, InitError as Nat64InitError, Nat64};
use crate::offload::{self, VnetHeader};
use crate::ratelimit::TokenBucket;
use crate::traffic;
use crate::translate46;
use crate::translate64;
use crate::verdict::Verdict;
use coalesce::Coalescer;
use outputs::Outputs;

/// Bytes of the error sentence buffer, NUL included.
const ERROR_LEN: usize = 256;

#[derive(Clone, Copy)]
struct Arena {
    layout: Layout,
    base: *mut u8,
    addr: u32,
}

/// The regions of the arena one call works on, split so they can be borrowed apart.
struct Regions<'m> {
    slots: &'m mut [u8],
    spill: &'m mut [u8],
    in_len: &'m [u8],
    out: &'m mut [u8],
    vnet_in: &'m [u8],
    vnet_out: &'m mut [u8],
    counters: &'m mut [u64],
}

impl Arena {
    /// The arena's batch regions. The arena was reserved for `layout.total` bytes and
    /// only the one engine call running touches it.
    fn regions<'m>(&self) -> Regions<'m> {
        let l = self.layout;
        let mem = unsafe { core::slice::from_raw_parts_mut(self.base, l.packet_end) };
        let (slots, rest) = mem.split_at_mut(l.spill);
        let (spill, rest) = rest.split_at_mut(l.in_len - l.spill);
        let (in_len, rest) = rest.split_at_mut(l.out - l.in_len);
        let (out, rest) = rest.split_at_mut(l.vnet_in - l.out);
        let (vnet_in, rest) = rest.split_at_mut(l.vnet_out - l.vnet_in);
        let (vnet_out, rest) = rest.split_at_mut(l.config - l.vnet_out);
        let counter_bytes = &mut rest[l.counters - l.config..];
        // The counter region is 8-aligned (Layout) and holds COUNT u64 values.
        let counters = unsafe { core::slice::from_raw_parts_mut(counter_bytes.as_mut_ptr() as *mut u64, counters::COUNT) };
        Regions { slots, spill: &mut spill[..l.spill_len], in_len, out, vnet_in, vnet_out, counters }
    }

    /// The state buffer (`arena::STATE_CAPACITY` bytes), apart from every batch region.
    fn state_buffer<'m>(&self) -> &'m mut [u8] {
        unsafe { core::slice::from_raw_parts_mut(self.base.add(self.layout.state), arena::STATE_CAPACITY) }
    }

    fn slot_addr(&self, slot: usize) -> u32 {
        self.addr + (self.layout.slots + slot * self.layout.slot_size) as u32
    }

    fn outputs<'m>(&self, out: &'m mut [u8], vnet_out: &'m mut [u8], spill: &'m mut [u8]) -> Outputs<'m> {
        Outputs::new(out, vnet_out, self.layout.out_capacity, spill, self.addr + self.layout.spill as u32)
    }
}

/// The engine state.
pub struct Engine {
    arena: Option<Arena>,
    config: Config,
    staging: Config,
    configured: bool,
    ids: IdGen,
    errors: TokenBucket,
    scratch: [u8; SCRATCH_LEN],
    error: [u8; ERROR_LEN],
    /// The stateful tables; their header lives in linear memory with them, so this
    /// static stays all zero bytes (an `Option<Nat64>` here would mark its emptiness
    /// with a non-zero niche and put the whole engine into the module's data section).
    nat64: Option<NonNull<Nat64<'static>>>,
    exporter: Option<Exporter>,
    importer: Option<Importer>,
    /// The host's latest `now_ms`: the time of the events a call without a clock
    /// (`nat64_configure`, `nat64_import_end`) causes.
    now_ms: f64,
    /// The batch's datagrams that may leave in UDP super-packets (USO).
    uso: Coalescer,
}

impl Engine {
    /// An engine with no memory and no configuration.
    pub const fn new() -> Engine {
        Engine {
            arena: None,
            config: Config::UNSET,
            staging: Config::UNSET,
            configured: false,
            ids: IdGen::new(),
            errors: TokenBucket::new(),
            scratch: [0; SCRATCH_LEN],
            error: [0; ERROR_LEN],
            nat64: None,
            exporter: None,
            importer: None,
            now_ms: 0.0,
            uso: Coalescer::new(),
        }
    }

    /// Lays out and reserves the arena (first call only), with stateful NAT64 tables
    /// for `session_capacity` sessions and `pool4_pairs` (protocol, pool4 address) pairs
    /// (no tables when `session_capacity` is 0) keyed with `seed`.
    pub fn init(&mut self, slot_count: u32, slot_size: u32, session_capacity: u32, pool4_pairs: u32, seed: [u8; 16]) -> Result<(), InitError> {
        let capacity = if session_capacity == 0 { None } else { Some(Capacity::new(session_capacity, pool4_pairs)) };
        let header = (core::mem::size_of::<Nat64>() + 7) & !7;
        let nat64_len = match capacity {
            Some(c) => {
                header
                    + Nat64::bytes_needed(&c).map_err(|e| match e {
                        Nat64InitError::TooManyPortSets => InitError::TooManyPool4Pairs,
                        _ => InitError::BadCapacity,
                    })?
            }
            None => 0,
        };
        let layout = Layout::new(slot_count, slot_size, nat64_len)?;
        if let Some(a) = self.arena {
            return if a.layout == layout { Ok(()) } else { Err(InitError::AlreadyInitialized) };
        }
        let (base, addr) = arena::reserve(layout.total).ok_or(InitError::OutOfMemory)?;
        if let Some(c) = capacity {
            // The NAT64 region lies past every batch region and is handed to the tables
            // for the life of the instance: their header first (8-aligned, like the
            // region), then their arrays.
            let region = unsafe { core::slice::from_raw_parts_mut(base.add(layout.nat64 + header), nat64_len - header) };
            let nat = Nat64::new(region, &c, &seed).map_err(|_| InitError::BadCapacity)?;
            let slot = unsafe { base.add(layout.nat64) } as *mut Nat64<'static>;
            // SAFETY: `slot` is aligned and `header` bytes of the arena nothing else uses.
            unsafe { slot.write(nat) };
            self.nat64 = NonNull::new(slot);
        }
        self.arena = Some(Arena { layout, base, addr });
        Ok(())
    }

    /// The layout, once initialised.
    pub fn layout(&self) -> Option<Layout> {
        self.arena.map(|a| a.layout)
    }

    /// Host address of arena offset `offset` (0 before initialisation).
    pub fn address(&self, offset: usize) -> u32 {
        self.arena.map_or(0, |a| a.addr + offset as u32)
    }

    /// The whole arena, for unit tests, which play the host.
    #[cfg(test)]
    pub fn memory(&mut self) -> &mut [u8] {
        match self.arena {
            // The arena was reserved for `total` bytes and is reached through `&mut self`.
            Some(a) => unsafe { core::slice::from_raw_parts_mut(a.base, a.layout.total) },
            None => &mut [],
        }
    }

    /// Applies the `len` bytes of TLV records in the config buffer. On failure the
    /// previous configuration stays and [`Engine::error_text`] says why.
    pub fn configure(&mut self, len: u32) -> Result<(), ()> {
        let a = match self.arena {
            Some(a) => a,
            None => {
                self.set_error(format_args!("nat64_configure was called before nat64_init"));
                return Err(());
            }
        };
        let len = len as usize;
        if len > CONFIG_CAPACITY {
            self.set_error(format_args!("{}", ConfigError::TooLong { len, capacity: CONFIG_CAPACITY }));
            return Err(());
        }
        // The config buffer is a region of the arena the host writes before this call.
        let bytes = unsafe { core::slice::from_raw_parts(a.base.add(a.layout.config), len) };
        if let Err(e) = self.staging.parse_into(bytes) {
            self.set_error(format_args!("{}", e));
            return Err(());
        }
        let mut nat = tables(self.nat64);
        // Events follow the new setting from this call on, the removals a new pool4
        // causes included.
        let recording = nat.as_deref_mut().map_or(false, |n| {
            let was = n.events().enabled();
            n.events().set_enabled(self.staging.session_events);
            was
        });
        if self.staging.mode == Mode::Nat64 {
            let result = match nat.as_deref_mut() {
                Some(n) => n.configure(&self.staging.nat64(), self.now_ms as u64),
                None => {
                    self.set_error(format_args!("stateful NAT64 needs tables: nat64_init was given a session capacity of 0"));
                    return Err(());
                }
            };
            if let Err(e) = result {
                if let Some(n) = nat {
                    n.events().set_enabled(recording);
                }
                match e.entry() {
                    Some(n) => self.set_error(format_args!("stateful NAT64 {} entry {} {}", e.field(), n, e.reason())),
                    None => self.set_error(format_args!("stateful NAT64 {} {}", e.field(), e.reason())),
                }
                return Err(());
            }
        }
        if let Some(n) = nat {
            // The events so far happened under the pool6 in force until now.
            events::fill_remote6(n.events(), self.config.pool6.as_ref());
        }
        core::mem::swap(&mut self.config, &mut self.staging);
        self.configured = true;
        self.exporter = None;
        self.error[0] = 0;
        self.publish_gauges();
        Ok(())
    }

    fn set_error(&mut self, args: core::fmt::Arguments) {
        let mut w = Sentence { buf: &mut self.error, len: 0 };
        let _ = w.write_fmt(args);
        let end = w.len;
        self.error[end] = 0;
    }

    /// The last error sentence, NUL-terminated.
    pub fn error_text(&self) -> &[u8; ERROR_LEN] {
        &self.error
    }

    /// Whether packets go through the stateful NAT64 tables.
    fn stateful(&self) -> bool {
        self.configured && self.config.mode == Mode::Nat64
    }

    /// Sets the `sessions_*`, `bib_*`, `pool4_*` gauges and the lost events from the
    /// tables.
    fn publish_gauges(&mut self) {
        if let (Some(a), Some(nat)) = (self.arena, tables(self.nat64)) {
            let mut counters = Counters::new(a.regions().counters);
            publish(&mut counters, nat);
        }
    }

    /// Translates slots `0..count`; returns the number of output descriptors.
    pub fn translate(&mut self, count: u32, now_ms: f64) -> u32 {
        let a = match self.arena {
            Some(a) => a,
            None => return 0,
        };
        self.ids.seed_once(now_ms);
        self.now_ms = now_ms;
        let stateful = self.stateful();
        if stateful {
            // The tables change: a snapshot in progress no longer describes them.
            self.exporter = None;
        }
        let mut tx = Tx::new(&self.config, &mut self.ids, &mut self.scratch, &mut self.errors, now_ms);
        self.uso.clear();
        let (written, spill_taken) = if stateful {
            tx.state = tables(self.nat64);
            batch::<true>(a, &mut tx, count, self.configured, &mut self.uso)
        } else {
            batch::<false>(a, &mut tx, count, self.configured, &mut self.uso)
        };
        if self.uso.len() < 2 {
            return written as u32;
        }
        coalesce::run(a, &mut self.uso, written, spill_taken) as u32
    }
}

/// Translates slots `0..count` of arena `a`, recording in `uso` the outputs that may
/// be coalesced; returns the number of output descriptors and the bytes of spill area
/// taken. Compiled once per mode, so that the stateless path carries none of the
/// stateful one.
fn batch<const NAT64: bool>(a: Arena, tx: &mut Tx, count: u32, configured: bool, uso: &mut Coalescer) -> (usize, usize) {
    let l = a.layout;
    let r = a.regions();
    let mut counters = Counters::new(r.counters);
    let mut outputs = a.outputs(r.out, r.vnet_out, r.spill);
    let offloads = tx.cfg.offload;
    let uso_families = tx.cfg.uso;
    let count = (count as usize).min(l.slot_count);
    let lengths = r.in_len[..4 * count].chunks_exact(4);
    for (i, (slot, len)) in r.slots.chunks_exact_mut(l.slot_size).zip(lengths).enumerate() {
        let len = u32::from_le_bytes(len.try_into().unwrap_or([0; 4])) as usize;
        if len == 0 || len > l.slot_size - HEADROOM {
            counters.inc(Counter::drop_bad_input);
            continue;
        }
        let from_v6 = match slot[HEADROOM] >> 4 {
            4 => false,
            6 => true,
            _ => {
                counters.inc(Counter::drop_bad_input);
                continue;
            }
        };
        counters.inc(if from_v6 { Counter::packets_in_v6 } else { Counter::packets_in_v4 });
        let class = traffic::class(&slot[HEADROOM..HEADROOM + len]);
        counters.traffic(false, class, len);
        if !configured {
            counters.inc(Counter::drop_not_configured);
            continue;
        }
        outputs.reserved = count - i - 1;
        let h = if offloads { VnetHeader::read(&r.vnet_in[i * offload::ENTRY_LEN..]) } else { VnetHeader::default() };
        let partial = if offloads {
            match offload::prepare(&h, slot, HEADROOM, len, &mut counters) {
                Ok(p) => p,
                Err(reason) => {
                    counters.inc(reason);
                    continue;
                }
            }
        } else {
            None
        };
        // USO: an input without a UDP checksum (0) is never coalesced; the field is
        // read before translation rewrites it.
        let udp_checksum = if uso_families != 0 { coalesce::input_udp_checksum(slot, len, from_v6) } else { 0 };
        tx.partial = partial;
        let first_output = outputs.written;
        let v = translate_one::<NAT64>(tx, &mut outputs, &mut counters, slot, a.slot_addr(i), HEADROOM, len, class & 3, i);
        let mut carried = false;
        if partial.is_some() {
            match (tx.partial.take(), v) {
                // Still partial: translated as a header rewrite, its one output carries the offloads on.
                (Some(p), Verdict::Forward { start, .. }) if outputs.written > first_output => {
                    outputs.set_vnet(first_output, &offload::output_header(&p, slot, start));
                    carried = true;
                }
                // Dropped, or no descriptor left: no output to describe.
                (Some(_), _) => {}
                (None, _) => counters.inc(Counter::offload_csum_completed),
            }
        }
        if udp_checksum != 0 && outputs.written == first_output + 1 && coalesce::recomputable(&h, carried) {
            if let Verdict::Forward { start, len } = v {
                uso.consider(uso_families, from_v6, &slot[start..start + len], start, i * l.slot_size + start, first_output);
            }
        }
        if NAT64 {
            if let Some(key) = tx.release.take() {
                release_held(tx, &mut outputs, &mut counters, key, i);
            }
        }
    }
    counters.add(Counter::icmp_errors_rate_limited, tx.errors_held_back);
    if let Some(nat) = tx.state.as_deref_mut() {
        publish(&mut counters, nat);
    }
    (outputs.written, outputs.spill_taken())
}

/// The stateful tables of an engine. Exports run one at a time and each opens the
/// tables once, so no two references to them are live together.
fn tables(p: Option<NonNull<Nat64<'static>>>) -> Option<&'static mut Nat64<'static>> {
    // SAFETY: `p` points at the tables `Engine::init` wrote into the arena, which
    // lives as long as the instance; see above for exclusivity.
    p.map(|p| unsafe { &mut *p.as_ptr() })
}

/// Translates the packet at `buf[start..start + len]` (input slot `i`, `buf[0]` at host
/// address `base`, `protocol` the protocol part of its traffic class), hairpins
/// included, records the outcome and returns it.
#[allow(clippy::too_many_arguments)]
fn translate_one<const NAT64: bool>(tx: &mut Tx, outputs: &mut Outputs, counters: &mut Counters, buf: &mut [u8], base: u32, start: usize, len: usize, protocol: usize, i: usize) -> Verdict {
    if NAT64 {
        tx.binding = None;
    }
    let from_v6 = buf[start] >> 4 == 6;
    let v = if from_v6 { translate64::translate::<NAT64>(tx, buf, start, len) } else { translate46::translate::<NAT64>(tx, buf, start, len, false) };
    match v {
        Verdict::Hairpin { start, len } => {
            let second = translate46::translate::<NAT64>(tx, buf, start, len, true);
            outputs.emit(second, buf, base, i, Counter::hairpinned, protocol, counters);
            second
        }
        v => {
            let success = if from_v6 { Counter::translated_6to4 } else { Counter::translated_4to6 };
            outputs.emit(v, buf, base, i, success, protocol, counters);
            v
        }
    }
}

/// Translates the held fragments of datagram `key`, which the packet of slot `i` made
/// translatable (RFC 6146 §3.4), each copied into the spill area with headroom.
fn release_held(tx: &mut Tx, outputs: &mut Outputs, counters: &mut Counters, key: FragmentKey, i: usize) {
    loop {
        let nat = match tx.state.as_mut() {
            Some(n) => n,
            None => return,
        };
        let protocol = traffic::protocol(key.proto, key.v6);
        let (area, addr, len) = match nat.take_held_fragment(&key) {
            // The headroom takes the growth of IPv4 → IPv6, as in a slot.
            Some(bytes) => match outputs.take_spill(HEADROOM + bytes.len()) {
                Some((area, addr)) => {
                    area[HEADROOM..].copy_from_slice(bytes);
                    (area, addr, bytes.len())
                }
                None => {
                    counters.inc(Counter::drop_no_room);
                    continue;
                }
            },
            None => return,
        };
        translate_one::<true>(tx, outputs, counters, area, addr, HEADROOM, len, protocol, i);
        tx.release = None;
    }
}

/// Writes what the tables report into the counters: the per-protocol gauges and the
/// events lost so far.
fn publish(counters: &mut Counters, nat: &mut Nat64) {
    set_gauges(counters, &nat.gauges());
    counters.set(Counter::nat64_session_events_lost, nat.events().lost());
}

/// Writes the per-protocol gauges into their counters.
fn set_gauges(counters: &mut Counters, g: &Gauges) {
    const SESSIONS: [Counter; 3] = [Counter::sessions_tcp, Counter::sessions_udp, Counter::sessions_icmp];
    const BIB: [Counter; 3] = [Counter::bib_tcp, Counter::bib_udp, Counter::bib_icmp];
    const USED: [Counter; 3] = [Counter::pool4_used_tcp, Counter::pool4_used_udp, Counter::pool4_used_icmp];
    const SIZE: [Counter; 3] = [Counter::pool4_size_tcp, Counter::pool4_size_udp, Counter::pool4_size_icmp];
    for p in 0..3 {
        counters.set(SESSIONS[p], g.sessions[p] as u64);
        counters.set(BIB[p], g.bib[p] as u64);
        counters.set(USED[p], g.pool4_used[p] as u64);
        counters.set(SIZE[p], g.pool4_size[p] as u64);
    }
}

/// A `fmt::Write` into a fixed buffer that keeps room for the NUL and cuts the rest.
struct Sentence<'a> {
    buf: &'a mut [u8; ERROR_LEN],
    len: usize,
}

impl<'a> Write for Sentence<'a> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = ERROR_LEN - 1 - self.len;
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::test_host::Host;
    use super::*;
    use crate::testutil::*;
    use crate::{ipv4, ipv6};
    extern crate std;
    use std::boxed::Box;
    use std::vec::Vec;

    #[test]
    fn a_batch_keeps_slot_order_and_counts_every_packet() {
        let mut h = Host::new(8);
        h.configure(&graybox_tlv()).unwrap();
        h.load(0, &udp4(H4, H6_AS_V4, 64, 0, 10));
        h.load(1, &udp6(H6, H4_AS_V6, 64, 10));
        h.load(2, &[0x50; 40]);
        h.load(3, &udp4(H4, H6_AS_V4, 1, 0, 10));
        let out = h.run(4);
        assert_eq!(out.len(), 3);
        assert_eq!((out[0].0[0] >> 4, out[0].1, out[0].2), (6, 0, crate::OUT_TRANSLATED));
        assert!(v6_l4_ok(&out[0].0));
        assert_eq!((out[1].0[0] >> 4, out[1].1, out[1].2), (4, 1, crate::OUT_TRANSLATED));
        assert!(v4_l4_ok(&out[1].0));
        assert_eq!((out[2].0[0] >> 4, out[2].1, out[2].2), (4, 3, crate::OUT_ICMP_ERROR));
        assert_eq!(h.counter(Counter::packets_in_v4), 2);
        assert_eq!(h.counter(Counter::packets_in_v6), 1);
        assert_eq!(h.counter(Counter::translated_4to6), 1);
        assert_eq!(h.counter(Counter::translated_6to4), 1);
        assert_eq!(h.counter(Counter::drop_bad_input), 1);
        assert_eq!(h.counter(Counter::drop_ttl_expired), 1);
        assert_eq!(h.counter(Counter::icmp4_errors_sent), 1);
    }

    #[test]
    fn fragments_go_to_the_spill_area_in_order() {
        let mut h = Host::new(4);
        h.configure(&graybox_tlv()).unwrap();
        let pkt = udp4(H4, H6_AS_V4, 64, 0, 1800);
        h.load(0, &pkt);
        h.load(1, &udp4(H4, H6_AS_V4, 64, 0, 10));
        let out = h.run(2);
        assert_eq!(out.len(), 3);
        assert!(out[..2].iter().all(|o| o.1 == 0 && o.2 == crate::OUT_FRAGMENT));
        assert_eq!((out[2].1, out[2].2), (1, crate::OUT_TRANSLATED));
        assert_eq!(out[0].0.len(), 1280);
        let mut payload = out[0].0[48..].to_vec();
        payload.extend_from_slice(&out[1].0[48..]);
        assert_eq!(&payload[8..], &pkt[28..], "the pieces carry the whole datagram");
        assert_eq!(&out[1].0[42..44], &((1232u16 / 8) << 3).to_be_bytes());
        assert_eq!(h.counter(Counter::fragments_out), 2);
        assert_eq!(h.counter(Counter::translated_4to6), 2);
    }

    #[test]
    fn ipv4_fragments_for_a_small_ipv4_link() {
        let mut h = Host::new(2);
        let mut records = graybox_tlv();
        tlv(&mut records, crate::config::tag::MTU_V4, &576u32.to_le_bytes());
        h.configure(&records).unwrap();
        let pkt = udp6(H6, H4_AS_V6, 64, 1000);
        h.load(0, &pkt);
        let out = h.run(1);
        assert_eq!(out.len(), 2);
        let first = ipv4::parse(&out[0].0).unwrap();
        let second = ipv4::parse(&out[1].0).unwrap();
        assert_eq!((first.total_len, first.mf(), first.offset(), first.df()), (572, true, 0, false));
        assert_eq!((second.total_len, second.mf(), second.offset(), second.id), (20 + 1008 - 552, false, 69, first.id));
        let mut payload = out[0].0[20..].to_vec();
        payload.extend_from_slice(&out[1].0[20..]);
        assert_eq!(&payload[8..], &pkt[48..]);
        assert_eq!(h.counter(Counter::fragments_out), 2);
    }

    #[test]
    fn hairpins_leave_on_the_ipv6_side() {
        let mut h = Host::new(2);
        h.configure(&graybox_tlv()).unwrap();
        let src = a6([0x2001, 0xdb8, 3, 0, 0, 0, 0, 8]);
        let dst = a6([0x2001, 0xdb8, 0x101, 0, 9, 0, 0, 0]);
        h.load(0, &udp6(src, dst, 64, 4));
        let out = h.run(1);
        assert_eq!(out.len(), 1);
        let p = &out[0].0;
        let ip = ipv6::parse(p).unwrap();
        assert_eq!((ip.src, ip.dst, ip.hop_limit), (a6([0x2001, 0xdb8, 0x101, 0, 8, 0, 0, 0]), a6([0x2001, 0xdb8, 3, 0, 0, 0, 0, 9]), 63));
        assert!(v6_l4_ok(p));
        assert_eq!(h.counter(Counter::hairpinned), 1);
    }

    #[test]
    fn configuration_errors_keep_the_previous_configuration() {
        let mut h = Host::new(2);
        h.load(0, &udp4(H4, H6_AS_V4, 64, 0, 10));
        assert_eq!(h.run(1).len(), 0);
        assert_eq!(h.counter(Counter::drop_not_configured), 1);
        h.configure(&graybox_tlv()).unwrap();
        let mut bad = graybox_tlv();
        tlv(&mut bad, 0x55, &[1]);
        assert_eq!(h.configure(&bad), Err(()));
        let text = h.e.error_text();
        let end = text.iter().position(|&b| b == 0).unwrap();
        assert!(std::str::from_utf8(&text[..end]).unwrap().contains("unknown tag 0x55"));
        h.load(0, &udp4(H4, H6_AS_V4, 64, 0, 10));
        assert_eq!(h.run(1).len(), 1, "the earlier configuration still translates");
        assert_eq!(h.e.configure(CONFIG_CAPACITY as u32 + 1), Err(()));
    }

    #[test]
    fn originated_errors_are_rate_limited() {
        let mut h = Host::new(4);
        let mut records = graybox_tlv();
        tlv(&mut records, crate::config::tag::ICMP_ERRORS_PER_SECOND, &1u32.to_le_bytes());
        h.configure(&records).unwrap();
        for slot in 0..3 {
            h.load(slot, &udp4(H4, H6_AS_V4, 1, 0, 10));
        }
        let out = h.run(3);
        assert_eq!(out.len(), 1);
        assert_eq!(h.counter(Counter::drop_ttl_expired), 3);
        assert_eq!(h.counter(Counter::icmp4_errors_sent), 1);
        assert_eq!(h.counter(Counter::icmp_errors_rate_limited), 2);
    }

    #[test]
    fn init_is_once_per_geometry() {
        let mut e = Box::new(Engine::new());
        assert_eq!(e.configure(0), Err(()));
        assert_eq!(e.translate(1, 0.0), 0);
        assert_eq!(e.init(0, 2048, 0, 0, [0; 16]), Err(InitError::BadGeometry));
        e.init(4, 2048, 0, 0, [0; 16]).unwrap();
        assert_eq!(e.init(4, 2048, 0, 0, [0; 16]), Ok(()));
        assert_eq!(e.init(8, 2048, 0, 0, [0; 16]), Err(InitError::AlreadyInitialized));
        let mut e = Box::new(Engine::new());
        assert_eq!(e.init(4, 2048, 1024, crate::nat64::MAX_PORT_SETS + 1, [0; 16]), Err(InitError::TooManyPool4Pairs));
        assert_eq!(e.init(4, 2048, 1 << 30, 48, [0; 16]), Err(InitError::BadCapacity));
        e.init(4, 2048, 1024, 768, [0; 16]).unwrap();
        assert_eq!(e.init(4, 2048, 1024, 48, [0; 16]), Err(InitError::AlreadyInitialized), "the pairs are part of the geometry");
    }

    /// xorshift64*, for reproducible noise.

    /// Mutated packets of every kind the translator knows never make it panic (a
    /// panic would trap the WebAssembly instance), and every output stays inside
    /// the memory the host can see.
    #[test]
    fn mutated_packets_never_panic() {
        let mut h = Host::new(16);
        let mut records = graybox_tlv();
        tlv(&mut records, crate::config::tag::RFC6791_V4, &[203, 0, 113, 8, 32]);
        tlv(&mut records, crate::config::tag::MTU_V4, &1000u32.to_le_bytes());
        h.configure(&records).unwrap();
        let err4 = v4(H4, H6_AS_V4, 1, 64, 0, &icmp4_msg(3, 3, [0, 32, 0, 0], &{
            let mut q = udp4(H6_AS_V4, H4, 5, 0, 100);
            q.resize(128, 0);
            q.extend_from_slice(&[0x20, 0, 0, 0, 0, 8, 1, 1]);
            q
        }));
        let err6 = v6(H6, H4_AS_V6, 58, 64, &[], &icmp6_msg(&H6, &H4_AS_V6, 1, 4, [16, 0, 0, 0], &{
            let mut q = udp6(H4_AS_V6, H6, 5, 100);
            q.resize(128, 0);
            q.extend_from_slice(&[0x20, 0, 0, 0, 0, 8, 1, 1]);
            q
        }));
        let templates: Vec<Vec<u8>> = std::vec![
            udp4(H4, H6_AS_V4, 64, 0, 1500),
            udp4(H4, H6_AS_V4, 64, ipv4::MF | 5, 40),
            v4(H4, H6_AS_V4, 1, 64, 0, &echo(8, 0, &[1; 30])),
            err4,
            udp6(H6, H4_AS_V6, 64, 1400),
            v6(H6, H4_AS_V6, 0, 64, &[44, 0, 1, 4, 0, 0, 0, 0, 17, 0, 0, 1, 0, 0, 0, 9], &[0; 30]),
            v6(H6, H4_AS_V6, 58, 64, &[], &echo(128, 0, &[2; 30])),
            err6,
            udp6(a6([0x2001, 0xdb8, 3, 0, 0, 0, 0, 8]), a6([0x2001, 0xdb8, 0x101, 0, 9, 0, 0, 0]), 64, 40),
        ];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let total = h.l.total;
        for round in 0..10000 {
            for slot in 0..16 {
                let mut p = templates[(rng.next() % templates.len() as u64) as usize].clone();
                for _ in 0..(rng.next() % 6) {
                    let at = (rng.next() % p.len() as u64) as usize;
                    p[at] = rng.next() as u8;
                }
                if rng.next() % 4 == 0 {
                    p.truncate((rng.next() % p.len() as u64) as usize + 1);
                }
                if round % 2 == 0 && p[0] >> 4 == 4 && p.len() >= 20 {
                    // Half the time keep the IPv4 header checksum valid so mutations reach deeper.
                    let hl = ((p[0] & 0x0f) as usize) * 4;
                    if hl >= 20 && hl <= p.len() {
                        refresh_v4_checksum(&mut p);
                    }
                }
                h.load(slot, &p);
            }
            for (bytes, slot, kind) in h.run(16) {
                assert!(slot < 16 && kind <= crate::OUT_FRAGMENT);
                assert!(!bytes.is_empty() && bytes.len() < total);
                assert!(bytes[0] >> 4 == 4 || bytes[0] >> 4 == 6);
            }
        }
        assert!(h.counter(Counter::translated_4to6) > 0 && h.counter(Counter::translated_6to4) > 0);
    }
}

//! The host side of the ABI for the engine's unit tests: loads slots, runs batches and
//! timer ticks, reads outputs and counters (test builds only).

extern crate std;
use std::boxed::Box;
use std::vec::Vec;

use super::Engine;
use crate::arena::{Layout, HEADROOM};
use crate::counters::Counter;
use crate::offload::{self, VnetHeader};

/// One engine with its arena, driven like the TypeScript host drives it.
pub struct Host {
    /// The engine.
    pub e: Box<Engine>,
    /// Its layout.
    pub l: Layout,
}

/// (protocol, pool4 address) pairs of the tables: room for every pool4 the tests configure.
pub const POOL4_PAIRS: u32 = 48;

/// One output: (bytes, slot, kind).
pub type Output = (Vec<u8>, u32, u32);

impl Host {
    /// An engine of `slots` slots of 2048 bytes, without NAT64 tables.
    pub fn new(slots: u32) -> Host {
        Host::with_sessions(slots, 0)
    }

    /// An engine of `slots` slots of 2048 bytes and tables for `sessions` sessions.
    pub fn with_sessions(slots: u32, sessions: u32) -> Host {
        Host::with_geometry(slots, 2048, sessions)
    }

    /// An engine of `slots` slots of `slot_size` bytes and tables for `sessions` sessions.
    pub fn with_geometry(slots: u32, slot_size: u32, sessions: u32) -> Host {
        let mut e = Box::new(Engine::new());
        e.init(slots, slot_size, sessions, POOL4_PAIRS, *b"test seed bytes!").unwrap();
        let l = e.layout().unwrap();
        Host { e, l }
    }

    /// Writes the virtio-net header read in front of the packet of `slot`.
    pub fn load_vnet(&mut self, slot: usize, h: &VnetHeader) {
        let at = self.l.vnet_in + slot * offload::ENTRY_LEN;
        h.write(&mut self.e.memory()[at..at + offload::HEADER_LEN]);
    }

    /// The virtio-net header the engine wrote for output `j`.
    pub fn vnet_out(&mut self, j: usize) -> VnetHeader {
        let at = self.l.vnet_out + j * offload::ENTRY_LEN;
        VnetHeader::read(&self.e.memory()[at..at + offload::HEADER_LEN])
    }

    /// Applies TLV records.
    pub fn configure(&mut self, records: &[u8]) -> Result<(), ()> {
        let at = self.l.config;
        self.e.memory()[at..at + records.len()].copy_from_slice(records);
        self.e.configure(records.len() as u32)
    }

    /// The last error sentence.
    pub fn error(&mut self) -> std::string::String {
        let text = self.e.error_text();
        let end = text.iter().position(|&b| b == 0).unwrap_or(0);
        std::string::String::from_utf8_lossy(&text[..end]).into_owned()
    }

    /// Puts `pkt` into `slot`.
    pub fn load(&mut self, slot: usize, pkt: &[u8]) {
        let at = self.l.slots + slot * self.l.slot_size + HEADROOM;
        let len_at = self.l.in_len + 4 * slot;
        let mem = self.e.memory();
        mem[at..at + pkt.len()].copy_from_slice(pkt);
        mem[len_at..len_at + 4].copy_from_slice(&(pkt.len() as u32).to_le_bytes());
    }

    /// Runs a batch at 1000 ms and returns (bytes, slot, kind) per output.
    pub fn run(&mut self, count: u32) -> Vec<Output> {
        self.run_at(count, 1000.0)
    }

    /// Runs a batch at `now_ms`.
    pub fn run_at(&mut self, count: u32, now_ms: f64) -> Vec<Output> {
        let n = self.e.translate(count, now_ms) as usize;
        self.outputs(n)
    }

    /// Loads `pkts` and runs them as one batch at `now_ms`.
    pub fn send(&mut self, pkts: &[&[u8]], now_ms: f64) -> Vec<Output> {
        for (i, p) in pkts.iter().enumerate() {
            self.load(i, p);
        }
        self.run_at(pkts.len() as u32, now_ms)
    }

    /// Runs the timers at `now_ms` with `budget`; the outputs and whether more is due.
    pub fn expire(&mut self, now_ms: f64, budget: u32) -> (Vec<Output>, bool) {
        let r = self.e.expire(now_ms, budget);
        (self.outputs((r & !super::expire::MORE_DUE) as usize), r & super::expire::MORE_DUE != 0)
    }

    fn outputs(&mut self, n: usize) -> Vec<Output> {
        let out = self.l.out;
        let mem = self.e.memory();
        (0..n)
            .map(|j| {
                let d = &mem[out + 16 * j..out + 16 * j + 16];
                let w = |i: usize| u32::from_le_bytes([d[4 * i], d[4 * i + 1], d[4 * i + 2], d[4 * i + 3]]);
                let (addr, len) = (w(0) as usize, w(1) as usize);
                (mem[addr..addr + len].to_vec(), w(2), w(3))
            })
            .collect()
    }

    /// A counter's value.
    pub fn counter(&mut self, c: Counter) -> u64 {
        let at = self.l.counters + 8 * c as usize;
        let b = &self.e.memory()[at..at + 8];
        u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
    }

    /// Takes the session events, as the host does: each record's 64 bytes.
    pub fn take_events(&mut self) -> Vec<[u8; 64]> {
        let n = self.e.events_take() as usize;
        let base = self.e.events_base() as usize;
        let mem = self.e.memory();
        (0..n).map(|i| mem[base + 64 * i..base + 64 * (i + 1)].try_into().unwrap()).collect()
    }

    /// The state buffer.
    pub fn state(&mut self) -> &mut [u8] {
        let at = self.l.state;
        &mut self.e.memory()[at..at + crate::arena::STATE_CAPACITY]
    }
}

//! `nat64_expire`: the host's timer tick for the stateful NAT64 tables. Lifetimes run
//! out on the host's clock; what the RFC asks to send when they do is written into the
//! slots and described like the outputs of a batch.

use super::{publish, tables, Engine};
use crate::arena::HEADROOM;
use crate::context::Tx;
use crate::counters::{Counter, Counters};
use crate::expiry;
use crate::nat64::Expired;
use crate::protocol::TCP;
use crate::traffic;
use crate::verdict::Verdict;
use crate::{OUT_ICMP_ERROR, OUT_PROBE};

/// Bit of `nat64_expire`'s result set when the budget or the slots ran out first.
pub const MORE_DUE: u32 = 1 << 31;

impl Engine {
    /// Expires what is due at `now_ms`, at most `budget` entries (sessions, stored
    /// SYNs, fragmented datagrams): stored SYNs are answered with port unreachable and
    /// idle established connections probed (RFC 6146 §3.5.2.2), one output per slot.
    /// Returns the outputs written, with [`MORE_DUE`] set when more may be due now.
    pub fn expire(&mut self, now_ms: f64, budget: u32) -> u32 {
        let a = match self.arena {
            Some(a) => a,
            None => return 0,
        };
        let nat = match tables(self.nat64) {
            Some(n) => n,
            None => return 0,
        };
        self.exporter = None;
        self.now_ms = now_ms;
        let l = a.layout;
        let r = a.regions();
        let mut counters = Counters::new(r.counters);
        let mut outputs = a.outputs(r.out, r.vnet_out, r.spill);
        let slots = r.slots;
        let mut tx = Tx::new(&self.config, &mut self.ids, &mut self.scratch, &mut self.errors, now_ms);
        let now = tx.now();
        let mut left = budget;
        let mut more = true;
        while left > 0 {
            let room = (l.slot_count - outputs.written) as u32;
            if room == 0 {
                break;
            }
            // Each entry gives at most one output, so a step never overflows the slots.
            let step = left.min(room);
            let sum = nat.expire(now, step, &mut |e| {
                let j = outputs.written;
                let slot = &mut slots[j * l.slot_size..(j + 1) * l.slot_size];
                let base = a.slot_addr(j);
                match e {
                    Expired::StoredSyn(stored) => match expiry::answer_stored_syn(&mut tx, slot, stored) {
                        Verdict::Error { start, len, .. } => {
                            if outputs.push(base + start as u32, len, j, OUT_ICMP_ERROR) {
                                let sent = if slot[start] >> 4 == 4 { Counter::icmp4_errors_sent } else { Counter::icmp6_errors_sent };
                                counters.inc(sent);
                                counters.traffic(true, traffic::with_protocol(slot[start], traffic::ICMP_CLASS), len);
                            }
                        }
                        _ => {}
                    },
                    Expired::Probe(m) => {
                        if let Some(len) = expiry::probe(&tx, &mut slot[HEADROOM..], &m) {
                            if outputs.push(base + HEADROOM as u32, len, j, OUT_PROBE) {
                                counters.inc(Counter::nat64_tcp_probes);
                                counters.traffic(true, traffic::with_protocol(0x60, traffic::protocol(TCP, true)), len);
                            }
                        }
                    }
                    Expired::Session(_) => {}
                }
            });
            counters.add(Counter::nat64_sessions_expired, sum.sessions_removed as u64);
            counters.add(Counter::drop_fragment_timeout, sum.held_fragments_dropped as u64);
            if !sum.budget_exhausted {
                more = false;
                break;
            }
            left -= step;
        }
        counters.add(Counter::icmp_errors_rate_limited, tx.errors_held_back);
        publish(&mut counters, nat);
        outputs.written as u32 | if more { MORE_DUE } else { 0 }
    }
}

//! `nat64_events_take`: hands the session and BIB events of the stateful tables to the
//! host's log (record format in [`crate::nat64::events`]).

use super::{tables, Engine};
use crate::nat64::{EventKind, EventLog};
use crate::prefix::Prefix6;
use crate::rfc6052;

/// Fills in Y', the remote inside `pool6` (RFC 6052 §2.2), of the session events that
/// lack it. The tables know only Y; pool6 is the translator's, and a reconfiguration
/// calls this with the old pool6 before the new one takes over.
pub fn fill_remote6(log: &mut EventLog, pool6: Option<&Prefix6>) {
    let pool6 = match pool6 {
        Some(p) => p,
        None => return,
    };
    for r in log.incomplete() {
        if r.kind == EventKind::SessionCreated as u8 || r.kind == EventKind::SessionRemoved as u8 {
            r.remote6 = rfc6052::embed(pool6, &r.remote4);
        }
    }
}

impl Engine {
    /// Address of event record 0 (0 without NAT64 tables).
    pub fn events_base(&mut self) -> u32 {
        match (self.arena, tables(self.nat64)) {
            (Some(a), Some(nat)) => {
                let at = nat.events().records().as_ptr() as usize - a.base as usize;
                a.addr + at as u32
            }
            _ => 0,
        }
    }

    /// Records the event buffer holds.
    pub fn events_capacity(&mut self) -> u32 {
        tables(self.nat64).map_or(0, |nat| nat.events().records().len() as u32)
    }

    /// The number of events recorded since the last take, now complete at records
    /// `0..n` of the buffer, which the next event overwrites from record 0.
    pub fn events_take(&mut self) -> u32 {
        match tables(self.nat64) {
            Some(nat) => {
                fill_remote6(nat.events(), self.config.pool6.as_ref());
                nat.events().take()
            }
            None => 0,
        }
    }
}

//! Stateful NAT64 (RFC 6146): binding and session tables, pool4, TCP state, expiry.
//! (Work in progress: the contract is written out once the engine API is complete.)

mod carve;
mod chain;
mod queue;
mod siphash;
#[cfg(test)]
mod test_region;
mod types;
mod timeouts;
mod tcp;
mod pool4;
mod bib;
mod hosts;
mod sessions;
mod syn_store;
mod fragments;
mod settings;
mod state;
mod fill;
mod records;
mod snapshot;
mod listing;

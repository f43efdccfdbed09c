//! Engine counters: one `u64` each, exported with their names (see the ABI in `lib.rs`).

//! Stateful NAT64 (RFC 6146): binding and session tables, pool4, TCP state, expiry queues.

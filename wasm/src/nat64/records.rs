//! Fixed-size little-endian records describing sessions and BIB entries, shared by the
//! listing ([`super::listing`]) and the snapshot format ([`super::snapshot`]).
//!
//! Session record, [`SESSION_RECORD`] bytes:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | protocol: 0 TCP, 1 UDP, 2 ICMP |
//! | 1 | 1 | TCP state (`TcpState` number; 0 for UDP and ICMP) |
//! | 2 | 1 | timeout class: 0 UDP, 1 TCP_EST, 2 TCP_TRANS, 3 ICMP |
//! | 3 | 1 | flags: bit 0 = the BIB entry is static |
//! | 4 | 16 | X' (IPv6 host address) |
//! | 20 | 2 | x' |
//! | 22 | 2 | x |
//! | 24 | 4 | X (pool4 address, network order) |
//! | 28 | 4 | Y (remote IPv4 address, network order) |
//! | 32 | 2 | y (0 for ICMP) |
//! | 34 | 2 | reserved, 0 |
//! | 36 | 4 | remaining lifetime in ms |
//!
//! BIB record, [`BIB_RECORD`] bytes:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | protocol |
//! | 1 | 1 | flags: bit 0 = static |
//! | 2 | 2 | reserved, 0 |
//! | 4 | 16 | X' |
//! | 20 | 2 | x' |
//! | 22 | 2 | x |
//! | 24 | 4 | X (network order) |
//! | 28 | 4 | live sessions |

use super::bib::BibEntry;
use super::sessions::SessionEntry;
use super::types::{u32_to_v4, Addr4, Addr6};

/// Bytes of a session record.
pub const SESSION_RECORD: usize = 40;
/// Bytes of a BIB record.
pub const BIB_RECORD: usize = 32;
/// Record flag: the BIB entry is static.
pub const FLAG_STATIC: u8 = 1;

/// A session record, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// Protocol number.
    pub proto: u8,
    /// TCP state number.
    pub state: u8,
    /// Timeout class number.
    pub class: u8,
    /// Flags.
    pub flags: u8,
    /// X'.
    pub addr6: Addr6,
    /// x'.
    pub port6: u16,
    /// x.
    pub port4: u16,
    /// X.
    pub addr4: Addr4,
    /// Y.
    pub remote4: Addr4,
    /// y.
    pub rport: u16,
    /// Reserved field as read (must be 0).
    pub reserved: u16,
    /// Remaining lifetime, ms.
    pub remaining_ms: u32,
}

impl SessionRecord {
    /// The record of session `s` of BIB entry `b`, with `remaining_ms` left.
    pub fn of(b: &BibEntry, s: &SessionEntry, remaining_ms: u32) -> Self {
        SessionRecord {
            proto: b.proto_number(),
            state: s.tcp_state() as u8,
            class: s.timeout_class() as u8,
            flags: if b.is_static() { FLAG_STATIC } else { 0 },
            addr6: b.addr6,
            port6: b.port6,
            port4: b.port4,
            addr4: u32_to_v4(b.addr4),
            remote4: u32_to_v4(s.remote4),
            rport: s.rport,
            reserved: 0,
            remaining_ms,
        }
    }

    /// Writes the record into `out[..SESSION_RECORD]`.
    pub fn write(&self, out: &mut [u8]) {
        out[0] = self.proto;
        out[1] = self.state;
        out[2] = self.class;
        out[3] = self.flags;
        out[4..20].copy_from_slice(&self.addr6);
        out[20..22].copy_from_slice(&self.port6.to_le_bytes());
        out[22..24].copy_from_slice(&self.port4.to_le_bytes());
        out[24..28].copy_from_slice(&self.addr4);
        out[28..32].copy_from_slice(&self.remote4);
        out[32..34].copy_from_slice(&self.rport.to_le_bytes());
        out[34..36].copy_from_slice(&self.reserved.to_le_bytes());
        out[36..40].copy_from_slice(&self.remaining_ms.to_le_bytes());
    }

    /// Reads a record from `b[..SESSION_RECORD]`.
    pub fn read(b: &[u8]) -> Self {
        let mut addr6 = [0u8; 16];
        addr6.copy_from_slice(&b[4..20]);
        SessionRecord {
            proto: b[0],
            state: b[1],
            class: b[2],
            flags: b[3],
            addr6,
            port6: u16::from_le_bytes([b[20], b[21]]),
            port4: u16::from_le_bytes([b[22], b[23]]),
            addr4: [b[24], b[25], b[26], b[27]],
            remote4: [b[28], b[29], b[30], b[31]],
            rport: u16::from_le_bytes([b[32], b[33]]),
            reserved: u16::from_le_bytes([b[34], b[35]]),
            remaining_ms: u32::from_le_bytes([b[36], b[37], b[38], b[39]]),
        }
    }
}

/// Writes the BIB record of `b` into `out[..BIB_RECORD]`.
pub fn write_bib(b: &BibEntry, out: &mut [u8]) {
    out[0] = b.proto_number();
    out[1] = if b.is_static() { FLAG_STATIC } else { 0 };
    out[2..4].fill(0);
    out[4..20].copy_from_slice(&b.addr6);
    out[20..22].copy_from_slice(&b.port6.to_le_bytes());
    out[22..24].copy_from_slice(&b.port4.to_le_bytes());
    out[24..28].copy_from_slice(&u32_to_v4(b.addr4));
    out[28..32].copy_from_slice(&b.sessions().to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_record_round_trips() {
        let r = SessionRecord {
            proto: 0,
            state: 3,
            class: 1,
            flags: FLAG_STATIC,
            addr6: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9],
            port6: 40000,
            port4: 61000,
            addr4: [203, 0, 113, 1],
            remote4: [198, 51, 100, 7],
            rport: 443,
            reserved: 0,
            remaining_ms: 7_000_000,
        };
        let mut buf = [0u8; SESSION_RECORD];
        r.write(&mut buf);
        assert_eq!(SessionRecord::read(&buf), r);
        assert_eq!(&buf[24..28], &[203, 0, 113, 1]);
        assert_eq!(&buf[36..40], &7_000_000u32.to_le_bytes());
    }
}

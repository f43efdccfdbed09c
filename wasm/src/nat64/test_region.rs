//! Test support: an 8-byte aligned heap region sized by a measuring carve.

use super::carve::{Carver, InitError};

/// Backing memory for tables carved in a test.
pub struct Region {
    words: Vec<u64>,
    bytes: usize,
}

impl Region {
    /// A region exactly as large as `layout` needs when run in measuring mode.
    pub fn for_layout(layout: impl FnOnce(&mut Carver<'static>) -> Result<(), InitError>) -> Self {
        let mut m = Carver::measuring();
        layout(&mut m).unwrap();
        Region::with_bytes(m.used())
    }

    /// A region of `bytes` bytes.
    pub fn with_bytes(bytes: usize) -> Self {
        Region { words: vec![0u64; (bytes + 7) / 8], bytes }
    }

    /// The region as bytes.
    pub fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: the vector holds at least `bytes` bytes, u8 has no alignment needs.
        unsafe { core::slice::from_raw_parts_mut(self.words.as_mut_ptr() as *mut u8, self.bytes) }
    }

    /// A carver over the whole region.
    pub fn carver(&mut self) -> Carver<'_> {
        Carver::new(self.bytes()).unwrap()
    }
}
